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
"""Running: a job's run in the caller's transaction, and how it ends."""
import logging
import time
import traceback

import zope.component
import zope.event
from ZODB.POSException import ConflictError

from z3c.taskqueue import events
from z3c.taskqueue import interfaces
from z3c.taskqueue.model import _outcome
from z3c.taskqueue.model import progress
from z3c.taskqueue.model._migration import migrated
from z3c.taskqueue.model._timelimit import limited
from z3c.taskqueue.model._timelimit import timeoutOf
from z3c.taskqueue.model.job import assign
from z3c.taskqueue.model.job import utcnow


log = logging.getLogger('z3c.taskqueue')

#: The statuses from which ``processNext(jobid=...)`` may run a job.
RUNNABLE = (interfaces.QUEUED, interfaces.STARTLATER, interfaces.CRONJOB,
            interfaces.DELAYED)


class RunningMixin:
    """The part of the task service that runs jobs in the caller's
    transaction (``processNext()``) and records how each run ended.

    Whatever the task does, the job ends once: a task may raise any
    exception, abort, commit or doom the transaction, or return what
    cannot be stored; the job's own bookkeeping is put right afterwards
    and the job ends ``completed`` or ``error``.
    """

    @migrated
    def processNext(self, now=None, jobid=None):
        if now is None:
            now = time.time()
        if jobid is None:
            jobid = self.claimNextJob(now)
            if jobid is None:
                return False
        else:
            job = self.jobs[jobid]
            if self._expired(job, now):
                self._expire(job)
                return False
            self._claim(job)
        self._run(self.jobs[jobid], now)
        return True

    def _claim(self, job):
        status = self._statusOf(job)
        if status not in RUNNABLE:
            raise ValueError('job %r is %s: it cannot be processed'
                             % (job.id, status))
        self._markProcessing(job)

    def _markProcessing(self, job):
        """Take ``job`` out of the queue or schedule it waits in."""
        self._unindex(job)
        self._setStatus(job, interfaces.PROCESSING)

    def _run(self, job, now):
        manager = self._transactionManager()
        txn = manager.get()
        job.attempts += 1
        job.started = utcnow()
        claim = (job.id, job.attempts, job.started)
        zope.event.notify(events.JobStarted(job, self))
        task = zope.component.queryUtility(self.taskInterface, job.task)
        if task is None:
            self._finish(job, now, error='no task is registered under the'
                         ' name %r' % (job.task,))
            log.error('Job %r: no task is registered under the name %r',
                      job.id, job.task)
            return
        savepoint = manager.savepoint(optimistic=True)
        try:
            with limited(timeoutOf(job, task), job.id):
                output = task(self, job.id, _outcome.runnableInput(job))
            if txn.isDoomed():
                raise interfaces.TaskError(
                    'the task doomed the transaction of its job: nothing it'
                    ' did can be committed')
            _outcome.checkOutput(job, output)
            # Pickle what the task wrote now, so that what cannot be
            # stored fails the job instead of the caller's commit.
            manager.savepoint(optimistic=True)
        except ConflictError:
            raise
        except BaseException as error:
            if _outcome.isStopRequest(error):
                raise
            formatted = traceback.format_exc()
            job = self._undoRun(manager, txn, savepoint, claim)
            if job is not None:
                self._recordFailure(job, now, error, formatted, retry=False)
            return
        job = self._redoClaim(manager, txn, claim)
        if job is not None:
            self._finish(job, now, output=output)
        if self._p_jar is not None:
            progress.flush(self._p_jar.db(), self._p_oid, claim[0], self)

    def _undoRun(self, manager, txn, savepoint, claim):
        """Roll back what a failed task wrote; return its job, claimed."""
        if manager.get() is txn and not txn.isDoomed():
            try:
                savepoint.rollback()
                return self.jobs[claim[0]]
            except Exception:
                pass    # the savepoint is no longer valid: abort below
        # The task ended or doomed the transaction: what is left in it was
        # written by the task, or cannot be committed anyway.
        manager.abort()
        return self._redoClaim(manager, None, claim)

    def _redoClaim(self, manager, txn, claim):
        """Return the claimed job; claim it again if the task aborted the
        transaction that claimed it.  None if the job itself is gone (it
        was added in that transaction)."""
        jobid, attempts, started = claim
        job = self.jobs.get(jobid)
        if job is None:
            return None
        if manager.get() is not txn:
            self._markProcessing(job)
            job.attempts = attempts
            job.started = started
        return job

    def _finish(self, job, now, output=None, error=None, traceback=None,
                deferred=False, leased=False):
        """Record the end of the run of ``job``: ``completed`` with
        ``output``, or ``error``; a cron job is scheduled again.

        With ``deferred``, a finished job is not put in the status index:
        the caller does that, for many jobs at once.  ``leased`` says
        that a lease's retirement looks at its dependants again (see
        ``_ended``).
        """
        job.completed = utcnow()
        assign(job, 'error', error)
        assign(job, 'traceback', traceback)
        assign(job, '_queueKey', None)  # a claim took it out of its queue
        if error is None:
            job.output = output
        if interfaces.ICronJob.providedBy(job) and job.delay is None:
            job.attempts = 0    # the next run is a new one
            self._rescheduleAfterRun(job, now)
        else:
            self._setStatus(job, interfaces.COMPLETED if error is None
                            else interfaces.ERROR, index=not deferred)
        zope.event.notify(events.JobCompleted(job, self) if error is None
                          else events.JobFailed(job, self))
        if job.status in interfaces.FINISHED:
            self._ended(job, leased)
