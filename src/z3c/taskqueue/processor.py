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
import logging
import os
import random
import socket
import threading
import time
import traceback

import transaction
import zope.component
import zope.event
import zope.interface
from transaction.interfaces import TransientError
from ZEO.Exceptions import ClientStorageError
from ZODB.POSException import ConflictError

from z3c.taskqueue import _wakeup
from z3c.taskqueue import events
from z3c.taskqueue import interfaces
from z3c.taskqueue._servicepath import findService
from z3c.taskqueue.job import utcnow
from z3c.taskqueue.retry import jitteredBackoff
from z3c.taskqueue.retry import policyFor


log = logging.getLogger('z3c.taskqueue')

#: Errors of the database, not of a job: a ZEO server that went away or
#: is restarting, say.  The work is tried again once the database answers.
UNAVAILABLE = (TransientError, ClientStorageError)

# A batch of claimed jobs grows while jobs are this quick (seconds).
QUICK_JOB = 0.05


def owner():
    """Name this thread of this process, as the owner of its leases."""
    return '%s:%d:%s' % (socket.gethostname(), os.getpid(),
                         threading.current_thread().name)


class _Worker:
    """One thread's loop: claim jobs, run each, record the outcome."""

    def __init__(self, processor):
        self.processor = processor
        self.batch = 1
        self.nextRecovery = 0
        # Alone, a worker takes the oldest job of all; one of many starts
        # at a queue of its own, so that workers rarely collide.
        self.queue = random.randrange(1 << 30) if processor.spread else None

    def open(self):
        self.tm = transaction.manager.manager   # this thread's own
        self.owner = owner()
        self.connection = self.processor.db.open(transaction_manager=self.tm)

    def __call__(self):
        p = self.processor
        self.open()
        try:
            while not p.stopping.is_set():
                try:
                    worked = self.step()
                except UNAVAILABLE as error:
                    self.tm.abort()
                    log.warning('Processor %s: %s: %s; trying again in'
                                ' %.1f s', p.name, error.__class__.__name__,
                                error, p.waitTime)
                    p.stopping.wait(p.waitTime)
                    continue
                except Exception:
                    self.tm.abort()
                    log.exception('Processor %s: unexpected error; going on'
                                  ' after %.1f s', p.name, p.waitTime)
                    p.stopping.wait(p.waitTime)
                    continue
                if not worked:
                    p.idle(self.seen)
        finally:
            self.tm.abort()
            self.connection.close()

    def service(self):
        return findService(self.connection.root(), self.processor.servicePath)

    def step(self):
        """Claim and run a batch of jobs; return False if none was due."""
        p = self.processor
        self.seen = _wakeup.current()
        self.tm.begin()
        service = self.service()
        now = p.clock()
        if now >= self.nextRecovery:
            self.nextRecovery = now + p.leaseTime / 4
            if service.recoverExpired(now):
                self.commitQuietly()
                self.tm.begin()
                service = self.service()
        if not service.hasJobsWaiting(now):
            self.tm.abort()
            return False
        try:
            lease, ids = service.claimJobs(self.owner, p.leaseTime, now,
                                           self.batch, self.queue)
            self.tm.commit()
        except ConflictError:
            # Someone else took the job: back off and pick again, from
            # another queue, where the others are less likely to be.
            self.tm.abort()
            self.batch = max(1, self.batch // 2)
            if self.queue is not None:
                self.queue = random.randrange(1 << 30)
            p.count('conflicts')
            p.stopping.wait(jitteredBackoff(1, 0.01, 0.5))
            return True
        if not ids:
            return False
        self.runBatch(lease, ids)
        return True

    def runBatch(self, lease, ids):
        p = self.processor
        p.keeper.add(lease)
        started = time.monotonic()
        try:
            for done, jobid in enumerate(ids):
                if p.stopping.is_set():
                    self.release(lease, ids[done:])
                    return
                self.run(jobid, lease)
        finally:
            p.keeper.remove(lease)
        average = (time.monotonic() - started) / len(ids)
        if average >= QUICK_JOB:
            self.batch = 1
        elif len(ids) == self.batch:
            self.batch = min(self.batch * 2, p.batchSize)

    def run(self, jobid, lease):
        """Run one claimed job until its outcome is committed."""
        p = self.processor
        conflicts = 0
        while True:
            self.tm.begin()
            service = self.service()
            job = service._claimedJob(jobid, lease)
            if job is None:
                self.tm.abort()
                return
            task = zope.component.queryUtility(service.taskInterface,
                                               job.task)
            if task is None:
                self.recordFailure(jobid, lease, 'no task is registered under'
                                   ' the name %r' % (job.task,), retry=False)
                return
            job.started = started = utcnow()
            zope.event.notify(events.JobStarted(job, service))
            try:
                output = task(service, jobid, job.input)
                if not service.completeJob(jobid, lease, output, p.clock()):
                    self.tm.abort()
                    return
                self.tm.commit()
                p.count('processed')
                return
            except ConflictError as error:
                self.tm.abort()
                conflicts += 1
                p.count('conflicts')
                limit = policyFor(task).conflictRetries
                if conflicts > limit:
                    self.recordFailure(
                        jobid, lease, 'gave up after %d conflicts: %s'
                        % (conflicts, error), traceback.format_exc(),
                        retry=False, started=started)
                    return
                time.sleep(jitteredBackoff(conflicts, 0.01, 2.0))
            except UNAVAILABLE as error:
                # Not the job's fault (the ZEO server went away, say): run
                # it again once the database answers.  If we stop first,
                # the job stays claimed until its lease expires.
                self.tm.abort()
                log.warning('Processor %s: job %r: %s: %s; trying again',
                            p.name, jobid, error.__class__.__name__, error)
                if p.stopping.wait(p.waitTime):
                    return
            except Exception as error:
                formatted = traceback.format_exc()
                self.tm.abort()
                self.recordFailure(jobid, lease, error, formatted,
                                   started=started)
                return

    def recordFailure(self, jobid, lease, error, formatted=None, retry=None,
                      started=None):
        def record(service):
            if service.failJob(jobid, lease, error, formatted,
                               self.processor.clock(), retry):
                if started is not None:
                    service.jobs[jobid].started = started
        if self.retryOnConflict(record,
                                'record the failure of job %r' % jobid):
            self.processor.count('failed')

    def release(self, lease, ids):
        def release(service):
            for jobid in ids:
                service.releaseJob(jobid, lease, self.processor.clock())
        self.retryOnConflict(release, 'release jobs %r' % (ids,))

    def retryOnConflict(self, change, what, attempts=10):
        """Commit ``change(service)``, retrying conflicts with backoff.

        If it cannot be committed, the job stays claimed and is recovered
        when its lease expires: it is never lost.
        """
        for attempt in range(attempts):
            self.tm.begin()
            try:
                change(self.service())
                self.tm.commit()
                return True
            except UNAVAILABLE:
                # A conflict, or a database that does not answer now.
                self.tm.abort()
                time.sleep(jitteredBackoff(attempt, 0.01, 1.0))
        log.error('Processor %s: could not %s after %d conflicts; its lease'
                  ' will expire', self.processor.name, what, attempts)
        return False

    def commitQuietly(self):
        try:
            self.tm.commit()
        except ConflictError:
            self.tm.abort()


class _LeaseKeeper:
    """Renews the leases of running jobs, coarsely, in a thread of its own.

    It writes only while jobs run longer than a third of the lease time:
    an idle processor writes nothing.
    """

    def __init__(self, processor):
        self.processor = processor
        self.leases = {}
        self.lock = threading.Lock()
        self.thread = None

    def add(self, lease):
        with self.lock:
            self.leases[lease._p_oid] = lease.expires

    def remove(self, lease):
        with self.lock:
            self.leases.pop(lease._p_oid, None)

    def start(self):
        self.thread = threading.Thread(
            target=self.run, name=self.processor.name + '.leases',
            daemon=True)
        self.thread.start()

    def run(self):
        p = self.processor
        tm = transaction.manager.manager
        connection = p.db.open(transaction_manager=tm)
        try:
            while not p.stopping.wait(p.leaseTime / 6):
                try:
                    self.renewDue(connection, tm)
                except UNAVAILABLE as error:
                    tm.abort()
                    log.warning('Processor %s: could not renew leases: %s',
                                p.name, error)
                except Exception:
                    tm.abort()
                    log.exception('Processor %s: could not renew leases',
                                  p.name)
        finally:
            tm.abort()
            connection.close()

    def renewDue(self, connection, tm):
        p = self.processor
        now = p.clock()
        with self.lock:
            due = [oid for oid, expires in self.leases.items()
                   if expires - now < p.leaseTime * 2 / 3]
        if not due:
            return
        tm.begin()
        service = findService(connection.root(), p.servicePath)
        renewed = {}
        for oid in due:
            lease = connection.get(oid)
            service.renewLease(lease, p.leaseTime, now)
            renewed[oid] = lease.expires
        try:
            tm.commit()
        except ConflictError:
            tm.abort()
            return
        with self.lock:
            for oid, expires in renewed.items():
                if oid in self.leases:
                    self.leases[oid] = expires


@zope.interface.implementer(interfaces.IProcessor)
class SimpleProcessor:
    """Runs a service's jobs in one thread: the one that calls it."""

    threads = 1

    def __init__(self, db, servicePath, waitTime=1.0, leaseTime=60.0,
                 batchSize=16, stopTimeout=30.0, name=None, clock=time.time,
                 spread=False):
        self.db = db
        self.spread = spread
        self.clock = clock
        self.servicePath = servicePath
        self.waitTime = waitTime
        self.leaseTime = leaseTime
        self.batchSize = batchSize
        self.stopTimeout = stopTimeout
        self.name = name or 'taskqueue.' + _pathName(servicePath)
        self.stopping = threading.Event()
        self.keeper = _LeaseKeeper(self)
        self.processed = 0
        self.failed = 0
        self.conflicts = 0
        self.idlePolls = 0
        self._running = False
        self._countLock = threading.Lock()

    @property
    def running(self):
        return self._running

    def __call__(self):
        self._running = True
        self.stopping.clear()
        self.keeper.start()
        try:
            self.work()
        finally:
            self._running = False
            self.keeper.thread.join()

    def work(self):
        _Worker(self)()

    def count(self, counter):
        """Add one to ``counter``: processed, failed or conflicts."""
        with self._countLock:
            setattr(self, counter, getattr(self, counter) + 1)

    def stop(self):
        self.stopping.set()
        _wakeup.notify()

    def idle(self, seen):
        """Wait for a job: a commit in this process wakes us at once."""
        self.idlePolls += 1
        _wakeup.wait(seen, self.waitTime)


class MultiProcessor(SimpleProcessor):
    """Runs a service's jobs in up to ``maxThreads`` threads.

    Each thread has its own connection and claims its own jobs.
    """

    def __init__(self, db, servicePath, waitTime=1.0, maxThreads=5,
                 **kw):
        kw.setdefault('spread', True)
        super().__init__(db, servicePath, waitTime, **kw)
        self.threads = maxThreads

    def work(self):
        workers = [threading.Thread(target=_Worker(self),
                                    name='%s.%d' % (self.name, number),
                                    daemon=True)
                   for number in range(1, self.threads + 1)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()


def _pathName(servicePath):
    if isinstance(servicePath, str):
        return servicePath
    return '.'.join(servicePath)


# The processors running in this process, by thread name.
_threads = {}
_threadsLock = threading.Lock()


def start(processor):
    """Run ``processor`` in a daemon thread named after it, unless a
    processor of that name runs already."""
    with _threadsLock:
        running = _threads.get(processor.name)
        if running is not None and running[0].is_alive():
            return False
        thread = threading.Thread(target=processor, name=processor.name,
                                  daemon=True)
        _threads[processor.name] = (thread, processor)
        thread.start()
        log.info('Started processor %s', processor.name)
        return True


def stop(name, timeout=None):
    """Stop the processor running in thread ``name`` and wait for it.

    Return True if it stopped (or none was running) within ``timeout``
    seconds, by default the processor's ``stopTimeout``.
    """
    with _threadsLock:
        running = _threads.pop(name, None)
    if running is None:
        return True
    thread, processor = running
    processor.stop()
    thread.join(processor.stopTimeout if timeout is None else timeout)
    if thread.is_alive():
        log.warning('Processor %s is still finishing a job', name)
        return False
    log.info('Stopped processor %s', name)
    return True


def isRunning(name):
    """Tell whether a processor runs in thread ``name``."""
    with _threadsLock:
        running = _threads.get(name)
    return running is not None and running[0].is_alive()


def stopAll(timeout=None):
    """Stop every processor running in this process (for tests)."""
    with _threadsLock:
        names = list(_threads)
    return all([stop(name, timeout) for name in names])
