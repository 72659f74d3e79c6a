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
    """A job that runs at given UTC times, or once after a delay."""

    minute = ()
    hour = ()
    dayOfMonth = ()
    month = ()
    dayOfWeek = ()
    delay = None
    scheduledFor = None

    def __init__(self, id, task, input, minute=(), hour=(), dayOfMonth=(),
                 month=(), dayOfWeek=(), delay=None):
        super().__init__(id, task, input)
        self.update(minute, hour, dayOfMonth, month, dayOfWeek, delay)
        self.status = (
            interfaces.DELAYED if self.delay else interfaces.CRONJOB)

    def update(self, minute=(), hour=(), dayOfMonth=(), month=(),
               dayOfWeek=(), delay=None):
        delay = _checkDelay(delay)
        schedule = LegacySchedule(minute, hour, dayOfMonth, month, dayOfWeek)
        if delay and any(schedule.fields.values()):
            raise ValueError(
                'delay=%r cannot be combined with times %r' % (
                    delay, {k: v for k, v in schedule.fields.items() if v}))
        for name, values in schedule.fields.items():
            setattr(self, name, values)
        self.delay = delay
        self._v_schedule = schedule

    def timeOfNextCall(self, now=None):
        if now is None:
            now = time.time()
        if self.delay:
            return now + self.delay
        return self._schedule().nextAfter(now)

    def _schedule(self):
        try:
            return self._v_schedule
        except AttributeError:
            schedule = self._v_schedule = LegacySchedule(
                self.minute, self.hour, self.dayOfMonth, self.month,
                self.dayOfWeek)
            return schedule


def _checkDelay(delay):
    if delay is None or delay == 0 and not isinstance(delay, bool):
        return None
    if (isinstance(delay, bool) or not isinstance(delay, (int, float))
            or not delay > 0 or delay == float('inf')):
        raise ValueError(
            'delay must be a positive number of seconds, not %r' % (delay,))
    return delay
