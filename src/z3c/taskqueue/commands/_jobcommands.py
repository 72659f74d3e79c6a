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
"""The job commands of ``z3c-taskqueue``: ``jobs``, ``show``,
``cancel``, ``retry``, ``clean`` and ``cron``.

Each opens the database the URI names, reads (or, for ``cancel``,
``retry`` and ``clean``, changes) a page or a batch of jobs, and prints
lines for people or, with ``--json``, one JSON document for programs.
None of them loads every job: a page walks the history (``history``),
``clean`` removes a thousand jobs a transaction.
"""
import contextlib
import json
import time

import transaction

from z3c.taskqueue import interfaces
from z3c.taskqueue.database._opening import CommandError
from z3c.taskqueue.database._opening import findService
from z3c.taskqueue.database._opening import openDatabase
from z3c.taskqueue.database._opening import parsePath
from z3c.taskqueue.reports.jobs import SHORT
from z3c.taskqueue.reports.jobs import age as _age
from z3c.taskqueue.reports.jobs import cronDetails
from z3c.taskqueue.reports.jobs import cronJobIds
from z3c.taskqueue.reports.jobs import cut as _cut
from z3c.taskqueue.reports.jobs import describe
from z3c.taskqueue.reports.jobs import parseDuration as _parseDuration
from z3c.taskqueue.reports.jobs import summary


def parseDuration(text):
    """Turn ``--older-than``'s ``30s``, ``15m``, ``12h``, ``7d`` or ``2w``
    into seconds (see ``reports.jobs.parseDuration``)."""
    try:
        return _parseDuration(text)
    except ValueError as error:
        raise CommandError(str(error)) from None


@contextlib.contextmanager
def openService(args):
    """Open the database and the service of ``args``; yield the service,
    in a transaction that is aborted at the end unless committed."""
    db = openDatabase(args.uri)
    try:
        service, connection = findService(db, parsePath(args.service))
        try:
            yield service
        finally:
            transaction.abort()
            connection.close()
    finally:
        db.close()


def jobs(args):
    with openService(args) as service:
        try:
            ids, cursor = service.listJobs(
                status=args.status, task=args.task, queue=args.queue,
                limit=args.limit, after=args.after)
        except ValueError as error:
            raise CommandError(str(error)) from None
        now = time.time()
        rows = [summary(service, jobid, now) for jobid in ids]
        if args.json:
            print(json.dumps({'jobs': rows, 'next': cursor}, indent=1))
            return
        if not rows:
            print('no jobs')
        else:
            print((ROW % HEADER).rstrip())
        for row in rows:
            print(ROW % (
                row['id'], _cut(row['task'], 20), row['status'],
                _cut(row['queue'], 12), row['attempts'],
                _age(row['age']), _cut(row['error'] or '', SHORT)))
        if cursor is not None:
            print('more: --after %d' % cursor)


#: A line of ``jobs``, and its header.
ROW = '%-11s %-20s %-11s %-12s %5s %6s  %s'
HEADER = ('ID', 'TASK', 'STATUS', 'QUEUE', 'TRIES', 'AGE', 'ERROR')


def show(args):
    with openService(args) as service:
        if args.id not in service.jobs:
            raise CommandError('there is no job %d' % args.id)
        details = describe(service, args.id, args.full)
        if args.json:
            print(json.dumps(details, indent=1, default=str))
            return
        # Wide enough for every name this job could show, so that the
        # values of every job line up alike.
        width = max(len(name) for name in details) + 1
        for name, value in details.items():
            if value is None or value == () or value == []:
                continue
            if isinstance(value, (list, tuple)):
                value = ', '.join(map(str, value))
            text = str(value)
            if '\n' in text:
                print('%s:' % name)
                for line in text.rstrip('\n').split('\n'):
                    print('    ' + line)
            else:
                print('%-*s %s' % (width, name + ':', text))


def cancel(args):
    with openService(args) as service:
        _known(service, args.ids)
        results = []
        for jobid in args.ids:
            if service.getStatus(jobid) == interfaces.CANCELLED:
                results.append((jobid, False, interfaces.CANCELLED,
                                'already cancelled'))
                continue
            service.cancel(jobid)
            status = service.getStatus(jobid)
            results.append((jobid, status == interfaces.CANCELLED, status,
                            'cancelled' if status == interfaces.CANCELLED
                            else 'left %s (only waiting jobs can be'
                            ' cancelled)' % status))
        transaction.commit()
    _report(args, results)


def retry(args):
    with openService(args) as service:
        _known(service, args.ids)
        results = []
        for jobid in args.ids:
            try:
                service.retry(jobid)
                status = service.getStatus(jobid)
                results.append((jobid, True, status, '%s again' % status))
            except ValueError as error:
                results.append((jobid, False, service.getStatus(jobid),
                                'left as it is: %s' % error))
        transaction.commit()
    _report(args, results)


def _report(args, results):
    """Print what ``cancel`` or ``retry`` did to each job."""
    if args.json:
        print(json.dumps([{'id': jobid, 'done': done, 'status': status,
                           'message': text}
                          for jobid, done, status, text in results],
                         indent=1))
    else:
        print('\n'.join('%d: %s' % (jobid, text)
                        for jobid, done, status, text in results))


def clean(args):
    statuses = tuple(args.status or interfaces.FINISHED)
    before = (None if args.older_than is None
              else time.time() - parseDuration(args.older_than))
    removed = 0
    with openService(args) as service:
        try:
            while True:
                batch = service.purge(statuses, before, limit=1000)
                transaction.commit()
                removed += batch
                if batch < 1000:
                    break
        except ValueError as error:
            raise CommandError(str(error)) from None
    if args.json:
        print(json.dumps({'removed': removed}))
    else:
        print('removed %d job(s)' % removed)


def cron(args):
    with openService(args) as service:
        rows = []
        for jobid in sorted(cronJobIds(service)):
            job = service.jobs[jobid]
            row = {'id': jobid, 'task': job.task,
                   'status': service.getStatus(jobid)}
            row.update(cronDetails(job))
            rows.append(row)
        if args.json:
            print(json.dumps(rows, indent=1, default=str))
            return
        for row in rows:
            print('%d %s (%s): %s in %s, misfire %s' % (
                row['id'], row['task'], row['status'], row['cron'],
                row['timezone'], row['misfire']))
            for moment in row['next']:
                print('    next: %s' % moment)


def _known(service, ids):
    unknown = [jobid for jobid in ids if jobid not in service.jobs]
    if unknown:
        raise CommandError('there is no job %s; nothing was changed'
                           % ', '.join(map(str, unknown)))
