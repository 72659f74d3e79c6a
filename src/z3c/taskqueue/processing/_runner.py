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
import errno
import logging
import os
import random
import socket
import threading
import time
import traceback

import zope.component
import zope.event
from ZEO.Exceptions import ServerException
from ZODB.POSException import ConflictError

from z3c.taskqueue import events
from z3c.taskqueue import interfaces
from z3c.taskqueue.model import _outcome
from z3c.taskqueue.model import jobcontext
from z3c.taskqueue.model import progress
from z3c.taskqueue.model._outcome import UNAVAILABLE
from z3c.taskqueue.model._servicepath import findService
from z3c.taskqueue.model._timelimit import limited
from z3c.taskqueue.model._timelimit import shieldThread
from z3c.taskqueue.model._timelimit import timeoutOf
from z3c.taskqueue.model.job import utcnow
from z3c.taskqueue.model.retry import jitteredBackoff
from z3c.taskqueue.model.retry import policyFor


log = logging.getLogger('z3c.taskqueue')
# What the old package never logged (see docs/operations.rst).
detail = logging.getLogger('z3c_taskqueue')

# A batch of claimed jobs grows while jobs are this quick (seconds).
QUICK_JOB = 0.05

#: How often a job's commit may fail for the storage, while the storage
#: commits other changes, before the job is failed: a job whose changes
#: this storage refuses (and no other's) would hold its runner forever.
#: Never for a lack of space: that is always the storage's fault.
STORAGE_RETRIES = 3

_NO_SPACE = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)

#: The longest wait for a database that does not answer: a ZEO server
#: that comes back is used within this many seconds.
UNAVAILABLE_WAIT = 5.0

#: How often a runner tries a commit of its own (an outcome, a release)
#: that conflicts before it says so in the log; and how often, once it
#: is asked to stop, before it leaves the jobs to their lease's expiry.
SLOW_COMMIT = 10
STOPPING_TRIES = 10


def owner():
    """Name this thread of this process, as the owner of its leases."""
    return '%s:%d:%s' % (socket.gethostname(), os.getpid(),
                         threading.current_thread().name)


class Abandoned(Exception):
    """The processor gave up on this runner: it must not touch the
    database again."""


class Runner:
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

    def conflicted(self, jobid, lease, task, error, conflicts, started):
        """Back off after a conflict; return True if the job was given
        back to wait (see ``ClaimsMixin._deferConflicted``), once its
        task's ``conflictRetries`` are used up: a conflict is never the
        job's failure."""
        self.tm.abort()
        self.processor.count('conflicts')
        if conflicts <= policyFor(task).conflictRetries:
            self.backOff(jitteredBackoff(conflicts, 0.01, 2.0))
            return False
        formatted = formatException()
        p = self.processor

        def deferConflicted(service):
            service._deferConflicted(
                jobid, lease, _outcome.message(error), formatted, conflicts,
                p.clock(), p.conflictLimit)
        self.commit(deferConflicted, 'give back the conflicting job %r'
                    % jobid, lease)
        return True

    def interrupted(self, error, what):
        """Tell whether ``error``, which ended an attempt to ``what``, is
        no one's failure: the database did not answer, and was waited
        for a little (``unavailable()``); the caller tries again.
        ``Abandoned`` and a stop request are raised again: they end the
        run."""
        if isinstance(error, UNAVAILABLE):
            self.unavailable(what, error)
            return True
        if isinstance(error, Abandoned) or _outcome.isStopRequest(error):
            raise error
        return False

    def atFault(self, error, lease, failures):
        """Tell whether the jobs whose commit failed with ``error`` are to
        blame: only if what they wrote cannot be stored, or if the
        storage refuses their changes, and only theirs, again and again
        (``failures`` times before, and now a renewal of ``lease``
        commits: see ``probe()``).  The connection's cache is reset
        first."""
        self.processor.resetCache(self.connection)
        return _outcome.isDataFault(error) or (
            failures >= STORAGE_RETRIES
            and not noSpace(error)
            and self.probe(lease) is None)

    def unavailable(self, what, error):
        """Abort, and wait a little for a database that does not answer
        (the ZEO server went away, say): not the job's fault; the caller
        tries ``what`` again once the database answers."""
        self.tm.abort()
        self.backOff(min(self.trouble.report(what, error),
                         UNAVAILABLE_WAIT))

    def probe(self, lease):
        """Commit a renewal of ``lease``, which tells whether the storage
        commits at all; return None if it did, else the error."""
        p = self.processor
        try:
            self.tm.begin()
            service = self.service()
            if lease is None:
                # No lease to renew (a shared commit): write the service
                # record, which nothing else writes.
                service._p_changed = True
            else:
                service.renewLease(self.connection.get(lease._p_oid),
                                   p.leaseTime, p.clock())
            self.tm.commit()
            return None
        except BaseException as error:
            self.tm.abort()
            if _outcome.isStopRequest(error):
                raise
            if not isinstance(error, (ConflictError,) + UNAVAILABLE):
                p.resetCache(self.connection)
            return error

    def waitForStorage(self, lease, what, error):
        """Wait, less and less often, until the storage commits again.

        Return True once it does, False if asked to stop first.
        """
        p = self.processor
        while True:
            self.backOff(self.trouble.report(what, error))
            if p.stopping.is_set():
                return False
            error = self.probe(lease)
            if error is None or isinstance(error, ConflictError):
                return True
            if p.storageBroken():
                p.reopen(self.generation)
                self.reconnect()

    def recordFailure(self, jobid, lease, error, formatted=None, retry=None,
                      started=None):
        def record(service):
            if service.failJob(jobid, lease, error, formatted,
                               self.processor.clock(), retry):
                if started is not None:
                    service.jobs[jobid].started = started
        if self.commit(record, 'record the failure of job %r' % jobid,
                       lease):
            self.processor.count('failed')

    def release(self, lease, ids):
        def release(service):
            for jobid in ids:
                service.releaseJob(jobid, lease, self.processor.clock())
        self.commit(release, 'give back the jobs %r' % (ids,), lease)

    def commit(self, change, what, lease):
        """Commit ``change(service)``, retrying conflicts with backoff and
        waiting out a storage that fails.

        Conflicts are retried until the commit succeeds (the lease is
        renewed meanwhile): a conflict never charges a job.  If it cannot
        be committed before a stop, the jobs stay claimed and are
        recovered when their lease expires: they are never lost.
        """
        p = self.processor
        attempt = 0
        while True:
            self.tm.begin()
            try:
                change(self.service())
                self.tm.commit()
                self.trouble.over()
                return True
            except (ConflictError,) + UNAVAILABLE as error:
                self.tm.abort()
                attempt += 1
                if p.stopping.is_set() and attempt >= STOPPING_TRIES:
                    log.error('Processor %s: could not %s before the stop'
                              ' (%s); its lease will expire', p.name, what,
                              _outcome.message(error))
                    return False
                if attempt == SLOW_COMMIT:
                    log.warning('Processor %s: could not %s after %d tries'
                                ' (%s); trying on', p.name, what, attempt,
                                _outcome.message(error))
                self.backOff(jitteredBackoff(attempt, 0.01, 1.0))
            except Exception as error:
                self.tm.abort()
                p.resetCache(self.connection)
                if (_outcome.isDataFault(error) or p.stopping.is_set()
                        or not self.waitForStorage(lease, what, error)):
                    log.error('Processor %s: could not %s: %s; its lease'
                              ' will expire', p.name, what,
                              _outcome.message(error))
                    return False


# What ``Worker.call()`` returns when the job is no longer its own.
_LOST = object()


def noSpace(error):
    """Tell whether ``error`` says that the disk is full, here or on a ZEO
    server."""
    if isinstance(error, OSError):
        return error.errno in _NO_SPACE
    if isinstance(error, ServerException) and len(error.args) == 2:
        name, args = error.args
        return (name in ('builtins.OSError', 'exceptions.OSError')
                and isinstance(args, tuple) and args[:1] and
                args[0] in _NO_SPACE)
    return False


def formatException():
    try:
        return traceback.format_exc()
    except Exception:
        return None
