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
"""The schedule: where jobs wait for a time.

Cron and delayed jobs wait in ``pending`` until a worker (or a
``processNext(now)``) computes their due time from its ``now``; then
they wait in ``due``, keyed by due time (see ``_index.timeKey``: the job
due first has the largest key), as do jobs waiting to be retried.  When
they fall due, the service moves them to their queue.
"""
import persistent

from z3c.taskqueue.model import _index


class Schedule(persistent.Persistent):
    """The due times of the jobs that wait for a time.

    A job in ``due`` keeps its key in ``_scheduleKey``.  Both indexes are
    plain BTrees with sentinels (see ``_index``); this object is never
    written after it is created.
    """

    def __init__(self, due=None, pending=None):
        self.due = _index.newIndex() if due is None else due
        self.pending = _index.newIdSet() if pending is None else pending

    def addPending(self, job):
        """Let ``job`` wait until its due time is computed."""
        _index.addId(self.pending, job.id)

    def takePending(self):
        """Return the ids of the pending jobs, taking them out."""
        ids = list(_index.keys(self.pending))
        for jobid in ids:
            _index.discardId(self.pending, jobid)
        return ids

    def put(self, job, dueTime):
        """Let ``job`` wait for ``dueTime`` (seconds since the epoch)."""
        job._scheduleKey = _index.insertBelow(
            self.due, _index.timeKey(dueTime, job.id), job.id)

    def remove(self, job):
        """Take ``job`` out of the schedule, due or pending."""
        key = job._scheduleKey
        if key is not None:
            _index.removeEntry(self.due, key, job.id)
            del job._scheduleKey
        _index.discardId(self.pending, job.id)

    def holds(self, job):
        """Tell whether ``job`` waits in the schedule."""
        return job.id in self.pending or (
            job._scheduleKey is not None
            and self.due.get(job._scheduleKey) == job.id)

    def hasPending(self):
        return _index.firstKey(self.pending) is not None

    def nextDue(self, now):
        """Return ``(key, jobid)`` of the job due first if it is due at
        ``now``, else None."""
        key = _index.lastKey(self.due)
        if key is None or key < _index.dueLimit(now):
            return None
        return key, self.due[key]

    def pop(self, key):
        """Take the entry at ``key`` out."""
        _index.popEntry(self.due, key, None)

    def ids(self):
        """Return the ids of the jobs with a due time, and the pending."""
        return ([self.due[key] for key in _index.keys(self.due)]
                + list(_index.keys(self.pending)))

    def entries(self):
        """Iterate over ``(key, jobid)`` of the jobs with a due time."""
        for key in _index.keys(self.due):
            yield key, self.due[key]
