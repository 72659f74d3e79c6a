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

from z3c.taskqueue import _cron
from z3c.taskqueue import _zones
from z3c.taskqueue import interfaces
from z3c.taskqueue._cron import LegacySchedule


def utcnow():
    """Return the current time as an aware UTC datetime."""
    return datetime.datetime.now(datetime.timezone.utc)


@zope.interface.implementer(interfaces.IJob)
class Job(persistent.Persistent):
    """A job that runs its task once."""

    output = None
    error = None
    traceback = None
    started = None
    completed = None
    attempts = 0
    lease = None

    # Where the service keeps the job; None while it is in no index.
    _queueKey = None
    _scheduleKey = None

    def __init__(self, id, task, input):
        self.id = id
        self.task = task
        self.input = input
        self.status = interfaces.QUEUED
        self.created = utcnow()

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
                 timezone=None, misfire=_cron.COALESCE, misfireGrace=None):
        super().__init__(id, task, input)
        self.update(minute, hour, dayOfMonth, month, dayOfWeek, delay,
                    cron=cron, timezone=timezone, misfire=misfire,
                    misfireGrace=misfireGrace)
        self.status = (
            interfaces.DELAYED if self.delay else interfaces.CRONJOB)

    def update(self, minute=(), hour=(), dayOfMonth=(), month=(),
               dayOfWeek=(), delay=None, *, cron=None, timezone=None,
               misfire=_cron.COALESCE, misfireGrace=None):
        # Check everything before changing anything.
        delay = _checkDelay(delay)
        misfire, misfireGrace = _cron.check_misfire(misfire, misfireGrace)
        tuples = dict(minute=minute, hour=hour, dayOfMonth=dayOfMonth,
                      month=month, dayOfWeek=dayOfWeek)
        if cron is not None:
            given = {name: values for name, values in tuples.items()
                     if not _is_empty(values)}
            if delay:
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
            if delay and any(schedule.fields.values()):
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
        if self.delay:
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
        if self.delay or self.attempts:
            # A delay runs once however late; a retried or recovered run
            # goes on with the instant it was for.
            return scheduled
        return _cron.due_instant(self._schedule(), scheduled, now,
                                 self.misfire, self.misfireGrace)

    def preview(self, count, now=None):
        if now is None:
            now = time.time()
        if self.delay:
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
    if delay is None or delay == 0 and not isinstance(delay, bool):
        return None
    if (isinstance(delay, bool) or not isinstance(delay, (int, float))
            or not delay > 0 or delay == float('inf')):
        raise ValueError(
            'delay must be a positive number of seconds, not %r' % (delay,))
    return delay
