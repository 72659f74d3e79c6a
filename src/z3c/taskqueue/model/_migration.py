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

Layout version 0 is that of z3c.taskqueue 0.2 and lovely.remotetask, on
Python 2 (see ``_layout0``): it is told by its old attributes, since a
service of layout version 1 has no ``_layout`` either.

Layout version 1 (z3c.taskqueue 1.0 before queues had names) kept eight
anonymous queues keyed by time, an id set per status (processing
included) and the lease of a claimed job in the job.  Version 2 keeps
named queues keyed by priority and time (``queues``), the schedule
(``schedule``), the claims of workers (``lease.Claims``) and the status
index (``statusindex``) in objects of their own.

The migration runs once, in the transaction of the first method that
uses the service; it writes the service object, so two transactions
that migrate at once conflict and the second, retried, finds the work
done.  From layout version 1 it rewrites the queued jobs (their queue
keys) and nothing else that is large: the schedule and the id sets are
taken over as they are.  From layout version 0 it rewrites every job.
Only the migration that commits says so in the log.
"""
import functools
import logging

from z3c.taskqueue import interfaces
from z3c.taskqueue.model import _index
from z3c.taskqueue.model import _layout0
from z3c.taskqueue.model import _servicepath
from z3c.taskqueue.model.lease import Claims
from z3c.taskqueue.model.queues import JobQueues
from z3c.taskqueue.model.schedule import Schedule
from z3c.taskqueue.model.statusindex import INDEXED
from z3c.taskqueue.model.statusindex import StatusIndex


log = logging.getLogger('z3c.taskqueue')
# What the old package never logged (see docs/operations.rst).
detail = logging.getLogger('z3c_taskqueue')

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


def layoutOf(service):
    """Return the layout version of ``service``."""
    if _layout0.isLayout0(service):
        return 0
    return service._layout


def migrate(service, timezone=None):
    """Bring ``service`` to layout version ``LAYOUT``, in this transaction.

    Return the number of jobs whose index entries moved.  ``timezone``
    (an IANA name) is the zone of the naive datetimes of layout version
    0; None: the local zone of this process.
    """
    layout = layoutOf(service)
    if layout == LAYOUT:
        return 0
    if layout == 0:
        return migrateLayout0(service, timezone)
    if layout != 1:
        raise ValueError('task service %r has the unknown layout version %r'
                         % (service, service._layout))
    state = service.__dict__
    name = describe(service)
    detail.info('Migrating task service %s from layout version 1 to %d',
                name, LAYOUT)
    sets = state['_byStatus']
    # Made first: a job that no longer loads is replaced by one in
    # error, which goes into it (see _loadIndexed()).
    service._statuses = StatusIndex(
        {status: tuple(sets[status]) for status in INDEXED})
    queues = JobQueues()
    moved = 0
    for old in state['_queues']:
        for key in _index.keys(old):
            # An entry whose job is gone is dropped, as the old code did;
            # a job that no longer loads is replaced by one in error.
            job = service._loadIndexed(old[key], lambda: None)
            if job is None:
                continue
            queues.put(job, _index.keyTime(key), job.id)
            moved += 1
    claims = Claims()
    for ids in sets[interfaces.PROCESSING]:
        for jobid in list(_index.keys(ids)):
            job = service._loadIndexed(jobid, lambda: ids.remove(jobid))
            if job is None:
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
    del service._pending
    del service._byStatus
    service._layout = LAYOUT
    whenCommitted(service, 'Migrated task service %s from layout version 1'
                  ' to %d; jobs moved to the new indexes: %d', name, LAYOUT,
                  moved)
    return moved


def migrateLayout0(service, timezone=None):
    """Bring ``service``, of layout version 0, to ``LAYOUT``."""
    name = describe(service)
    detail.info('Migrating task service %s from layout version 0 to %d',
                name, LAYOUT)
    moved = _layout0.migrate(service, timezone)
    service._layout = LAYOUT
    whenCommitted(service, 'Migrated task service %s from layout version 0'
                  ' to %d; jobs moved to the new indexes: %d', name, LAYOUT,
                  moved)
    return moved


def whenCommitted(service, *args):
    """Log ``args`` at INFO once the transaction that changed ``service``
    commits: of two workers that migrate at once, the one whose commit
    conflicts says nothing."""
    jar = service._p_jar
    if jar is None:
        log.info(*args)
        return

    def committed(status):
        if status:
            log.info(*args)
    jar.transaction_manager.get().addAfterCommitHook(committed)


def describe(service):
    """Return the path of ``service`` (``tasks``, ``site@tasks``), or,
    if it has none, its key in the database root or its name."""
    try:
        return _servicepath.pathName(_servicepath.servicePath(service))
    except ValueError:
        pass
    jar = service._p_jar
    if jar is not None:
        for key, value in jar.root().items():
            if value is service:
                return str(key)
    if service.__name__:
        return str(service.__name__)
    if service._p_oid is not None:
        return 'of oid 0x%x' % int.from_bytes(service._p_oid, 'big')
    return 'with no name'
