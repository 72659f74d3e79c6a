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
"""Dependencies: jobs that wait for other jobs to complete.

``add(..., after=[3, 5])`` adds a job that is ``blocked`` until jobs 3
and 5 have completed.  The index maps each job to the jobs that wait for
it, so that the commit that records a job's end releases its dependants
directly, without looking at any other waiting job: each dependant keeps
the ids it still waits for (``_waitingFor``) and is queued when none is
left, or cancelled when one of them ends otherwise.
"""
import BTrees
import persistent

from z3c.taskqueue.model import _index
from z3c.taskqueue.model.job import assign


class Dependencies(persistent.Persistent):
    """The dependants of each job, and the ids of the blocked jobs.

    Two jobs that complete at once, in two workers, and that one job
    waits for, both write that job (what it still waits for): one of
    the two commits conflicts and is retried, and then finds the other
    done, so the dependant is queued exactly once.  ``_dependants`` is
    an ``LOBTree`` of job id to an ``LLTreeSet`` of dependants;
    ``_blocked`` an ``LLTreeSet`` with sentinels (see ``_index``).  This
    object is never written after it is created.
    """

    def __init__(self):
        self._dependants = BTrees.family64.IO.BTree()
        self._blocked = _index.newIdSet()

    def block(self, job, ids):
        """Let ``job`` wait for the jobs ``ids``."""
        job._waitingFor = tuple(ids)
        for jobid in ids:
            dependants = self._dependants.get(jobid)
            if dependants is None:
                dependants = self._dependants[jobid] = (
                    BTrees.family64.II.TreeSet())
            dependants.add(job.id)
        self._blocked.add(job.id)

    def takeDependants(self, jobid):
        """Return the ids of the jobs that wait for job ``jobid``, and
        forget them."""
        dependants = self._dependants.pop(jobid, None)
        return [] if dependants is None else list(dependants)

    def dropDependant(self, job):
        """Forget that ``job`` waits for anything (it was cancelled)."""
        for jobid in job._waitingFor or ():
            dependants = self._dependants.get(jobid)
            if dependants is not None and job.id in dependants:
                dependants.remove(job.id)
                if not dependants:
                    del self._dependants[jobid]
        self.unblock(job)

    def unblock(self, job):
        """Let ``job`` wait for nothing any more."""
        if job.id in self._blocked:
            self._blocked.remove(job.id)
        assign(job, '_waitingFor', None)

    def readCurrent(self, jobid):
        """Make this transaction's commit fail with a ``ConflictError`` if
        another one changed the dependants of job ``jobid`` meanwhile: a
        job added to wait for it, or released."""
        _index.readCurrentKey(self._dependants, jobid)
        dependants = self._dependants.get(jobid)
        if dependants is not None:
            _index.readCurrentTree(dependants)

    def hasDependants(self, jobid):
        return jobid in self._dependants

    def isBlocked(self, jobid):
        return jobid in self._blocked

    def blockedIds(self):
        return list(_index.keys(self._blocked))

    def size(self):
        """Count the blocked jobs."""
        return _index.size(self._blocked)
