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
"""Cron schedules: when the legacy tuples and crontab expressions fire."""
import bisect
import calendar
import datetime
import math
import time

from z3c.taskqueue.cron import _crontab
from z3c.taskqueue.cron import _zones


# (name, smallest value, largest value, level); a field's level says how
# coarse it is: fields finer than the finest given field are pinned to
# their smallest value.
FIELDS = (
    ('minute', 0, 59, 0),
    ('hour', 0, 23, 1),
    ('dayOfMonth', 1, 31, 2),
    ('dayOfWeek', 0, 6, 2),
    ('month', 1, 12, 3),
)

# The longest a feasible schedule can go without firing is a leap day on a
# given weekday across a century year that is not a leap year: well under
# 50 years.  Searching longer than the whole Gregorian cycle means a bug.
_SEARCH_YEARS = 400

_MAX_DAYS = (None, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)

_DAY = 86400
_EPOCH_ORDINAL = datetime.date(1970, 1, 1).toordinal()


def checkField(name, values, lo, hi):
    """Return ``values`` as a sorted tuple, or raise ValueError naming it."""
    if isinstance(values, (str, bytes)) or not _iterable(values):
        raise ValueError(
            '%s must be a tuple of integers, not %r' % (name, values))
    result = set()
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(
                '%s: %r is not an integer' % (name, value))
        if not lo <= value <= hi:
            raise ValueError(
                '%s: %r is out of range %d-%d' % (name, value, lo, hi))
        result.add(value)
    return tuple(sorted(result))


def _iterable(values):
    try:
        iter(values)
    except TypeError:
        return False
    return True


class _Calendar:
    """The minutes that field values name on a clock without offsets.

    A clock time is a count of seconds since 1970-01-01 00:00 on that
    clock: UTC for the legacy tuples, the local wall clock for crontab
    expressions.  The next match is found field by field: month, then
    day, then time of day, never minute by minute.

    ``days`` and ``weekdays`` (Monday = 0) are None when any day matches.
    With ``either``, a day matches when it is in ``days`` or in
    ``weekdays`` (Vixie cron's rule); otherwise it must be in both.
    """

    def __init__(self, minutes, hours, days, weekdays, months, either=False):
        self._hours = tuple(sorted(hours))
        self._minutes = tuple(sorted(minutes))
        self.months = tuple(sorted(months))
        self._month_set = frozenset(self.months)
        self._days = None if days is None else tuple(sorted(days))
        self._weekdays = None if weekdays is None else frozenset(weekdays)
        self._either = either

    def first(self, clock):
        """Return the first matching clock time at or after ``clock``."""
        day, second = divmod(-(-clock // 60) * 60, _DAY)
        second = self._first_time(second)
        if second is None:
            day += 1
            second = self._earliest
        match = self._first_day(day)
        if match != day:
            second = self._earliest
        return match * _DAY + second

    @property
    def _earliest(self):
        """The first matching time of a day, in seconds."""
        return self._hours[0] * 3600 + self._minutes[0] * 60

    def _first_time(self, second):
        """Return the first matching time of day at or after ``second``
        (a multiple of 60), or None if none is left that day."""
        hour, minute = divmod(second // 60, 60)
        hours, minutes = self._hours, self._minutes
        i = bisect.bisect_left(hours, hour)
        if i < len(hours) and hours[i] == hour:
            j = bisect.bisect_left(minutes, minute)
            if j < len(minutes):
                return hour * 3600 + minutes[j] * 60
            i += 1
        if i < len(hours):
            return hours[i] * 3600 + minutes[0] * 60
        return None

    def _first_day(self, day):
        """Return the first matching day at or after ``day`` (epoch days)."""
        t = time.gmtime(day * _DAY)
        year, month, mday = t.tm_year, t.tm_mon, t.tm_mday
        first = day - mday + 1
        months = self.months
        stop = year + _SEARCH_YEARS
        while year < stop:
            if month in self._month_set:
                found = self._next_day(year, month, first, mday)
                if found is not None:
                    return first + found - 1
            i = bisect.bisect_right(months, month)
            if i == len(months):
                year, month = year + 1, months[0]
            else:
                month = months[i]
            first = datetime.date(year, month, 1).toordinal() - _EPOCH_ORDINAL
            mday = 1
        raise AssertionError('no firing time within %d years' % _SEARCH_YEARS)

    def _next_day(self, year, month, first, mday):
        """Return the first matching day of the month at or after
        ``mday``, or None; ``first`` is the epoch day of its first."""
        length = _MAX_DAYS[month]
        if month == 2 and not calendar.isleap(year):
            length = 28
        days, weekdays = self._days, self._weekdays
        if days is None and weekdays is None:
            return mday if mday <= length else None
        weekday = (first + mday + 2) % 7     # 1970-01-01 was a Thursday
        if days is not None and weekdays is not None and not self._either:
            # Both must match: the first listed day on a listed weekday.
            for day in days[bisect.bisect_left(days, mday):]:
                if day > length:
                    return None
                if (weekday + day - mday) % 7 in weekdays:
                    return day
            return None
        found = []
        if days is not None:
            i = bisect.bisect_left(days, mday)
            if i < len(days) and days[i] <= length:
                found.append(days[i])
        if weekdays is not None:
            day = mday + min((other - weekday) % 7 for other in weekdays)
            if day <= length:
                found.append(day)
        return min(found) if found else None


class LegacySchedule:
    """When the seed's cron tuples fire, computed field by field.

    All times are UTC seconds since the epoch.  Every given field must
    match; a field not given matches anything, except that fields finer
    than the finest given field take their smallest value (minute 0,
    hour 0, and day 1 when only months are given).  Weekdays count from
    Monday = 0.  With no field at all, the schedule fires every minute.
    """

    timezone = _zones.UTC

    def __init__(self, minute=(), hour=(), dayOfMonth=(), month=(),
                 dayOfWeek=()):
        given = {}
        arguments = dict(minute=minute, hour=hour, dayOfMonth=dayOfMonth,
                         month=month, dayOfWeek=dayOfWeek)
        finest = None
        for name, lo, hi, level in FIELDS:
            values = checkField(name, arguments[name], lo, hi)
            given[name] = values
            if values and (finest is None or level < finest):
                finest = level
        self.fields = given

        def effective(name, level, smallest, everything):
            if given[name]:
                return given[name]
            if finest is None or level >= finest:
                return everything
            return (smallest,)

        if given['dayOfMonth'] or given['dayOfWeek'] or finest != 3:
            days = given['dayOfMonth'] or None
        else:
            days = (1,)
        self._checkFeasible(days, given['month'])
        self._calendar = _Calendar(
            effective('minute', 0, 0, range(60)),
            effective('hour', 1, 0, range(24)),
            days, given['dayOfWeek'] or None,
            given['month'] or range(1, 13))

    def _checkFeasible(self, days, months):
        days = days or (1,)
        months = months or range(1, 13)
        if not any(day <= _MAX_DAYS[month]
                   for month in months for day in days):
            raise ValueError(
                'dayOfMonth %r never falls in month %r: the job would'
                ' never run' % (tuple(days), tuple(months)))

    def nextAfter(self, now):
        """Return the first firing time strictly after ``now``."""
        try:
            return self._calendar.first(math.floor(now) + 1)
        except AssertionError:
            raise AssertionError(
                'no firing time within %d years for %r' % (
                    _SEARCH_YEARS, self.fields)) from None


def _remembering(first):
    """Return ``first`` (of a ``_Calendar``) remembering its last answer,
    which is also the answer for every clock time from the one asked
    about to that answer: the walk through a zone's pieces asks again.
    """
    known = [None, None]

    def remembered(clock):
        asked, match = known
        if asked is None or not asked <= clock <= match:
            match = first(clock)
            known[:] = clock, match
        return match
    return remembered


class CronSchedule:
    """When a crontab expression fires in a time zone, as cronie does.

    An expression whose minute or hour field starts with ``*`` follows the
    wall clock: it fires at every instant whose local time matches, so not
    in a skipped hour and twice in a repeated one.  Any other expression
    fires once for each matching local date and time: when the clock
    reaches it, or right after a jump that skipped it, and not again when
    the clock goes back over it.
    """

    def __init__(self, expression, timezone=None):
        tab = _crontab.parse(expression)
        self.zone = _zones.get_zone(
            _zones.UTC if timezone is None else timezone)
        self.expression = expression
        self.timezone = self.zone.key
        self.wall = tab.wall
        self._calendar = _Calendar(
            tab.minutes, tab.hours, tab.days,
            [(day - 1) % 7 for day in tab.weekdays], tab.months,
            either=not (tab.dom_star or tab.dow_star))
        self._timeline = _zones.timeline(self.zone)

    def nextAfter(self, now):
        """Return the first firing time strictly after ``now``."""
        first = self._calendar.first
        instant = math.floor(now) + 1
        timeline = self._timeline
        if timeline is None:
            return first(instant)
        # Walk the pieces of constant UTC offset from ``instant`` on; in
        # each, a local clock time ``c`` is the instant ``c - offset``.
        first = _remembering(first)
        start, end, offset, before = timeline.piece(instant)
        lowest = instant + offset
        while True:
            if not self.wall and before > offset:
                # The clock went back: what it repeats has run already.
                lowest = max(lowest, start + before)
            elif not self.wall and before < offset and instant <= start:
                # The clock jumped: what it skipped runs right after it.
                if first(start + before) < start + offset:
                    return start
            match = first(lowest)
            if match < end + offset:
                return match - offset
            start, end, offset, before = timeline.piece(end)
            instant, lowest = start, start + offset


# Missed runs

COALESCE = 'coalesce'
SKIP = 'skip'
ALL = 'all'
MISFIRE_POLICIES = (COALESCE, SKIP, ALL)

#: The most missed instants that ``misfire='all'`` runs, the newest ones.
MISFIRE_LIMIT = 100

#: A run that starts within this many seconds of its instant is on time;
#: later, it has missed it (cron's resolution is the minute).
ON_TIME = 60


def check_misfire(misfire, misfireGrace):
    """Return ``(misfire, misfireGrace)``, or raise ValueError naming them.
    """
    if misfire not in MISFIRE_POLICIES:
        raise ValueError('misfire=%r: expected one of %s' % (
            misfire, ', '.join(repr(p) for p in MISFIRE_POLICIES)))
    if misfireGrace is not None and (
            isinstance(misfireGrace, bool)
            or not isinstance(misfireGrace, (int, float))
            or not 0 < misfireGrace < math.inf):
        raise ValueError(
            'misfireGrace=%r: expected a positive number of seconds or'
            ' None' % (misfireGrace,))
    return misfire, misfireGrace


def due_instant(schedule, scheduled, now, misfire, grace=None):
    """Return the instant that a run at ``now`` is for, or None.

    ``scheduled`` is the instant the job waited for, ``now`` is at or
    after it; that instant and those of ``schedule`` after it up to
    ``now`` are due.  Those older than ``grace`` seconds are dropped.  Of
    the rest, ``coalesce`` runs the newest, ``skip`` runs the newest only
    if it is on time, and ``all`` runs the oldest of the newest
    ``MISFIRE_LIMIT`` (the others follow, one run each).  None means that
    nothing runs now.
    """
    limit = MISFIRE_LIMIT if misfire == ALL else 1
    lowest = math.floor(scheduled) + 1
    oldest = -math.inf
    if grace is not None:
        oldest = now - grace
        lowest = max(lowest, math.ceil(oldest))
    due = recent_fires(schedule, lowest, now, limit)
    if len(due) < limit and scheduled >= oldest:
        # What the job waited for is due even if its times were changed
        # (without a reschedule) so that they no longer name it.
        due.insert(0, scheduled)
    if not due:
        return None
    if misfire == ALL:
        return due[0]
    if misfire == SKIP and now >= due[-1] + ON_TIME:
        return None
    return due[-1]


def recent_fires(schedule, lowest, now, limit):
    """Return the newest ``limit`` instants in ``[lowest, now]``, in order.

    Windows back from ``now`` grow until they hold enough instants, so
    that the cost follows ``limit``, not the length of an outage.
    """
    span = 60
    while True:
        start = max(lowest, math.ceil(now) - span)
        fires = []
        instant = schedule.nextAfter(start - 1)
        while instant <= now:
            fires.append(instant)
            instant = schedule.nextAfter(instant)
        if len(fires) >= limit or start <= lowest:
            return fires[-limit:]
        span *= 4
