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
"""Leases: a worker's time-limited claim on the jobs it took."""
import persistent
import zope.interface

from z3c.taskqueue import interfaces


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

    def __init__(self, owner, expires, jobs=()):
        self.owner = owner
        self.expires = expires
        self.jobs = tuple(jobs)

    def __repr__(self):
        return '<%s of %s until %.3f>' % (
            self.__class__.__name__, self.owner, self.expires)
