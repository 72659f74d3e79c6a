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
"""The command lines of the job commands (see ``_jobcommands``)."""
import argparse

from z3c.taskqueue import interfaces
from z3c.taskqueue.commands._jobcommands import cancel
from z3c.taskqueue.commands._jobcommands import clean
from z3c.taskqueue.commands._jobcommands import cron
from z3c.taskqueue.commands._jobcommands import jobs
from z3c.taskqueue.commands._jobcommands import retry
from z3c.taskqueue.commands._jobcommands import show
from z3c.taskqueue.commands.command import integerOption


def _jobId(text):
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            'a job id is an integer, not %r' % (text,)) from None


_limit = integerOption(1, 10000)


def addParsers(commands, common, queueName):
    """Add the commands that show and manage jobs to the subparsers
    ``commands``; ``common`` adds the URI and ``--service``."""
    statuses = ', '.join(interfaces.STATUSES)
    listing = commands.add_parser(
        'jobs', help='list jobs, newest first, a page at a time')
    common(listing)
    listing.add_argument('--status', choices=interfaces.STATUSES,
                         metavar='STATUS', help='only jobs in STATUS (%s)'
                         % statuses)
    listing.add_argument('--task', help='only jobs of this task')
    listing.add_argument('--queue', type=queueName,
                         help='only jobs of this queue')
    listing.add_argument('--limit', type=_limit, default=50,
                         help='at most this many jobs (default:'
                         ' %(default)s)')
    listing.add_argument('--after', type=int, metavar='CURSOR',
                         help='the page after the one that printed'
                         ' "more: --after CURSOR"')
    listing.add_argument('--json', action='store_true',
                         help='print JSON')
    listing.set_defaults(func=jobs)

    showing = commands.add_parser('show', help='show everything about a job')
    common(showing)
    showing.add_argument('id', type=_jobId, help='the job id')
    showing.add_argument('--full', action='store_true',
                         help='show inputs and outputs in full')
    showing.add_argument('--json', action='store_true', help='print JSON')
    showing.set_defaults(func=show)

    for name, text in (('cancel', 'cancel jobs that wait'),
                       ('retry', 'queue failed or cancelled jobs again')):
        command = commands.add_parser(name, help=text)
        common(command)
        command.add_argument('ids', type=_jobId, nargs='+', metavar='ID',
                             help='job ids')
        command.add_argument('--json', action='store_true',
                             help='print JSON')
        command.set_defaults(func={'cancel': cancel, 'retry': retry}[name])

    cleaning = commands.add_parser(
        'clean', help='remove finished jobs, a thousand a transaction')
    common(cleaning)
    cleaning.add_argument('--status', action='append',
                          choices=interfaces.FINISHED, metavar='STATUS',
                          help='only jobs in STATUS (completed, error,'
                          ' cancelled; repeatable; default: all three)')
    cleaning.add_argument('--older-than', metavar='AGE',
                          help='only jobs that finished more than AGE ago'
                          ' (30m, 12h, 7d, 2w)')
    cleaning.add_argument('--json', action='store_true', help='print JSON')
    cleaning.set_defaults(func=clean)

    crons = commands.add_parser(
        'cron', help='list cron jobs with their next fire times')
    common(crons)
    crons.add_argument('--json', action='store_true', help='print JSON')
    crons.set_defaults(func=cron)
