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
"""Migration of a task service of z3c.taskqueue 0.2 or lovely.remotetask.

Layout version 0 is what those packages stored, on Python 2: the due
jobs in a zc.queue ``_queue``, the cron and delayed jobs waiting to be
scheduled in ``_scheduledQueue``, the scheduled ones in ``_scheduledJobs``
(an ``IOBTree`` of due times, in seconds since the epoch, to tuples of
jobs); a job's status was its only record of being finished.  Its
datetimes are naive, in the local time of the server, and its error is a
Python 2 ``str`` (z3c.taskqueue 0.2.1) or an exception instance (before
that, and lovely.remotetask).  ``zodbupdate --convert-py3`` leaves them
so, decoding the strings it can as UTF-8 and leaving the others bytes.

``migrate()`` builds the indexes of the current layout from that, in the
transaction of the first use (see ``_migration``):

- queued jobs go to their queue in the order of the old queue;
- cron and delayed jobs keep their due time (a cron job's fields were,
  and are, in UTC), those not yet scheduled are scheduled by the next
  claim, as the old ``_pullJob()`` did;
- ``start later``, cancelled, completed and failed jobs go to the status
  index; every job goes to the history;
- a job the old server had taken and never ended (status ``processing``,
  or ``queued`` or ``delayed`` and in none of its queues: taken by the
  old ``MultiProcessor``'s ``claimNextJob()``, whose run never
  committed) is treated as the job of a lost worker: charged one attempt
  and given back to its queue, ahead of the queued jobs, with the reason
  in its error; if its task's retry policy allows no more attempts, it
  ends in ``error`` with that reason;
- naive datetimes become aware ones, read in the local time zone of the
  process that migrates (``TZ``), or the zone it is given;
- errors become text: bytes are decoded (UTF-8, else Latin-1), an
  exception instance becomes its message, as the old ``getError()``
  showed it.

The old attributes are dropped.  The old queues are left to a pack.
"""
import datetime
import logging

import persistent

from z3c.taskqueue import interfaces
from z3c.taskqueue.cron import _zones
from z3c.taskqueue.model.job import Job
from z3c.taskqueue.model.job import loads
from z3c.taskqueue.model.job import utcnow
from z3c.taskqueue.model.retry import policyFor


log = logging.getLogger('z3c.taskqueue')

#: The attributes of a service of layout version 0: any of them tells
#: the layout.  ``_counter`` was kept by early lovely.remotetask.
OLD_ATTRIBUTES = ('_queue', '_scheduledQueue', '_scheduledJobs')
DROPPED = OLD_ATTRIBUTES + ('_counter',)

#: How many jobs are converted between two savepoints, so that a large
#: migration does not hold every job it changed in memory.
SAVEPOINT_EVERY = 1000

_UTC = datetime.timezone.utc
_WAITING = (interfaces.CRONJOB, interfaces.DELAYED)


class OldQueue(persistent.Persistent):
    """A zc.queue queue of layout version 0, loaded only to be migrated.

    This package does not need zc.queue: where it is not installed, its
    ``Queue``, ``BucketQueue`` (``PersistentQueue``) and ``CompositeQueue``
    are renamed to this class by the zodbupdate map (see ``_zodbupdate``),
    so that the old queues load.  Its state is theirs: ``_data``, a tuple
    of jobs (or, in a composite queue, of queues).
    """

    _data = ()

    def __iter__(self):
        return iter(queueItems(self))

    def __len__(self):
        return len(queueItems(self))


def isLayout0(service):
    """Tell whether ``service`` is of layout version 0."""
    service._p_activate()
    state = service.__dict__
    return any(name in state for name in OLD_ATTRIBUTES)


def migrate(service, timezone=None):
    """Build the current indexes of the layout-0 ``service``, in this
    transaction; convert its jobs.  ``timezone`` (an IANA name) is the
    zone of the old naive datetimes; None: the local zone.

    Return the number of jobs entered in the new indexes.
    """
    zone = None if timezone is None else _zones.get_zone(timezone)
    state = service.__dict__
    jobs = service.jobs
    now = utcnow().timestamp()
    queued = _current(jobs, queueItems(state.get('_queue')))
    pending = _current(jobs, queueItems(state.get('_scheduledQueue')))
    due = {}
    scheduled = state.get('_scheduledJobs')
    for dueTime, entries in (scheduled.items() if scheduled else ()):
        for job in _current(jobs, entries or ()):
            due.setdefault(job.id, dueTime)
    service._makeIndexes()
    queuedIds = [job.id for job in queued]
    inQueue = set(queuedIds)
    pendingIds = {job.id for job in pending}
    takenAway = []
    savepoint = _Savepoints(service)
    migrated = 0
    for jobid, job in jobs.items():     # the tree itself is not changed
        if not loads(job):
            continue    # reported by the service when an index names it
        migrated += 1
        convertJob(job, zone)
        service._history.add(job, job._created or now)
        status = job.status
        if status in interfaces.FINISHED or status == interfaces.STARTLATER:
            service._statuses.add(status, jobid)
        elif status in _WAITING and jobid in pendingIds:
            # Added or rescheduled: the old server would have scheduled
            # it from the time of its next claim, as the new one does.
            service._schedule.addPending(job)
        elif status in _WAITING and jobid in due:
            try:
                service._scheduleAt(job, due[jobid])
            except (TypeError, ValueError) as error:
                _fail(service, job, 'its old due time %r cannot be'
                      ' scheduled: %s' % (due[jobid], error))
        elif status == interfaces.CRONJOB:
            service._schedule.addPending(job)
        elif status == interfaces.QUEUED and jobid in inQueue:
            pass    # queued below, in the order of the old queue
        elif status in (interfaces.QUEUED, interfaces.DELAYED,
                        interfaces.PROCESSING):
            takenAway.append(job)
        else:
            _fail(service, job, 'it had the unknown status %r when it was'
                  ' migrated from layout version 0' % (status,))
        savepoint.count()
    byId = {job.id: job for job in queued}
    waiting = []
    for job in sorted(takenAway, key=lambda job: job._created or now):
        if _giveBack(service, job):
            waiting.append(job)
    waiting += [byId[jobid] for jobid in _unique(queuedIds)
                if byId[jobid].status == interfaces.QUEUED]
    _enqueueInOrder(service, waiting, now)
    for name in DROPPED:
        if name in state:
            delattr(service, name)
    return migrated


def queueItems(queue):
    """Return the items of the old zc.queue ``queue`` (None: none), as
    zc.queue would iterate over them: loaded as ``OldQueue``, as
    zc.queue's own class, or as a broken object."""
    if not isinstance(queue, persistent.Persistent):
        return []
    queue._p_activate()
    state = queue.__getstate__() or {}
    items = []
    for item in state.get('_data', ()):
        if isinstance(item, Job):
            items.append(item)
        elif isinstance(item, persistent.Persistent):
            items.extend(queueItems(item))     # a composite's sub-queue
    return items


def _current(jobs, entries):
    """Return those of the jobs ``entries`` that are still stored, loaded
    (the old ``clean()`` left removed ones in the schedule)."""
    found = []
    for job in entries:
        if not isinstance(job, Job) or not loads(job):
            continue
        if jobs.get(job.id) is job:
            found.append(job)
    return found


def _unique(ids):
    seen = set()
    for jobid in ids:
        if jobid not in seen:
            seen.add(jobid)
            yield jobid


def convertJob(job, zone=None):
    """Convert the fields of ``job`` that layout version 0 stored: the
    datetimes, the error, the text of the task and status."""
    state = job.__dict__
    for name in ('created', 'started', 'completed'):
        if name in state:
            # The Timestamp keeps it as seconds, in another attribute.
            setattr(job, name, toUTC(state[name], zone))
    if isinstance(state.get('scheduledFor'), datetime.datetime):
        job.scheduledFor = toUTC(state['scheduledFor'], zone)
    for name in ('task', 'status'):
        if isinstance(state.get(name), bytes):
            setattr(job, name, decodeText(state[name]))
    if 'error' in state:
        error = state['error']
        if error is None:
            del job.error
        elif not isinstance(error, str):
            job.error = errorText(error)


def toUTC(value, zone=None):
    """Return the datetime ``value`` as an aware UTC datetime; a naive one
    is read in ``zone`` (a tzinfo), or in the local time zone."""
    if not isinstance(value, datetime.datetime):
        return None
    if value.tzinfo is None and zone is not None:
        value = value.replace(tzinfo=zone)
    # A naive datetime's astimezone() reads it in the local zone.
    return value.astimezone(_UTC)


def decodeText(value):
    """Return the bytes ``value`` decoded: as UTF-8, else as Latin-1,
    which decodes any bytes (zodbupdate left as bytes what UTF-8 did not
    decode)."""
    try:
        return value.decode('utf-8')
    except UnicodeDecodeError:
        return value.decode('latin-1')


def errorText(error):
    """Return the error of a job of layout version 0 as text: bytes
    decoded; an exception as the old ``getError()`` showed it, its
    ``str()``, with bytes among its arguments decoded (or its class name
    when it has no message); anything else as its ``str()``."""
    if isinstance(error, bytes):
        return decodeText(error)
    if isinstance(error, str):
        return error
    state = error.__dict__ if hasattr(error, '__dict__') else {}
    args = getattr(error, 'args', None)
    if args is None and '__Broken_newargs__' in state:
        args = state['__Broken_newargs__']      # a class that is gone
    name = type(error).__name__
    if args is None:
        return str(error)
    args = tuple(decodeText(arg) if isinstance(arg, bytes) else arg
                 for arg in args)
    if len(args) == 1:
        text = str(args[0])
    elif args:
        text = str(args)
    else:
        text = ''
    return text or name


def _giveBack(service, job):
    """Let ``job``, which the old server took and never ended, run again
    as the job of a lost worker does; return True if it waits again,
    False if it ended in ``error``."""
    reason = ('the server of layout version 0 took it to run (status %r)'
              ' and never recorded its end' % (job.status,))
    job.attempts += 1
    maxAttempts = policyFor(service._task(job)).maxAttempts
    if job.attempts < maxAttempts:
        log.warning('Job %r: %s; given back to its queue at the migration',
                    job.id, reason)
        job.error = reason
        job.status = interfaces.QUEUED
        return True
    _fail(service, job, '%s; gave up after %d attempts' % (
        reason, job.attempts))
    return False


def _fail(service, job, reason):
    log.error('Job %r: %s', job.id, reason)
    job.error = reason
    job.completed = utcnow()
    job.status = interfaces.ERROR
    service._statuses.add(interfaces.ERROR, job.id)


def _enqueueInOrder(service, jobs, now):
    """Queue ``jobs`` in this order, each as of the time it was created
    (none later than ``now``), and every one at least 2 ms after the one
    before, so that their queue keys keep the order."""
    previous = None
    for job in jobs:
        seconds = min(job._created or now, now)
        if previous is not None:
            seconds = max(seconds, previous + 0.002)
        service._queues.put(job, seconds, 0)
        previous = seconds


class _Savepoints:
    """Makes a savepoint every ``SAVEPOINT_EVERY`` jobs, so that the jobs
    converted so far can leave the connection's cache."""

    def __init__(self, service):
        jar = service._p_jar
        self.manager = None if jar is None else jar.transaction_manager
        self.done = 0

    def count(self):
        self.done += 1
        if self.manager is not None and not self.done % SAVEPOINT_EVERY:
            self.manager.savepoint(optimistic=True)
