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
"""Jobs: the persistent records of requested task runs."""
import datetime
import time

import persistent
import zope.interface
from ZODB.POSException import POSKeyError
from ZODB.POSException import StateLoadError

from z3c.taskqueue import interfaces
from z3c.taskqueue.cron import _cron
from z3c.taskqueue.cron import _zones
from z3c.taskqueue.cron._cron import LegacySchedule
from z3c.taskqueue.model import _index
from z3c.taskqueue.model import payload
from z3c.taskqueue.model._numbers import isNumber
from z3c.taskqueue.model.queues import DEFAULT as DEFAULT_QUEUE


def utcnow():
    """Return the current time as an aware UTC datetime."""
    return datetime.datetime.now(datetime.timezone.utc)


def loads(job):
    """Tell whether the record of ``job`` loads."""
    try:
        job._p_activate()
        return True
    except (StateLoadError, POSKeyError):
        return False


class _Stored:
    """An attribute of a job that is stored in a form of its own, under
    its name with a leading underscore."""

    def __init__(self, name):
        self.name = name
        self.stored = '_' + name

    def dropOld(self, job):
        """Drop the value a job stored before kept under the attribute's
        own name (a data descriptor has no ``__delete__`` to do it)."""
        if self.name in job.__dict__:
            del job.__dict__[self.name]
            job._p_changed = True


class Timestamp(_Stored):
    """An aware UTC datetime attribute, stored as seconds since the epoch.

    A float pickles in a fraction of the time and space of a datetime,
    and a job is written at every run.  Jobs stored before kept the
    datetime under the attribute's own name; it is read from there.
    """

    def __get__(self, job, cls=None):
        if job is None:
            return self
        seconds = getattr(job, self.stored)
        if seconds is None:
            return job.__dict__.get(self.name)
        return datetime.datetime.fromtimestamp(seconds,
                                               datetime.timezone.utc)

    def __set__(self, job, value):
        self.dropOld(job)
        assign(job, self.stored, None if value is None else value.timestamp())


class PayloadAttribute(_Stored):
    """A job's input or output, kept in a record of its own (see
    ``payload``), so that the job loads even when it no longer does.

    Jobs stored before payloads had records kept the value under the
    attribute's own name; it is read from there.
    """

    def __get__(self, job, cls=None):
        if job is None:
            return self
        state = job.__dict__
        if self.stored not in state and self.name in state:
            return state[self.name]     # stored before payloads had records
        return payload.unwrap(getattr(job, self.stored), self.name, job)

    def __set__(self, job, value):
        # Always a new record: the old one may no longer load.
        self.dropOld(job)
        assign(job, self.stored, payload.wrap(value))


def assign(obj, name, value):
    """Set attribute ``name`` of the persistent ``obj`` to ``value``; for
    None, which is every such attribute's default, store nothing."""
    if value is None:
        if name in obj.__dict__:
            delattr(obj, name)
    else:
        setattr(obj, name, value)


#: The longest delay ``addCronJob()`` takes: a hundred years.  The time
#: keys of the schedule hold due times until the year 2248 (see
#: ``_index.MAX_TIME``), and a delay counts from the time the job is
#: first scheduled, which may be much later than the time it was added.
MAX_DELAY = 100 * 365 * 24 * 3600


@zope.interface.implementer(interfaces.IJob)
class Job(persistent.Persistent):
    """A job that runs its task once.

    Its input and output are kept in records of their own (see
    ``payload``), so that the job loads even when they no longer do.
    """

    _input = None
    _output = None
    context = None
    runAs = None
    error = None
    traceback = None
    created = Timestamp('created')
    started = Timestamp('started')
    completed = Timestamp('completed')
    _created = _started = _completed = None
    attempts = 0
    queue = DEFAULT_QUEUE
    priority = 0
    # The controls of ``add()``: unique key, dependencies, start deadline
    # (seconds since the epoch) and run-time limit (seconds).
    key = None
    after = ()
    expires = None
    timeout = None
    #: Layout version 1 kept the lease of a claimed job here; layout
    #: version 2 keeps claims in the service (``leaseOf()``).
    lease = None

    # Where the service keeps the job; None while it is in no index.  A
    # claim takes a job out of its queue without writing the job: the
    # key may be stale, and is checked before it is used.
    _queueKey = None
    _scheduleKey = None
    _expiryKey = None
    _historyKey = None
    # The ids of the jobs a blocked job still waits for.
    _waitingFor = None
    # The lease whose claim on the job was settled last (see
    # ``lease.Claims``).
    _lastLease = None
    # While the job's commits keep conflicting: since when (seconds
    # since the epoch), and how often it was given back for that.
    _conflictingSince = None
    _conflictRounds = 0

    def __init__(self, id, task, input, queue=DEFAULT_QUEUE, priority=0):
        self.id = id
        self.task = task
        self.input = input
        self.status = interfaces.QUEUED
        self.created = utcnow()
        if queue != DEFAULT_QUEUE:
            self.queue = queue
        if priority:
            self.priority = priority

    input = PayloadAttribute('input')
    output = PayloadAttribute('output')

    def __repr__(self):
        return '<%s %r>' % (self.__class__.__name__, self.id)


@zope.interface.implementer(interfaces.ICronJob)
class CronJob(Job):
    """A job that runs at given times, or once after a delay.

    The times are either the seed's UTC tuples (``minute=``, ``hour=``,
    ...) or a crontab expression (``cron=``) in a time zone.
    """

    minute = ()
    hour = ()
    dayOfMonth = ()
    month = ()
    dayOfWeek = ()
    delay = None
    cron = None
    timezone = 'UTC'
    misfire = _cron.COALESCE
    misfireGrace = None
    scheduledFor = None

    def __init__(self, id, task, input, minute=(), hour=(), dayOfMonth=(),
                 month=(), dayOfWeek=(), delay=None, *, cron=None,
                 timezone=None, misfire=_cron.COALESCE, misfireGrace=None,
                 queue=DEFAULT_QUEUE, priority=0):
        super().__init__(id, task, input, queue, priority)
        self.update(minute, hour, dayOfMonth, month, dayOfWeek, delay,
                    cron=cron, timezone=timezone, misfire=misfire,
                    misfireGrace=misfireGrace)
        self.status = (interfaces.DELAYED if self.delay is not None
                       else interfaces.CRONJOB)

    def update(self, minute=(), hour=(), dayOfMonth=(), month=(),
               dayOfWeek=(), delay=None, *, cron=None, timezone=None,
               misfire=_cron.COALESCE, misfireGrace=None):
        # Check everything before changing anything.
        delay = _checkDelay(delay)
        misfire, misfireGrace = _cron.check_misfire(misfire, misfireGrace)
        tuples = dict(minute=minute, hour=hour, dayOfMonth=dayOfMonth,
                      month=month, dayOfWeek=dayOfWeek)
        if cron is not None:
            if delay == 0:
                delay = None    # no delay: the expression applies
            given = {name: values for name, values in tuples.items()
                     if not _is_empty(values)}
            if delay is not None:
                given['delay'] = delay
            if given:
                raise ValueError(
                    'cron=%r cannot be combined with %s: give either a'
                    ' crontab expression or the tuples' % (cron, ', '.join(
                        '%s=%r' % item for item in sorted(given.items()))))
            schedule = _cron.CronSchedule(cron, timezone)
            fields = dict.fromkeys(tuples, ())
        else:
            if timezone is not None and timezone != _zones.UTC:
                raise ValueError(
                    'timezone=%r needs cron=: the minute, hour, dayOfMonth,'
                    ' month and dayOfWeek tuples are always in UTC'
                    % (timezone,))
            schedule = LegacySchedule(**tuples)
            if delay == 0 and any(schedule.fields.values()):
                delay = None    # no delay: the times apply
            if delay is not None and any(schedule.fields.values()):
                raise ValueError(
                    'delay=%r cannot be combined with times %r' % (
                        delay,
                        {k: v for k, v in schedule.fields.items() if v}))
            fields = schedule.fields
        for name, values in fields.items():
            setattr(self, name, values)
        self.delay = delay
        self.cron = cron
        self.timezone = schedule.timezone
        self.misfire = misfire
        self.misfireGrace = misfireGrace
        self._v_schedule = schedule

    def timeOfNextCall(self, now=None):
        if now is None:
            now = time.time()
        if self.delay is not None:
            return now + self.delay
        return self._schedule().nextAfter(now)

    def timeOfNextCallAfterRun(self, now):
        # Instants that came due while the job ran (or before) are due at
        # once; dueInstant() applies the misfire policy to them.
        scheduled = self._scheduled_instant()
        if scheduled is not None and scheduled < now:
            now = scheduled
        return self.timeOfNextCall(now)

    def dueInstant(self, now):
        scheduled = self._scheduled_instant()
        if scheduled is None:
            return now
        if self.delay is not None or self.attempts:
            # A delay runs once however late; a retried or recovered run
            # goes on with the instant it was for.
            return scheduled
        return _cron.due_instant(self._schedule(), scheduled, now,
                                 self.misfire, self.misfireGrace)

    def preview(self, count, now=None):
        if now is None:
            now = time.time()
        if self.delay is not None:
            times = [now + self.delay][:count]
        else:
            times = []
            schedule = self._schedule()
            for _ in range(count):
                now = schedule.nextAfter(now)
                times.append(now)
        zone = _zones.get_zone(self.timezone)
        return [datetime.datetime.fromtimestamp(t, zone) for t in times]

    def _scheduled_instant(self):
        if self.scheduledFor is None:
            return None
        return self.scheduledFor.timestamp()

    def _schedule(self):
        try:
            return self._v_schedule
        except AttributeError:
            if self.cron is not None:
                schedule = _cron.CronSchedule(self.cron, self.timezone)
            else:
                schedule = LegacySchedule(
                    self.minute, self.hour, self.dayOfMonth, self.month,
                    self.dayOfWeek)
            self._v_schedule = schedule
            return schedule


def _is_empty(values):
    try:
        return not isinstance(values, (str, bytes)) and len(values) == 0
    except TypeError:
        return False


def _checkDelay(delay):
    """Return ``delay``, checked: None, or 0 to ``MAX_DELAY`` seconds."""
    if delay is None:
        return None
    if not isNumber(delay, 0, float('inf')):
        raise ValueError('delay must be a number of seconds from 0 to %d,'
                         ' not %r' % (MAX_DELAY, delay))
    if delay > MAX_DELAY:
        raise ValueError(
            'delay=%r is too long: at most %d seconds (100 years), so that'
            ' the due time fits the schedule, which ends in %d'
            % (delay, MAX_DELAY, _index.MAX_YEAR))
    return delay
