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
"""Listing: the part of the task service that answers about jobs (a
job's status, result and error, the counts by status and queue) and
lists and removes them a page at a time, for operators
(``z3c-taskqueue jobs``, ``status``, ``clean``)."""
import time

from z3c.taskqueue import interfaces
from z3c.taskqueue.model import _index
from z3c.taskqueue.model._migration import migrated
from z3c.taskqueue.model._numbers import isInteger
from z3c.taskqueue.model.history import History
from z3c.taskqueue.model.job import assign
from z3c.taskqueue.model.job import loads as _loads


#: The most jobs ``listJobs()`` returns, and ``purge()`` removes, a call.
MAX_LIMIT = 10000

#: How many jobs ``listJobs()`` looks at, by default, to find a page.
SCAN = 10000


class ListingMixin:
    """What a job's status, result and error are, the counts, pages of
    jobs, newest first (see ``history``), and removals a batch at a
    time."""

    _history = None

    # Asking about jobs

    @migrated
    def getStatus(self, jobid):
        return self._statusOf(self.jobs[jobid])

    def getResult(self, jobid):
        return self.jobs[jobid].output

    @migrated
    def getError(self, jobid):
        return self.jobs[jobid].error

    @migrated
    def leaseOf(self, jobid):
        return self._claims.leaseOf(self.jobs[jobid])

    @migrated
    def countJobs(self):
        counts = dict.fromkeys(interfaces.STATUSES, 0)
        for status in self._statuses.statuses():
            counts[status] = self._statuses.size(status)
        counts[interfaces.QUEUED] = self._queues.size()
        if self._dependencies is not None:
            counts[interfaces.BLOCKED] = self._dependencies.size()
        # Claimed jobs, and those whose lease is not retired yet; cron,
        # delayed and retried jobs: not many, one load each.
        for jobid, lease in self._claims.items():
            job = self.jobs.get(jobid)
            if job is None or not _loads(job):
                continue
            status = self._statusOf(job)
            if status == interfaces.PROCESSING or (
                    status in interfaces.FINISHED
                    and self._settledBy(job, lease)
                    and not self._statuses.holds(status, jobid)):
                counts[status] += 1
        for jobid in self._schedule.ids():
            status = self._peekStatus(jobid)
            if status is not None:
                counts[status] += 1
        return counts

    @migrated
    def countQueued(self):
        return self._queues.sizes()

    @migrated
    def oldestQueuedAge(self, now=None):
        oldest = self._queues.oldestTime()
        if oldest is None:
            return None
        # Queue keys round up to the millisecond: never below 0.
        return max(0.0, (time.time() if now is None else now) - oldest)

    def _record(self, job):
        """Enter the new ``job`` in the history."""
        created = job._created
        self._made('_history', History).add(
            job, time.time() if created is None else created)

    @migrated
    def listJobs(self, status=None, task=None, queue=None, limit=50,
                 after=None, scan=SCAN):
        _checkFilter('status', status, interfaces.STATUSES)
        _checkCount('limit', limit, MAX_LIMIT)
        _checkCount('scan', scan, 10 ** 7)
        # A cursor is a key of the history, which is a 64-bit integer
        # between the sentinels; another would overflow the BTree.
        if after is not None and not isInteger(after, _index.FIRST + 1,
                                               _index.LAST - 1):
            raise ValueError('after must be a cursor that listJobs()'
                             ' returned, not %r' % (after,))
        if self._history is None:
            return [], None
        ids = []
        cursor = None
        for looked, (key, jobid) in enumerate(self._history.newest(after)):
            if len(ids) >= limit or looked >= scan:
                return ids, cursor
            cursor = key
            job = self.jobs.get(jobid)
            if job is None or not _loads(job):
                if job is not None and not (status or task or queue):
                    ids.append(jobid)
                continue
            if ((task is None or job.task == task)
                    and (queue is None or job.queue == queue)
                    and (status is None or self._statusOf(job) == status)):
                ids.append(jobid)
        return ids, None

    @migrated
    def purge(self, status=interfaces.FINISHED, before=None, limit=1000):
        if isinstance(status, str):
            status = (status,)
        for name in status:
            _checkFilter('status', name, interfaces.FINISHED)
        _checkCount('limit', limit, MAX_LIMIT)
        if before is not None and self._history is None:
            return 0
        self._retireSettled()
        removed = 0
        if before is None:
            for name in status:
                for jobid in self._statuses.ids(name)[:limit - removed]:
                    removed += self._remove(jobid, status)
        else:
            # From the oldest job: only those added before ``before`` can
            # have finished before it.
            for jobid in self._history.oldestBefore(before):
                if removed >= limit:
                    break
                job = self.jobs.get(jobid)
                completed = job is not None and _loads(job) and job.completed
                if completed and completed.timestamp() < before:
                    removed += self._remove(jobid, status)
        return removed

    def _remove(self, jobid, statuses):
        """Remove the finished job ``jobid`` if its status is one of
        ``statuses``; return 1 if it was removed."""
        job = self.jobs.get(jobid)
        if job is None or not _loads(job):
            return 0
        status = self._statusOf(job)
        if status not in statuses:
            return 0
        self._statuses.remove(status, jobid)
        self._forget(job)
        del self.jobs[jobid]
        return 1

    @migrated
    def retry(self, jobid):
        job = self.jobs[jobid]
        status = self._statusOf(job)
        if status not in (interfaces.ERROR, interfaces.CANCELLED):
            raise ValueError('job %r is %s: only jobs that failed or were'
                             ' cancelled can be retried' % (jobid, status))
        blockers = self._blockersOfRetry(job)
        if self._expiry is not None:
            self._expiry.remove(job)
        job.attempts = 0
        assign(job, 'error', None)
        assign(job, 'traceback', None)
        job.completed = None
        job.started = None
        assign(job, 'expires', None)
        if interfaces.ICronJob.providedBy(job):
            self._setStatus(job, interfaces.DELAYED if job.delay is not None
                            else interfaces.CRONJOB)
            self._schedule.addPending(job)
        elif blockers:
            self._setStatus(job, interfaces.BLOCKED)
            self._block(job, blockers)
        else:
            self._setStatus(job, interfaces.QUEUED)
            self._enqueue(job)

    def _blockersOfRetry(self, job):
        """Return the ids of the jobs that ``job``, to be retried, waits
        for again; raise ``ValueError`` if it cannot wait for them.

        A job that ran had seen all of its dependencies complete: it
        waits for nothing.  One that never ran (cancelled because a
        dependency failed, or by hand) waits for those that have not
        ended; one that failed, was cancelled or is gone must be retried
        or replaced first.
        """
        if not job.after or job.attempts or job.started is not None:
            return []
        for other in job.after:
            if other not in self.jobs:
                raise ValueError(
                    'job %r waits for job %r, which no longer exists: add'
                    ' a new job instead' % (job.id, other))
        blockers, failed = self._unfinished(job.after)
        if failed is not None:
            raise ValueError(
                'job %r waits for job %r, which ended %s: retry that job'
                ' first' % (job.id, failed.id, self._statusOf(failed)))
        return blockers


def _checkFilter(name, value, allowed):
    if value is not None and value not in allowed:
        raise ValueError('there is no job %s %r (one of: %s)'
                         % (name, value, ', '.join(allowed)))


def _checkCount(name, value, high):
    if not isInteger(value, 1, high):
        raise ValueError('%s must be an integer from 1 to %d, not %r'
                         % (name, high, value))
