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
"""The status index: the ids of the jobs that wait for nothing.

Finished jobs, jobs that wait to be started and jobs claimed without a
lease (by ``claimNextJob()``) are found through id sets, one per status:
``clean()`` and ``countJobs()`` need them.  Queued, cron and delayed jobs
are found through the queues and the schedule, and jobs claimed by a
worker through its lease (see ``lease.Claims``).
"""
import persistent

from z3c.taskqueue import interfaces
from z3c.taskqueue.model import _index


#: The statuses whose jobs are found here.
INDEXED = (interfaces.PROCESSING, interfaces.STARTLATER) + interfaces.FINISHED


class StatusIndex(persistent.Persistent):
    """Id sets of the jobs in each of the ``INDEXED`` statuses.

    Each status may be spread over several sets (layout version 1 had
    eight); a job is in the set its id picks.  The sets are plain
    ``LLTreeSet``s with sentinels (see ``_index``); this object is never
    written after it is created.
    """

    def __init__(self, sets=None):
        if sets is None:
            sets = {status: (_index.newIdSet(),) for status in INDEXED}
        self._sets = sets

    def indexes(self, status):
        """Tell whether jobs in ``status`` are found here."""
        return status in self._sets

    def _set(self, status, jobid):
        sets = self._sets[status]
        return sets[jobid % len(sets)]

    def add(self, status, jobid):
        if status in self._sets:
            _index.addId(self._set(status, jobid), jobid)

    def remove(self, status, jobid):
        if status in self._sets:
            _index.discardId(self._set(status, jobid), jobid)

    def holds(self, status, jobid):
        return status in self._sets and jobid in self._set(status, jobid)

    def move(self, jobid, old, new):
        """Let job ``jobid`` be found in status ``new``, not ``old``."""
        if old != new:
            self.remove(old, jobid)
            self.add(new, jobid)

    def ids(self, status):
        """Return the ids of the jobs in ``status``."""
        return [jobid for ids in self._sets[status]
                for jobid in _index.keys(ids)]

    def size(self, status):
        return sum(map(_index.size, self._sets[status]))

    def statuses(self):
        return list(self._sets)

    def sets(self, status):
        """Return the id sets of ``status``."""
        return self._sets[status]
