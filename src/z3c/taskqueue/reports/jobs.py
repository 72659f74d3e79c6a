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
"""What the command line and the screens show of jobs: a line of a list
(``summary``), everything about one job (``describe``), a cron job's
schedule and next runs (``cronDetails``), and the durations, times and
shortened texts they are written in.
"""
import datetime
import itertools
import re

from z3c.taskqueue import interfaces
from z3c.taskqueue.model.job import loads


#: How much of an input, output or error a line or ``show`` prints
#: unless ``--full``.
SHORT = 60
LONG = 2000

_DURATION = re.compile(r'^(\d+(?:\.\d+)?)([smhdw])$')
_UNITS = {'s': 1, 'm': 60, 'h': 3600, 'd': 86400, 'w': 7 * 86400}


def parseDuration(text):
    """Turn ``30s``, ``15m``, ``12h``, ``7d`` or ``2w`` into seconds, or
    raise ``ValueError``."""
    match = _DURATION.match(text.strip())
    if match is None:
        raise ValueError('--older-than must be a number and a unit (s, m,'
                         ' h, d or w), such as 7d, not %r' % (text,))
    return float(match.group(1)) * _UNITS[match.group(2)]


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


def age(seconds):
    if seconds is None:
        return '?'
    for unit, size in (('d', 86400), ('h', 3600), ('m', 60)):
        if seconds >= size:
            return '%.0f%s' % (seconds / size, unit)
    return '%.0fs' % seconds


def cut(text, width):
    text = ' '.join(str(text).split())
    return text if len(text) <= width else text[:width - 3] + '...'


def failedJobs(service, task=None, queue=None):
    """Return the ids of the failed jobs of ``task`` in ``queue`` (None:
    any), in the order of their ids.

    The status index holds the ids of the failed jobs: only those are
    loaded, however many other jobs the service keeps.
    """
    found = []
    for jobid in sorted(service._statuses.ids(interfaces.ERROR)):
        job = service.jobs.get(jobid)
        if (job is not None and loads(job)
                and task in (None, job.task) and queue in (None, job.queue)):
            found.append(jobid)
    return found
