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
"""The legacy cron schedule: tuples of minutes, hours, days and months."""
import bisect
import calendar
import time


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


class LegacySchedule:
    """When the seed's cron tuples fire, computed field by field.

    All times are UTC seconds since the epoch.  Every given field must
    match; a field not given matches anything, except that fields finer
    than the finest given field take their smallest value (minute 0,
    hour 0, and day 1 when only months are given).  Weekdays count from
    Monday = 0.  With no field at all, the schedule fires every minute.
    """

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

        def effective(name, level, smallest):
            if given[name]:
                return given[name]
            if finest is None or level >= finest:
                return None      # any value
            return (smallest,)

        self._minutes = effective('minute', 0, 0)
        self._hours = effective('hour', 1, 0)
        if given['dayOfMonth'] or given['dayOfWeek'] or finest != 3:
            self._days = given['dayOfMonth'] or None
        else:
            self._days = (1,)
        self._weekdays = given['dayOfWeek'] or None
        self._months = given['month'] or None
        self._checkFeasible()

    def _checkFeasible(self):
        days = self._days or (1,)
        months = self._months or range(1, 13)
        if not any(day <= _MAX_DAYS[month]
                   for month in months for day in days):
            raise ValueError(
                'dayOfMonth %r never falls in month %r: the job would'
                ' never run' % (tuple(days), tuple(months)))

    def nextAfter(self, now):
        """Return the first firing time strictly after ``now``."""
        start = (int(now // 60) + 1) * 60
        year, month, day, hour, minute = _split(start)
        stop = year + _SEARCH_YEARS
        months, days = self._months, self._days
        weekdays, hours, minutes = self._weekdays, self._hours, self._minutes
        while year < stop:
            if months is not None and month not in months:
                i = bisect.bisect_left(months, month)
                if i == len(months):
                    year, month = year + 1, months[0]
                else:
                    month = months[i]
                day, hour, minute = 1, 0, 0
                continue
            if day > calendar.monthrange(year, month)[1]:
                year, month = (year + 1, 1) if month == 12 else (
                    year, month + 1)
                day, hour, minute = 1, 0, 0
                continue
            if ((days is not None and day not in days) or
                    (weekdays is not None and
                     calendar.weekday(year, month, day) not in weekdays)):
                day, hour, minute = day + 1, 0, 0
                continue
            if hours is not None and hour not in hours:
                i = bisect.bisect_left(hours, hour)
                if i == len(hours):
                    day, hour, minute = day + 1, 0, 0
                else:
                    hour, minute = hours[i], 0
                continue
            if minutes is not None and minute not in minutes:
                i = bisect.bisect_left(minutes, minute)
                if i == len(minutes):
                    if hour == 23:
                        day, hour, minute = day + 1, 0, 0
                    else:
                        hour, minute = hour + 1, 0
                else:
                    minute = minutes[i]
                continue
            return calendar.timegm((year, month, day, hour, minute, 0))
        raise AssertionError(
            'no firing time within %d years for %r' % (
                _SEARCH_YEARS, self.fields))


def _split(timestamp):
    t = time.gmtime(timestamp)
    return t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min
