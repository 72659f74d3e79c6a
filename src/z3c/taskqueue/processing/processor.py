##############################################################################
#
# Copyright (c) 2026 Zope Foundation and Contributors.
# All Rights Reserved.
#
# This software is subject to the provisions of the Zope Public License,
# Version 2.1 (ZPL).  A copy of the ZPL should accompany this distribution.
# THIS SOFTWARE IS PROVIDED "AS IS" AND ANY AND ALL EXPRESS OR IMPLIED
# WARRANTIES ARE DISCLAIMED, INCLUDING, BUT NOT LIMITED TO, THE IMPLIED
# WARRANTIES OF TITLE, MERCHANTABILITY, AGAINST INFRINGEMENT, AND FITNESS
# FOR A PARTICULAR PURPOSE.
#
##############################################################################
"""Processors: worker threads that run a service's jobs, one job a commit."""
import contextlib
import logging
import threading
import time

import transaction
import zope.interface
from ZODB.POSException import ConflictError
from ZODB.utils import z64

from z3c.taskqueue import interfaces
from z3c.taskqueue.model import _wakeup
from z3c.taskqueue.model import workers
from z3c.taskqueue.model._numbers import isInteger
from z3c.taskqueue.model._numbers import isNumber
from z3c.taskqueue.model._outcome import Trouble
from z3c.taskqueue.model._outcome import UNAVAILABLE
from z3c.taskqueue.model._outcome import message
from z3c.taskqueue.model._servicepath import findService
from z3c.taskqueue.model._servicepath import pathName
from z3c.taskqueue.model.queues import checkName
from z3c.taskqueue.processing._dispatcher import Dispatcher
from z3c.taskqueue.processing._dispatcher import serve
from z3c.taskqueue.processing._leasekeeper import LeaseKeeper
from z3c.taskqueue.processing._runner import Runner
from z3c.taskqueue.processing._runner import owner  # noqa: F401 (API)
from z3c.taskqueue.processing._threads import isRunning  # noqa: F401 (API)
from z3c.taskqueue.processing._threads import start  # noqa: F401 (API)
from z3c.taskqueue.processing._threads import stop  # noqa: F401 (API)
from z3c.taskqueue.processing._threads import stopAll  # noqa: F401 (API)
from z3c.taskqueue.processing._worker import Worker


log = logging.getLogger('z3c.taskqueue')
# What the old package never logged (see docs/operations.rst).
detail = logging.getLogger('z3c_taskqueue')

# Processors of one database resize its pool one at a time.
_poolLock = threading.Lock()

#: Kept from the old package, whose tests waited this long for a thread
#: to start.  Nothing here waits for it: wait for a condition instead.
THREAD_STARTUP_WAIT = 0.05

#: The ranges of the processors' arguments, and of the options of the
#: ``z3c-taskqueue worker`` command that set them: (low, high, integer).
LIMITS = {
    # 0 polls without a pause, as the old package's tests did.
    'waitTime': (0, 3600, False),
    # Renewed every sixth of it: shorter leases would mostly renew.
    'leaseTime': (0.1, 86400, False),
    'stopTimeout': (0, 86400, False),
    'batchSize': (1, 1000, True),
    'batchTime': (0.001, 60, False),
    'maxThreads': (1, 256, True),
    # Seconds between a worker's heartbeats (0: none; see ``workers``).
    'heartbeat': (0, 86400, False),
    # The process pool's (``worker --processes``), not a processor's.
    'killGrace': (0, 3600, False),
}


def checkArgument(name, value):
    """Return ``value`` if it is in the range of argument ``name``.

    Raise ``ValueError`` naming the argument, its range and the value
    otherwise: a negative, infinite or NaN time, a count that is not a
    positive integer.
    """
    low, high, integer = LIMITS[name]
    if integer:
        good = isInteger(value, low, high)
        kind = 'an integer'
    else:
        good = isNumber(value, low, high)
        kind = 'a number of seconds'
    if not good:
        raise ValueError('%s must be %s from %s to %s, not %r'
                         % (name, kind, low, high, value))
    return value


def checkQueues(names):
    """Return the list of queue names ``names``, checked, or None (all
    queues); raise ``ValueError`` naming what is wrong."""
    if names is None:
        return None
    if isinstance(names, str):
        raise ValueError('queues must be a list of queue names, not the'
                         ' string %r' % (names,))
    try:
        names = list(names)
    except TypeError:
        raise ValueError('queues must be a list of queue names, not %r'
                         % (names,)) from None
    if not names:
        raise ValueError('queues must name at least one queue (None serves'
                         ' all)')
    return [checkName(name) for name in names]


@zope.interface.implementer(interfaces.IProcessor)
class SimpleProcessor:
    """Runs a service's jobs in one thread: the one that calls it."""

    def __init__(self, db, servicePath, waitTime=1.0, leaseTime=60.0,
                 batchSize=100, stopTimeout=30.0, name=None, clock=time.time,
                 spread=False, reopen=None, baseURL=None, queues=None,
                 batchTime=0.5, heartbeat=workers.INTERVAL):
        self.db = db
        self.spread = spread
        self.queues = checkQueues(queues)
        self.clock = clock
        self.servicePath = servicePath
        self.waitTime = checkArgument('waitTime', waitTime)
        self.leaseTime = checkArgument('leaseTime', leaseTime)
        self.batchSize = checkArgument('batchSize', batchSize)
        self.batchTime = checkArgument('batchTime', batchTime)
        self.stopTimeout = checkArgument('stopTimeout', stopTimeout)
        self.heartbeat = checkArgument('heartbeat', heartbeat)
        self.reopenDatabase = reopen
        self.baseURL = baseURL
        self.generation = 0
        self.name = name or 'taskqueue.' + pathName(servicePath)
        self.stopping = threading.Event()
        # Shared by the threads: what keeps failing is said once.
        self.trouble = Trouble(log, 'Processor %s' % self.name)
        self.keeper = LeaseKeeper(self)
        self.workers = []
        self.processed = 0
        self.failed = 0
        self.conflicts = 0
        self.idlePolls = 0
        self._running = False
        self._countLock = threading.Lock()
        self._dbLock = threading.Lock()
        self._claims = {}

    @property
    def running(self):
        return self._running

    #: How long (seconds) a job whose commit conflicts on every try,
    #: and which is given back to wait again each time, is tried before
    #: it ends in ``error``, naming its conflicts.
    conflictLimit = 3600.0

    #: How many connections the processor opens at most: its threads',
    #: and one to give jobs back after a stop timed out.
    connections = 3

    def __call__(self):
        self._running = True
        self.stopping.clear()
        grown = self._growPool(self.connections)
        self.keeper.start()
        try:
            self.work()
        finally:
            self._running = False
            self.stopping.set()     # the lease keeper stops too
            self.keeper.thread.join()
            self._growPool(-grown)

    def _growPool(self, count):
        """Make room in the database's connection pool for ``count`` more
        connections, so that the application's own stay within their
        pool (and ZODB warns of none); return ``count``."""
        with _poolLock:
            try:
                self.db.setPoolSize(self.db.getPoolSize() + count)
            except Exception as error:
                detail.debug('Processor %s: cannot resize the pool: %s',
                             self.name, message(error))
                return 0
        return count

    def work(self):
        worker = Worker(self)
        self.workers = [worker]
        worker()

    # The old processor API: one step at a time, in the calling thread.

    def hasJobsWaiting(self):
        """Tell whether a job is due now."""
        with self._session() as worker:
            worker.tm.begin()
            try:
                return worker.service().hasJobsWaiting(self.clock())
            finally:
                worker.tm.abort()

    def claimNextJob(self):
        """Claim the next due job, in a commit of its own; return its id,
        or None if none is due.  ``processNext(jobid)`` runs it."""
        with self._session() as worker:
            claimed = worker.claim([worker], shared=False)
        if not claimed:
            return None
        unused, lease, (jobid,) = claimed[0]
        self._claims[jobid] = lease
        return jobid

    def processNext(self, jobid=None):
        """Run the next due job, or job ``jobid``, in this thread, as a
        processor thread would; return True if a job ran.

        This thread's transaction begins anew.  A ``jobid`` that was not
        claimed with ``claimNextJob()`` is claimed and run in one
        transaction, as ``ITaskService.processNext()`` does.
        """
        with self._session() as worker:
            if jobid is None:
                claimed = worker.claim([worker], shared=False)
                if not claimed:
                    return False
                unused, lease, ids = claimed[0]
            elif jobid in self._claims:
                lease, ids = self._claims.pop(jobid), [jobid]
            else:
                worker.tm.begin()
                ran = worker.service().processNext(self.clock(), jobid)
                worker.tm.commit()
                return ran
            worker.runBatch(lease, ids)
            worker.commit(lambda service: service.retireLease(
                worker.connection.get(lease._p_oid)), 'retire a lease', lease)
            return True

    @contextlib.contextmanager
    def _session(self):
        worker = Worker(self)
        worker.queue = None     # the oldest job of all, as before
        with worker.lock:
            worker.open()
            try:
                yield worker
            finally:
                worker.close()

    def connect(self, tm):
        """Open a connection with the transaction manager ``tm``; return
        the database generation it belongs to, and the connection."""
        with self._dbLock:
            return self.generation, self.db.open(transaction_manager=tm)

    def disconnect(self, connection, tm):
        """Abort and close ``connection``, whatever state it is in."""
        try:
            tm.abort()
            connection.close()
        except Exception as error:
            detail.debug('Processor %s: closing a connection: %s',
                         self.name, message(error))

    def resetCache(self, connection):
        """Forget what the cache of ``connection`` holds.

        After a commit failed in the storage, the cache can hold objects
        that the storage never stored: a new object keeps the oid it was
        given, which the storage may give again.
        """
        reset = getattr(connection, '_resetCache', None)
        if reset is not None and connection.transaction_manager is not None:
            reset()

    def storageBroken(self):
        """Tell whether the storage fails even to read (a FileStorage
        closes itself when it fails to finish a commit)."""
        try:
            self.db.storage.load(z64)
            return False
        except UNAVAILABLE:
            return False
        except Exception:
            return True

    def reopen(self, generation):
        """Replace the database of ``generation`` by a new one, with the
        ``reopen`` function given, if it was not replaced already.

        Threads open new connections once they see the new generation.
        """
        with self._dbLock:
            if generation != self.generation:
                return
            if self.reopenDatabase is None:
                log.critical('Processor %s: the storage is broken and this'
                             ' processor cannot reopen it: restart the'
                             ' process', self.name)
                self.generation += 1    # say it once
                return
            log.warning('Processor %s: the storage is broken: reopening the'
                        ' database', self.name)
            old = self.db
            try:
                self.db = self.reopenDatabase()
            except Exception as error:
                log.error('Processor %s: could not reopen the database: %s',
                          self.name, message(error))
                return
            self.generation += 1
        try:
            old.close()
        except Exception as error:
            detail.debug('Processor %s: closing the broken database: %s',
                         self.name, message(error))

    def abandon(self):
        """Give up on the jobs still running after a stop timed out.

        Each worker is made sure never to write again (a late result is
        discarded), and the jobs of their batches are recovered at once,
        in a connection of our own: the running ones, charged an attempt,
        and the others, not started, wait again for other workers.
        Return the ids of the jobs recovered.
        """
        for worker in self.workers:
            worker.abandon()
        self.stopping.set()
        if self.keeper.thread is not None:
            self.keeper.thread.join(5)
        held = self.keeper.held()
        if not held:
            return []
        tm = transaction.TransactionManager()
        unused, connection = self.connect(tm)
        try:
            for attempt in range(10):
                try:
                    tm.begin()
                    service = findService(connection.root(), self.servicePath)
                    recovered = []
                    for oid in held:
                        recovered += service.abandonLease(
                            connection.get(oid), self.clock())
                    tm.commit()
                    return recovered
                except ConflictError:
                    tm.abort()
        except Exception as error:
            log.error('Processor %s: could not give back the running jobs:'
                      ' %s; their leases will expire', self.name,
                      message(error))
        finally:
            self.disconnect(connection, tm)
        return []

    def runningJobs(self):
        """Return the ids of the jobs this processor's threads run now."""
        return sorted(worker.current for worker in self.workers
                      if getattr(worker, 'current', None) is not None)

    def count(self, counter, number=1):
        """Add ``number`` to ``counter``: processed, failed or conflicts."""
        with self._countLock:
            setattr(self, counter, getattr(self, counter) + number)

    def stop(self):
        self.stopping.set()
        _wakeup.notify()

    def idle(self, seen):
        """Wait for a job: a commit in this process wakes us at once."""
        self.idlePolls += 1
        _wakeup.wait(seen, self.waitTime)


class MultiProcessor(SimpleProcessor):
    """Runs a service's jobs in up to ``maxThreads`` threads.

    The processor's thread claims jobs (see ``_dispatcher``) and hands
    them to runner threads, each with a connection of its own.  It claims
    the oldest jobs first; with ``spread=True`` (as the
    ``z3c-taskqueue worker`` command sets it) each runner takes from a
    queue of its own, so that the processors of several processes on one
    database rarely claim the same job.
    """

    def __init__(self, db, servicePath, waitTime=1.0, maxThreads=5,
                 **kw):
        super().__init__(db, servicePath, waitTime, **kw)
        self.maxThreads = checkArgument('maxThreads', maxThreads)
        self._runnerThreads = []
        # The runners', the dispatcher's, the lease keeper's, and one.
        self.connections = self.maxThreads + 3

    @property
    def threads(self):
        """The runner threads that are alive."""
        return [thread for thread in self._runnerThreads if thread.is_alive()]

    def work(self):
        runners = [Runner(self) for number in range(self.maxThreads)]
        dispatcher = Dispatcher(self, runners)
        self.workers = runners + [dispatcher]
        self._runnerThreads = [
            threading.Thread(target=serve, args=(runner, dispatcher),
                             name='%s.%d' % (self.name, number + 1),
                             daemon=True)
            for number, runner in enumerate(runners)]
        for thread in self._runnerThreads:
            thread.start()
        try:
            dispatcher()
        finally:
            dispatcher.stopRunners()
            for thread in self._runnerThreads:
                thread.join()
