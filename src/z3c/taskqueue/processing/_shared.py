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
"""Shared commits: batchable jobs run back to back in one transaction.

A task is batchable (``ITask.batchable``) when its jobs only change the
database, so that running one again after a failed commit is harmless.
A runner takes such jobs from their queues and runs them in the same
transaction, and commits them together: nothing needs a claim, and
nothing is committed twice.
"""
import random
import time

from ZODB.POSException import ConflictError

from z3c.taskqueue.model import _outcome
from z3c.taskqueue.model.job import utcnow
from z3c.taskqueue.model.retry import jitteredBackoff
from z3c.taskqueue.processing._committing import Abandoned
from z3c.taskqueue.processing._committing import formatException


#: What a claim hands a runner that is to run batchable jobs in shared
#: commits (see ``runShared()``), instead of a batch's ids.
SHARED = 'shared'

#: After this many conflicts in a row, a runner claims batchable jobs with
#: a lease, once, instead of running them in a shared commit.
CONTENDED = 3

# What ``runInBatch()`` returns for a job that failed, and for one
# whose task ended the shared transaction.
_FAILED = object()
_ENDED = object()


def batchable(service):
    """Return a test of jobs whose tasks are batchable (``ITask``)."""
    tasks = {}

    def accept(job):
        batchable = tasks.get(job.task)
        if batchable is None:
            task = service._task(job)
            batchable = tasks[job.task] = bool(
                getattr(task, 'batchable', False)
                and getattr(task, 'timeout', None) is None)
        # A job with a time limit is interrupted: never in a batch.
        return batchable and job.timeout is None
    return accept


def runShared(runner):
    """Run batchable jobs back to back in one transaction and commit
    them together.

    The jobs are taken in the same transaction, so nothing needs a
    claim: if the commit fails, or the process dies first, they are
    still queued, and run again (batchable tasks only change the
    database).  The jobs run without savepoints, which cost as much
    as the rest of a job; when one fails, the batch is run again
    with each job in a savepoint, so that the failing one rolls back
    alone.  A conflict runs the batch again, uncharged, and smaller.
    Return the number of jobs committed.
    """
    p = runner.processor
    conflicts = storageFailures = 0
    careful = False
    while not p.stopping.is_set():
        runner.tm.begin()
        txn = runner.tm.get()
        service = runner.service()
        now = p.clock()
        # From where the claim saw a batchable job: the oldest of all, or
        # the runner's own queue shard.
        jobs = service._takeJobs(now, runner.shared, p.queues, runner.queue,
                                 accept=batchable(service))
        if not jobs:
            runner.tm.abort()
            return 0
        deadline = time.monotonic() + p.batchTime
        done = []
        failed = 0
        try:
            for job in jobs:
                if done and (time.monotonic() >= deadline
                             or p.stopping.is_set()):
                    break
                outcome = runInBatch(runner, service, job, txn, now,
                                     careful)
                if outcome is _ENDED:
                    repairBatch(runner, jobs, job)
                    return len(done)
                if outcome is _FAILED and not careful:
                    break
                failed += outcome is _FAILED
                done.append(job)
            else:
                outcome = None
            if outcome is _FAILED and not careful:
                runner.tm.abort()
                careful = True
                continue
            service._putBack(jobs[len(done):])
            service._indexFinished(done)
            runner.tm.commit()
        except ConflictError:
            runner.tm.abort()
            conflicts += 1
            p.count('conflicts')
            runner.shared = max(1, runner.shared // 2)
            if runner.queue is not None:
                runner.queue = random.randrange(1 << 30)
            if conflicts >= CONTENDED:
                # Other workers keep taking the same jobs: let the next
                # claim take them with a lease, which no one else can.
                # A conflict is never a job's failure.
                runner.claimShared = False
                return 0
            runner.backOff(jitteredBackoff(conflicts, 0.01, 1.0))
            continue
        except BaseException as error:
            if runner.interrupted(error, 'run jobs'):
                continue
            runner.tm.abort()
            if runner.atFault(error, None, storageFailures):
                if len(jobs) > 1:
                    # One job is at fault: find it alone.
                    runner.shared = 1
                    storageFailures = 0
                    continue
                failShared(runner, jobs[0].id, 'its changes cannot be'
                           ' committed: %s' % _outcome.message(error))
                return 0
            storageFailures += 1
            if not runner.waitForStorage(None, 'commit a batch of jobs',
                                         error):
                return 0
            continue
        for job in done:
            runner.flushProgress(job.id)
        p.count('processed', len(done) - failed)
        p.count('failed', failed)
        runner.trouble.over()
        runner.shared = min(runner.shared * 2, p.batchSize)
        return len(done)
    return 0


def runInBatch(runner, service, job, txn, now, careful):
    """Run ``job`` in the shared transaction ``txn`` and record its
    outcome; return ``_FAILED`` if it failed, or ``_ENDED`` if its task
    ended or doomed ``txn``.  A failure is recorded only if
    ``careful``: then the job runs in a savepoint, rolled back."""
    task = service._task(job)
    savepoint = runner.tm.savepoint(optimistic=True) if careful else None
    started = utcnow()
    try:
        # Not limited: a job with a time limit is never batchable.
        output = runner.runTask(service, job, task, started)
        if runner.tm.get() is not txn or txn.isDoomed():
            return _ENDED
        _outcome.checkOutput(job, output)
    except (ConflictError, Abandoned):
        raise
    except BaseException as error:
        if _outcome.isStopRequest(error):
            raise
        if runner.tm.get() is not txn or txn.isDoomed():
            return _ENDED
        if careful:
            formatted = formatException()
            savepoint.rollback()
            job.attempts += 1
            job.started = started
            service._recordFailure(job, now, error, formatted,
                                   deferred=True)
        return _FAILED
    job.attempts += 1
    service._finish(job, now, output=output, deferred=True)
    return None


def repairBatch(runner, jobs, culprit):
    """After the task of ``culprit`` ended the shared transaction,
    put the batch right and fail ``culprit``: a batchable task must
    leave the transaction to the worker."""
    runner.tm.abort()
    ids = [job.id for job in jobs]
    reason = ('its task is batchable but ended the transaction (a'
              ' commit or an abort) or doomed it: a batchable task must'
              ' leave the transaction to the worker')

    def repair(service):
        service._repairBatch(ids, culprit.id, reason,
                             runner.processor.clock())
    if runner.commit(repair, 'put right the batch of job %r'
                     % culprit.id, None):
        runner.processor.count('failed')


def failShared(runner, jobid, reason):
    """Fail the batchable job ``jobid``, which cannot be committed."""
    def fail(service):
        service._repairBatch([jobid], jobid, reason,
                             runner.processor.clock())
    if runner.commit(fail, 'record the failure of job %r' % jobid, None):
        runner.processor.count('failed')
