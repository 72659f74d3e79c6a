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
waiting job, the workers (idle or busy, and when each was last seen) and
the claims their threads hold."""
import json
import time

from z3c.taskqueue.commands._jobcommands import openService
from z3c.taskqueue.reports.status import describeWorker
from z3c.taskqueue.reports.status import statusReport


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
        print('workers:')
        for worker in report['workers']:
            print('  %-40s %s' % (worker['owner'], describeWorker(worker)))
    if report['claims']:
        print('workers holding claims:')
        for worker in report['claims']:
            print('  %-40s %3d jobs  %s  lease until %s' % (
                worker['owner'], worker['jobs'],
                'since %.0f s' % worker['for'] if worker['for'] is not None
                else 'since ?', time.strftime(
                    '%H:%M:%S', time.gmtime(worker['expires']))))
