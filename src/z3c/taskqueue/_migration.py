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
"""Migration of a task service to the current layout of its indexes.

Layout version 1 (z3c.taskqueue 1.0 before queues had names) kept eight
anonymous queues keyed by time, an id set per status (processing
included) and the lease of a claimed job in the job.  Version 2 keeps
named queues keyed by priority and time (``queues``), the schedule
(``schedule``), the claims of workers (``lease.Claims``) and the status
index (``statusindex``) in objects of their own.

The migration runs once, in the transaction of the first method that
uses the service; it writes the service object, so two transactions
that migrate at once conflict and the second, retried, finds the work
done.  It rewrites the queued jobs (their queue keys) and nothing else
that is large: the schedule and the id sets are taken over as they are.
"""
import functools
import logging

from z3c.taskqueue import _index
from z3c.taskqueue import interfaces
from z3c.taskqueue.job import loads
from z3c.taskqueue.lease import Claims
from z3c.taskqueue.queues import JobQueues
from z3c.taskqueue.schedule import Schedule
from z3c.taskqueue.statusindex import INDEXED
from z3c.taskqueue.statusindex import StatusIndex


log = logging.getLogger('z3c.taskqueue')

#: The layout that ``migrate()`` makes.
LAYOUT = 2


def migrated(method):
    """Migrate the service to ``LAYOUT`` before ``method`` runs."""
    @functools.wraps(method)
    def wrapper(self, *args, **kw):
        if self._layout != LAYOUT:
            migrate(self)
        return method(self, *args, **kw)
    return wrapper


def migrate(service):
    """Bring ``service`` to layout version ``LAYOUT``, in this transaction.

    Return the number of jobs whose index entries moved.
    """
    if service._layout == LAYOUT:
        return 0
    if service._layout != 1:
        raise ValueError('task service %r has the unknown layout version %r'
                         % (service, service._layout))
    state = service.__dict__
    log.info('Migrating task service %s from layout version 1 to %d',
             service.__name__ or repr(service), LAYOUT)
    jobs = service.jobs
    queues = JobQueues()
    moved = 0
    for old in state['_queues']:
        for key in _index.keys(old):
            job = jobs.get(old[key])
            if job is None or not loads(job):
                continue    # a dangling entry: the old code dropped those
            queues.put(job, _index.keyTime(key), job.id)
            moved += 1
    claims = Claims()
    sets = state['_byStatus']
    for ids in sets[interfaces.PROCESSING]:
        for jobid in list(_index.keys(ids)):
            job = jobs.get(jobid)
            if job is None or not loads(job):
                continue
            lease = job.__dict__.get('lease')
            if lease is not None:
                # Claimed by a worker: recovered when its lease expires.
                claims.claim(lease, [jobid])
                ids.remove(jobid)
                moved += 1
    service._queues = queues
    service._schedule = Schedule(due=state['_schedule'],
                                 pending=state['_pending'])
    service._claims = claims
    service._statuses = StatusIndex(
        {status: tuple(sets[status]) for status in INDEXED})
    del service._pending
    del service._byStatus
    service._layout = LAYOUT
    log.info('Migrated task service %s: %d jobs moved to the new indexes',
             service.__name__ or repr(service), moved)
    return moved
