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
"""What ``z3c-taskqueue status`` and the screens show of a service as a
whole: its jobs by status and queue, the oldest waiting job, the jobs
finished lately, the workers' records and the claims their threads hold.
"""
import time


def statusReport(service, now):
    """Return what ``status`` shows, as a dict."""
    claims = claimsReport(service, now)
    return {'jobs': service.countJobs(), 'queues': service.countQueued(),
            'finished': {'last minute': service.countFinished(60, now),
                         'last hour': service.countFinished(3600, now)},
            'oldest queued age': service.oldestQueuedAge(now),
            'workers': workersReport(service, now, claims),
            'claims': claims}


def describeWorker(worker, now=None):
    """Say in one line what ``workersReport`` says of ``worker``."""
    now = time.time() if now is None else now
    if worker['last seen'] is None:
        said = ['no record (no heartbeat)']
    else:
        said = ['%-5s' % worker['state'],
                'seen %s ago' % _ago(now - worker['last seen']),
                'up %s' % _ago(now - worker['started']),
                '%d completed, %d failed' % (worker['completed'],
                                             worker['failed'])]
    if worker['jobs']:
        said.append('%d jobs claimed' % worker['jobs'])
    return '  '.join(said)


def _ago(seconds):
    seconds = max(seconds, 0)
    for unit, size in (('d', 86400), ('h', 3600), ('m', 60)):
        if seconds >= size:
            return '%.0f %s' % (seconds // size, unit)
    return '%.0f s' % seconds


def workersReport(service, now, claims=None):
    """Return every worker, each as a dict: those that keep a record
    (``ITaskService.workers()``: idle or busy, alive or gone), with the
    claims of their threads, and those that hold claims without a record
    (``state`` 'unknown').  Besides the record's keys (None without a
    record), ``owner`` (the worker's name), the number (``jobs``) and the
    ids (``claimed``) of the jobs its threads hold, how long ago they
    claimed them (``for``) and when their leases expire (``expires``).
    """
    if claims is None:
        claims = claimsReport(service, now)
    rows = {}
    for record in service.workers(now):
        rows[record['name']] = dict(record, owner=record['name'], jobs=0,
                                    claimed=[], expires=None,
                                    **{'for': None})
    for claim in claims:
        owner = claim['owner']
        row = rows.get(owner) or rows.get(owner.rpartition('.')[0])
        if row is None:
            row = rows[owner] = dict(
                dict.fromkeys(_RECORD), name=owner, owner=owner,
                state='unknown', jobs=0, claimed=[], expires=None,
                **{'for': None})
        row['jobs'] += claim['jobs']
        row['claimed'] = row['claimed'] + claim['claimed']
        row['expires'] = max(row['expires'] or 0, claim['expires'])
        if claim['for'] is not None:
            row['for'] = max(row['for'] or 0, claim['for'])
    return [rows[name] for name in sorted(rows)]


# What a worker's record says (see ``workers.WorkerRecord.report``).
_RECORD = ('host', 'pid', 'processor', 'threads', 'queues', 'tasks',
           'started', 'last seen', 'interval', 'completed', 'failed')


def claimsReport(service, now):
    """Return the owners of leases that hold claims (a worker's threads),
    each as a dict: owner, the number and the ids of the jobs it holds,
    how long ago it claimed them (``for``) and when its lease expires."""
    workers = {}
    for lease, ids in service._claims.leases():
        held = [jobid for jobid in ids
                if service.leaseOf(jobid) is not None]
        if not held:
            continue    # settled, to be retired by the worker's next claim
        worker = workers.setdefault(lease.owner, {
            'owner': lease.owner, 'jobs': 0, 'for': None, 'expires': 0,
            'claimed': []})
        worker['jobs'] += len(held)
        worker['claimed'].extend(held)
        worker['expires'] = max(worker['expires'], lease.expires)
        if lease.since is not None:
            worker['for'] = max(worker['for'] or 0, now - lease.since)
    return sorted(workers.values(), key=lambda worker: worker['owner'])
