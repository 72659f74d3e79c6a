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
import datetime
import itertools
import json
import re
import time

import transaction

from z3c.taskqueue import interfaces
from z3c.taskqueue.command import CommandError
from z3c.taskqueue.command import findService
from z3c.taskqueue.command import openDatabase
from z3c.taskqueue.command import parsePath
from z3c.taskqueue.job import loads


#: How much of an input, output or error a line or ``show`` prints
#: unless ``--full``.
SHORT = 60
LONG = 2000

_DURATION = re.compile(r'^(\d+(?:\.\d+)?)([smhdw])$')
_UNITS = {'s': 1, 'm': 60, 'h': 3600, 'd': 86400, 'w': 7 * 86400}


def parseDuration(text):
    """Turn ``30s``, ``15m``, ``12h``, ``7d`` or ``2w`` into seconds."""
    match = _DURATION.match(text.strip())
    if match is None:
        raise CommandError('--older-than must be a number and a unit (s, m,'
                           ' h, d or w), such as 7d, not %r' % (text,))
    return float(match.group(1)) * _UNITS[match.group(2)]


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


def summary(service, jobid, now):
    """Return what a line of ``jobs`` shows of job ``jobid``."""
    job = service.jobs[jobid]
    if not loads(job):
        return {'id': jobid, 'task': '?', 'status': '?', 'queue': '?',
                'attempts': 0, 'age': None,
                'error': 'the record of this job cannot be loaded'}
    created = job.created
    return {'id': jobid, 'task': job.task,
            'status': service.getStatus(jobid), 'queue': job.queue,
            'attempts': job.attempts,
            'age': None if created is None else now - created.timestamp(),
            'error': job.error}


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


def describe(service, jobid, full=False):
    """Return everything about job ``jobid``, as an ordered dict of
    strings, numbers and lists."""
    job = service.jobs[jobid]
    if not loads(job):
        return {'id': jobid,
                'error': 'the record of this job cannot be loaded'}
    limit = None if full else LONG
    lease = service.leaseOf(jobid)
    details = {
        'id': jobid, 'task': job.task, 'status': service.getStatus(jobid),
        'queue': job.queue, 'priority': job.priority,
        'attempts': job.attempts,
        'created': _time(job.created), 'started': _time(job.started),
        'completed': _time(job.completed),
        'input': _payload(job, 'input', limit),
        'output': _payload(job, 'output', limit),
        'error': job.error, 'traceback': job.traceback,
        'key': job.key, 'after': list(job.after),
        'waiting for': list(job._waitingFor or ()),
        'expires': _seconds(job.expires), 'timeout': job.timeout,
        'lease': None if lease is None else '%s until %s' % (
            lease.owner, _seconds(lease.expires)),
        'progress': _progress(service.getProgress(jobid)),
    }
    if interfaces.ICronJob.providedBy(job):
        details.update(cronDetails(job))
    return details


def cronDetails(job, count=3):
    """Return the spec, zone, misfire policy and next fire times of the
    cron job ``job``."""
    if job.delay is not None:
        spec = 'once, %g s after it was scheduled' % job.delay
    elif job.cron is not None:
        spec = job.cron
    else:
        spec = ' '.join('%s=%r' % (name, getattr(job, name))
                        for name in ('minute', 'hour', 'dayOfMonth',
                                     'month', 'dayOfWeek')
                        if getattr(job, name))
    try:
        nextTimes = [moment.isoformat() for moment in job.preview(count)]
    except Exception as error:
        nextTimes = ['cannot be computed: %s' % error]
    return {'cron': spec, 'timezone': job.timezone,
            'misfire': job.misfire if job.misfireGrace is None else
            '%s, grace %g s' % (job.misfire, job.misfireGrace),
            'scheduled for': _time(job.scheduledFor), 'next': nextTimes}


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


#: The queues are searched for cron jobs that fell due only while they
#: hold no more jobs than this.
CRON_SEARCH = 10000


def cronJobIds(service):
    """Return the ids of the cron and delayed jobs: those of the schedule
    and the claims, and those waiting in a queue if the queues are small.
    """
    candidates = set(service._schedule.ids())
    candidates.update(jobid for jobid, lease in service._claims.items())
    queued = list(itertools.islice(service._queues.ids(), CRON_SEARCH + 1))
    if len(queued) <= CRON_SEARCH:
        candidates.update(queued)
    found = []
    for jobid in candidates:
        job = service.jobs.get(jobid)
        if (job is not None and loads(job)
                and interfaces.ICronJob.providedBy(job)
                and job.status not in interfaces.FINISHED):
            found.append(jobid)
    return found


def _known(service, ids):
    unknown = [jobid for jobid in ids if jobid not in service.jobs]
    if unknown:
        raise CommandError('there is no job %s; nothing was changed'
                           % ', '.join(map(str, unknown)))


def _payload(job, name, limit):
    try:
        text = repr(getattr(job, name))
    except Exception as error:
        return '<cannot be loaded: %s>' % error
    if limit is not None and len(text) > limit:
        return text[:limit] + '... (%d characters; --full shows all)' % len(
            text)
    return text


def _progress(progress):
    if progress is None:
        return None
    fraction, message = progress
    return '%.0f%%%s' % (fraction * 100, ' ' + message if message else '')


def _time(moment):
    return None if moment is None else moment.isoformat()


def _seconds(seconds):
    if seconds is None:
        return None
    return datetime.datetime.fromtimestamp(
        seconds, datetime.timezone.utc).isoformat()


def _age(seconds):
    if seconds is None:
        return '?'
    for unit, size in (('d', 86400), ('h', 3600), ('m', 60)):
        if seconds >= size:
            return '%.0f%s' % (seconds / size, unit)
    return '%.0fs' % seconds


def _cut(text, width):
    text = ' '.join(str(text).split())
    return text if len(text) <= width else text[:width - 3] + '...'
