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
"""Leases: a worker's time-limited claim on the jobs it took, and the
index of the claims."""
import persistent
import zope.interface

from z3c.taskqueue import interfaces
from z3c.taskqueue.model import _index


@zope.interface.implementer(interfaces.ILease)
class Lease(persistent.Persistent):
    """A claim on one or more jobs by one worker, until ``expires``.

    A lease is an object of its own, not an attribute of the job: the
    worker renews it while the job runs, and the transaction that
    completes the job writes the job, not the lease, so the two never
    conflict.

    ``jobs`` lists the claimed jobs in the order the worker runs them, so
    that when the worker is lost the job it was running can be told from
    the jobs it had not started yet: the first of them that is still
    claimed.
    """

    #: None for leases stored before the order was kept; their jobs were
    #: charged an attempt when they were claimed.
    jobs = None
    #: When the jobs were claimed (seconds since the epoch); None for
    #: leases stored before it was kept.
    since = None

    def __init__(self, owner, expires, jobs=(), since=None):
        self.owner = owner
        self.expires = expires
        self.jobs = tuple(jobs)
        if since is not None:
            self.since = since

    def __repr__(self):
        return '<%s of %s until %.3f>' % (
            self.__class__.__name__, self.owner, self.expires)


def sameLease(current, lease):
    """Tell whether ``current`` and ``lease`` are the same stored lease,
    perhaps loaded by two connections."""
    if current is None or lease is None:
        return False
    if current is lease:
        return True
    return current._p_oid is not None and current._p_oid == lease._p_oid


class Claims(persistent.Persistent):
    """The jobs that workers claimed, each with the lease of its claim.

    A claim writes its lease and one entry per job here, not the job: the
    transaction that records the job's outcome writes the job, and only
    the job, and marks the claim settled in it (``settle()``).  The
    entries of a lease are removed once all its jobs are settled, by its
    worker's next claim (``retire()``), or when it is recovered.

    A job is claimed by a lease while its entry names that lease and the
    job was not settled by it.  ``_byJob`` is a plain ``LOBTree`` with
    sentinels (see ``_index``); this object is never written after it
    is created.
    """

    def __init__(self):
        self._byJob = _index.newTree()

    def claim(self, lease, ids):
        for jobid in ids:
            _index.setEntry(self._byJob, jobid, lease)

    def leaseOf(self, job):
        """Return the lease that holds ``job`` unsettled, or None."""
        lease = self._byJob.get(job.id)
        if lease is None or sameLease(job._lastLease, lease):
            return None
        return lease

    def holds(self, job, lease):
        """Tell whether ``lease`` holds ``job`` unsettled."""
        return sameLease(self.leaseOf(job), lease)

    def settle(self, job):
        """Mark the claim on ``job`` settled: its outcome is recorded."""
        job._lastLease = self._byJob.get(job.id)

    def retire(self, lease):
        """Remove the entries of ``lease``."""
        for jobid in lease.jobs or self.idsOf(lease):
            if sameLease(self._byJob.get(jobid), lease):
                _index.popEntry(self._byJob, jobid, None)

    def idsOf(self, lease):
        return [jobid for jobid, current in self.items()
                if sameLease(current, lease)]

    def items(self):
        """Iterate over ``(jobid, lease)`` of every entry."""
        for jobid in _index.keys(self._byJob):
            yield jobid, self._byJob[jobid]

    def leases(self):
        """Return the leases with entries, each with its entries' ids."""
        found = {}
        for jobid, lease in self.items():
            key = lease._p_oid or id(lease)
            found.setdefault(key, (lease, []))[1].append(jobid)
        return list(found.values())

    def size(self):
        return _index.size(self._byJob)
