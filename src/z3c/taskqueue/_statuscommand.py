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
"""``z3c-taskqueue status``: the jobs by status and queue, the oldest
waiting job, and the workers that hold claims."""
import json
import time

from z3c.taskqueue._jobcommands import openService


def status(args):
    with openService(args) as service:
        report = statusReport(service, time.time())
    if args.json:
        print(json.dumps(report, indent=1))
        return
    for name, count in sorted(report['jobs'].items()):
        print('%-12s %d' % (name, count))
    if report['queues']:
        print('queued jobs by queue:')
        for name, count in sorted(report['queues'].items()):
            print('  %-30s %d' % (name, count))
    age = report['oldest queued age']
    print('oldest queued job: %s' % (
        'none' if age is None else '%.1f s old' % age))
    for period, counts in report['finished'].items():
        print('finished in the %s: %s' % (period, ', '.join(
            '%d %s' % (counts[status], status) for status in
            ('completed', 'error', 'cancelled'))))
    if report['workers']:
        print('workers holding claims:')
        for worker in report['workers']:
            print('  %-40s %3d jobs  %s  lease until %s' % (
                worker['owner'], worker['jobs'],
                'since %.0f s' % worker['for'] if worker['for'] is not None
                else 'since ?', time.strftime(
                    '%H:%M:%S', time.gmtime(worker['expires']))))


def statusReport(service, now):
    """Return what ``status`` shows, as a dict."""
    return {'jobs': service.countJobs(), 'queues': service.countQueued(),
            'finished': {'last minute': service.countFinished(60, now),
                         'last hour': service.countFinished(3600, now)},
            'oldest queued age': service.oldestQueuedAge(now),
            'workers': workersReport(service, now)}


def workersReport(service, now):
    """Return the workers that hold claims, each as a dict: owner, the
    number and the ids of the jobs it holds, how long ago it claimed them
    (``for``) and when its lease expires."""
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
