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
"""``z3c-taskqueue add``: every option of ``add()`` and ``addCronJob()``
that a command line can express.

A plain job is added with ``add()``; ``--delay``, ``--cron`` or a cron
field (``--minute`` ...) make a cron or delayed job (``addCronJob()``).
The ids are printed one a line (or as JSON), so that a script can read
them; what was done is said on standard error.
"""
import argparse
import datetime
import json
import math
import sys

import transaction

from z3c.taskqueue.commands.command import MAX_COUNT
from z3c.taskqueue.commands.command import integerOption
from z3c.taskqueue.database._opening import CommandError
from z3c.taskqueue.database._opening import findService
from z3c.taskqueue.database._opening import loadTasks
from z3c.taskqueue.database._opening import openDatabase
from z3c.taskqueue.database._opening import parsePath


#: The options of ``addCronJob()`` alone, by their ``args`` names, and
#: those of ``add()`` alone: a job is one or the other.
CRON_OPTIONS = {'delay': '--delay', 'cron': '--cron',
                'timezone': '--timezone', 'misfire': '--misfire',
                'misfire_grace': '--misfire-grace', 'minute': '--minute',
                'hour': '--hour', 'day_of_month': '--day-of-month',
                'month': '--month', 'day_of_week': '--day-of-week'}
PLAIN_OPTIONS = {'key': '--key', 'after': '--after',
                 'expires': '--expires', 'timeout': '--timeout',
                 'start_later': '--start-later'}
#: What makes a job a cron or delayed job.
CRON_MAKERS = ('delay', 'cron', 'minute', 'hour', 'day_of_month', 'month',
               'day_of_week')


def seconds(text):
    """A number of seconds, zero or more."""
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(
            'must be a number of seconds, not %r' % (text,))
    return value


def positiveSeconds(text):
    value = seconds(text)
    if value == 0:
        raise argparse.ArgumentTypeError(
            'must be more than 0 seconds, not %r' % (text,))
    return value


def moment(text):
    """``--expires``: seconds from now, or an ISO 8601 time with its
    offset (``2026-05-01T12:00:00+02:00``)."""
    try:
        return seconds(text)
    except argparse.ArgumentTypeError:
        pass
    try:
        value = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            'must be seconds from now or an ISO 8601 time such as'
            ' 2026-05-01T12:00:00+02:00, not %r' % (text,)) from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(
            'needs its offset from UTC, as in %s+00:00, not %r'
            % (text, text))
    return value


def jobIds(text):
    """``--after``: job ids, separated by commas."""
    try:
        return [int(part) for part in text.split(',')]
    except ValueError:
        raise argparse.ArgumentTypeError(
            'must be job ids separated by commas, not %r' % (text,)) from None


def numbers(text):
    """A cron field: numbers separated by commas."""
    try:
        return tuple(int(part) for part in text.split(','))
    except ValueError:
        raise argparse.ArgumentTypeError(
            'must be numbers separated by commas, not %r' % (text,)) from None


def addParser(commands, common, queueName):
    """Add the ``add`` command to the subparsers ``commands``."""
    adding = commands.add_parser(
        'add', help='add jobs, or a cron or delayed job; print their ids,'
        ' one a line')
    common(adding, tasks=True)
    adding.add_argument('task', help='the task name')
    adding.add_argument('input', nargs='?', help='the input, as JSON')
    adding.add_argument('--count', type=integerOption(1, MAX_COUNT),
                        default=1,
                        help='how many such jobs (default: %(default)s)')
    adding.add_argument('--queue', type=queueName, metavar='NAME',
                        help="the job's queue (default: the task's, or"
                        ' default)')
    adding.add_argument('--priority', type=integerOption(-10, 10),
                        default=0, metavar='N',
                        help='from -10 to 10; higher runs first (default:'
                        ' %(default)s)')
    adding.add_argument('--run-as', metavar='USERID',
                        help='the user the job runs as in a Zope site ('
                        '"" for nobody)')
    adding.add_argument('--json', action='store_true',
                        help='print the ids as JSON')
    plain = adding.add_argument_group('plain jobs')
    plain.add_argument('--key', help='add nothing while a job added with'
                       ' this key waits; print its id')
    plain.add_argument('--after', type=jobIds, action='append',
                       metavar='ID[,ID...]',
                       help='wait until these jobs have completed'
                       ' (repeatable)')
    plain.add_argument('--expires', type=moment, metavar='WHEN',
                       help='cancel the job if it has not started by then:'
                       ' seconds from now, or an ISO 8601 time with its'
                       ' offset')
    plain.add_argument('--timeout', type=positiveSeconds, metavar='SECONDS',
                       help='the run-time limit of the job')
    plain.add_argument('--start-later', action='store_true',
                       help='let the job wait until it is started (status'
                       ' "start later")')
    cron = adding.add_argument_group('cron and delayed jobs')
    cron.add_argument('--delay', type=seconds, metavar='SECONDS',
                      help='run the job once, this many seconds from now')
    cron.add_argument('--cron', metavar='EXPRESSION',
                      help="a crontab expression, such as '30 8 * *"
                      " MON-FRI' or @daily")
    cron.add_argument('--timezone', metavar='ZONE',
                      help='the IANA time zone of --cron (default: UTC)')
    cron.add_argument('--misfire', choices=('coalesce', 'skip', 'all'),
                      help='what to do with runs missed while no worker'
                      ' ran: coalesce, skip or all (default: coalesce)')
    cron.add_argument('--misfire-grace', type=positiveSeconds,
                      metavar='SECONDS',
                      help='drop missed runs older than this')
    for option, name in (('--minute', 'minutes'), ('--hour', 'hours (UTC)'),
                         ('--day-of-month', 'days of the month'),
                         ('--month', 'months'),
                         ('--day-of-week', 'days of the week (0 is'
                          ' Monday)')):
        cron.add_argument(option, type=numbers, metavar='N[,N...]',
                          help='the %s, as the old API takes them' % name)
    adding.set_defaults(func=add)


def add(args):
    isCron = any(getattr(args, name) not in (None, False, [])
                 for name in CRON_MAKERS)
    conflicting = [option for name, option in (
        PLAIN_OPTIONS if isCron else CRON_OPTIONS).items()
        if getattr(args, name) not in (None, False, [])]
    if conflicting:
        raise CommandError(
            '%s cannot be used with %s: a cron or delayed job (--delay,'
            ' --cron, --minute ...) has no key, dependencies, start'
            ' deadline, time limit or later start' % (
                ', '.join(conflicting),
                'a cron or delayed job' if isCron else 'a plain job'))
    if args.input is None:
        input = None
    else:
        try:
            input = json.loads(args.input)
        except ValueError as error:
            raise CommandError('the input is not JSON: %s' % error) from None
    loadTasks(args.imports, args.zcml)
    db = openDatabase(args.uri)
    try:
        service, connection = findService(db, parsePath(args.service))
        try:
            ids = []
            for unused in range(args.count):
                try:
                    jobid = (addCron if isCron else addPlain)(
                        service, args, input)
                except (ValueError, TypeError) as error:
                    raise CommandError(str(error)) from None
                if jobid not in ids:
                    ids.append(jobid)
            # A job added now has no oid until the commit; one that
            # waited with the key has.
            added = [jobid for jobid in ids
                     if service.jobs[jobid]._p_oid is None]
            transaction.commit()
        finally:
            transaction.abort()
            connection.close()
    finally:
        db.close()
    report(args, ids, added, isCron)


def addPlain(service, args, input):
    after = [jobid for ids in args.after or () for jobid in ids]
    return service.add(args.task, input, args.start_later,
                       runAs=args.run_as, queue=args.queue,
                       priority=args.priority, key=args.key, after=after,
                       expires=args.expires, timeout=args.timeout)


def addCron(service, args, input):
    return service.addCronJob(
        args.task, input, minute=args.minute or (), hour=args.hour or (),
        dayOfMonth=args.day_of_month or (), month=args.month or (),
        dayOfWeek=args.day_of_week or (), delay=args.delay, cron=args.cron,
        timezone=args.timezone, misfire=args.misfire or 'coalesce',
        misfireGrace=args.misfire_grace, runAs=args.run_as,
        queue=args.queue, priority=args.priority)


def report(args, ids, added, isCron):
    """Print the ids, one a line, and say on standard error what was
    done."""
    if args.json:
        print(json.dumps({'task': args.task, 'ids': ids, 'added': added}))
    else:
        for jobid in ids:
            print(jobid)
    kind = ('delayed job' if args.delay is not None else
            'cron job' if isCron else 'job')
    if added:
        print('added %d %s%s for task %r' % (
            len(added), kind, '' if len(added) == 1 else 's', args.task),
            file=sys.stderr)
    if len(added) < len(ids):
        print('job %s with the key %r waits already: added nothing'
              % (ids[0], args.key), file=sys.stderr)
