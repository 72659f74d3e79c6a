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
"""Runners: threads that run claimed jobs until their outcome is committed.

Nothing a job does stops a runner.  Whatever a task raises (``SystemExit``
included) is the job's failure; a conflict is retried; an unavailable
database or a storage that cannot commit (a full disk) is waited out,
without charging the job, and logged once per distinct error.  Only a
stop, or a ``KeyboardInterrupt`` or ``SystemExit`` in the main thread
(a signal), ends a run early.
"""
import contextlib
import logging
import os
import random
import socket
import threading
import time

import zope.component
import zope.event
from ZODB.POSException import ConflictError

from z3c.taskqueue import events
from z3c.taskqueue import interfaces
from z3c.taskqueue.model import _outcome
from z3c.taskqueue.model import jobcontext
from z3c.taskqueue.model import progress
from z3c.taskqueue.model._servicepath import findService
from z3c.taskqueue.model._timelimit import limited
from z3c.taskqueue.model._timelimit import shieldThread
from z3c.taskqueue.model._timelimit import timeoutOf
from z3c.taskqueue.model.job import utcnow
from z3c.taskqueue.processing._committing import Abandoned
from z3c.taskqueue.processing._committing import CommittingMixin
from z3c.taskqueue.processing._committing import formatException


log = logging.getLogger('z3c.taskqueue')
# What the old package never logged (see docs/operations.rst).
detail = logging.getLogger('z3c_taskqueue')

# A batch of claimed jobs grows while jobs are this quick (seconds).
QUICK_JOB = 0.05


def owner():
    """Name this thread of this process, as the owner of its leases."""
    return '%s:%d:%s' % (socket.gethostname(), os.getpid(),
                         threading.current_thread().name)


class Runner(CommittingMixin):
    """Runs batches of claimed jobs, each until its outcome is committed,
    with a connection of its own.

    ``lock`` is held whenever the runner uses the database, except while
    a task runs: ``abandon()`` takes it, so that a runner whose job
    outlived the stop timeout never writes again.  ``batch`` is how many
    jobs it takes at once: it grows while jobs are quick.
    """

    def __init__(self, processor):
        self.processor = processor
        self.batch = 1
        self.nextRecovery = 0
        self.nextExpiry = 0
        # Alone, a worker takes the oldest job of all; one of many starts
        # at a queue of its own, so that workers rarely collide.
        self.queue = random.randrange(1 << 30) if processor.spread else None
        self.lock = threading.Lock()
        self.abandoned = False
        self.trouble = processor.trouble
        self.seen = None
        self.connection = None
        self.serviceOid = None
        # The job whose task runs now, if any.
        self.current = None
        # The leases of the batches run, for the next claim to retire.
        self.finished = []
        # How many batchable jobs a shared commit takes: the batch size,
        # less after conflicts; and whether the next claim leaves them to
        # a shared commit (not after shared commits kept conflicting).
        self.shared = processor.batchSize
        self.claimShared = True

    def abandon(self):
        """Make sure the worker never uses the database again; wait until
        it is not using it now."""
        with self.lock:
            self.abandoned = True

    @contextlib.contextmanager
    def unlocked(self):
        """Let go of the database while the task runs."""
        self.lock.release()
        try:
            yield
        finally:
            self.lock.acquire()
            if self.abandoned:
                raise Abandoned()

    def open(self):
        """Open the worker's connection, in this thread, and load the
        service and its indexes: the first job starts as soon as the
        next ones."""
        self.tm = shieldThread()   # this thread's own, shielded
        self.owner = owner()
        self.generation, self.connection = self.processor.connect(self.tm)
        try:
            self.tm.begin()
            service = self.service()
            service._claims._byJob._p_activate()
            service.jobs._p_activate()
        except Exception:
            pass    # the claims say what is wrong, and wait it out
        finally:
            self.tm.abort()

    def reconnect(self):
        """Open a new connection if the processor reopened the database.
        """
        p = self.processor
        if self.generation != p.generation:
            p.disconnect(self.connection, self.tm)
            self.generation, self.connection = p.connect(self.tm)

    def close(self):
        if not self.abandoned and self.connection is not None:
            self.processor.disconnect(self.connection, self.tm)
            self.connection = None

    def backOff(self, seconds):
        """Wait ``seconds``, less if asked to stop; the database is let go
        meanwhile."""
        with self.unlocked():
            self.processor.stopping.wait(seconds)

    def service(self):
        service = findService(self.connection.root(),
                              self.processor.servicePath)
        self.serviceOid = service._p_oid
        return service

    def flushProgress(self, jobid):
        """Commit the progress job ``jobid`` reported last, if it was not
        committed yet (see ``progress``)."""
        if self.serviceOid is not None:
            progress.flush(self.connection.db(), self.serviceOid, jobid)

    def runBatch(self, lease, ids):
        p = self.processor
        p.keeper.add(lease)
        started = time.monotonic()
        self.finished.append(lease)
        try:
            for done, jobid in enumerate(ids):
                if p.stopping.is_set():
                    self.release(lease, ids[done:])
                    return
                try:
                    finished = self.run(jobid, lease)
                    self.flushProgress(jobid)
                except Abandoned:
                    raise
                except BaseException as error:
                    # A stop request, or the database failed to load the
                    # job: give back this job and the rest.
                    self.tm.abort()
                    if _outcome.isStopRequest(error):
                        p.stop()
                    self.release(lease, ids[done:])
                    raise
                if not finished:
                    # Asked to stop while the storage failed: the jobs
                    # wait for their lease to expire, or for release.
                    self.release(lease, ids[done:])
                    return
        finally:
            p.keeper.remove(lease)
        average = (time.monotonic() - started) / len(ids)
        if average >= QUICK_JOB:
            self.batch = 1
        elif len(ids) == self.batch:
            self.batch = min(self.batch * 2, p.batchSize)

    def run(self, jobid, lease):
        """Run one claimed job until its outcome is committed.

        Return False if the outcome could not be committed before a stop.
        """
        p = self.processor
        conflicts = storageFailures = 0
        while True:
            self.tm.begin()
            service = self.service()
            job = service._claimedJob(jobid, lease)
            if job is None:
                self.tm.abort()
                return True
            task = zope.component.queryUtility(service.taskInterface,
                                               job.task)
            if task is None:
                self.recordFailure(jobid, lease, 'no task is registered under'
                                   ' the name %r' % (job.task,), retry=False)
                return True
            started = utcnow()
            committing = False
            try:
                output = self.call(service, job, task, lease, started)
                if output is _LOST:
                    self.tm.abort()
                    return True
                committing = True
                if not service.completeJob(jobid, lease, output, p.clock()):
                    self.tm.abort()
                    return True
                self.tm.commit()
            except ConflictError as error:
                conflicts += 1
                if self.conflicted(jobid, lease, task, error, conflicts,
                                   started):
                    return True
                continue
            except BaseException as error:
                if self.interrupted(error, 'run job %r' % jobid):
                    continue
                formatted = formatException()
                self.tm.abort()
                if not committing:
                    # The task raised: the job's failure.
                    self.recordFailure(jobid, lease, error, formatted,
                                       started=started)
                    return True
                # The commit failed.
                if self.atFault(error, lease, storageFailures):
                    self.recordFailure(
                        jobid, lease, 'its changes cannot be committed: %s'
                        % _outcome.message(error), formatted,
                        retry=False, started=started)
                    return True
                storageFailures += 1
                if not self.waitForStorage(lease, 'commit job %r' % jobid,
                                           error):
                    return False
                continue
            p.count('processed')
            self.trouble.over()
            detail.debug('Job %r (task %r) completed', jobid, job.task)
            return True

    def call(self, service, job, task, lease, started):
        """Call ``task`` for ``job``; return its output, once it is known
        to be storable, or ``_LOST`` if the job's claim was lost."""
        txn = self.tm.get()
        jobid = job.id
        output = self.runTask(service, job, task, started)
        if self.tm.get() is not txn:
            # The task committed or aborted: its claim was committed
            # before it started, so the job is ours still, unless the
            # lease expired meanwhile.
            job = service._claimedJob(jobid, lease)
            if job is None:
                return _LOST
            job.started = started
        if self.tm.get().isDoomed():
            raise interfaces.TaskError(
                'the task doomed the transaction of its job: nothing it did'
                ' can be committed')
        _outcome.checkOutput(job, output)
        return output

    def runTask(self, service, job, task, started):
        """Start ``job`` at ``started`` and return what ``task`` returns
        for it: in the job's context (``jobcontext``), with the database
        let go, and within the job's time limit (``timeoutOf()``)."""
        jobid = job.id
        job.started = started
        zope.event.notify(events.JobStarted(job, service))
        input = _outcome.runnableInput(job)
        with jobcontext.entered(job, task, self.connection,
                                self.processor.baseURL):
            with self.unlocked():
                self.current = jobid
                try:
                    with limited(timeoutOf(job, task), jobid):
                        return task(service, jobid, input)
                finally:
                    self.current = None


# What ``Worker.call()`` returns when the job is no longer its own.
_LOST = object()
