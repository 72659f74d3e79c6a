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
"""Cron schedules against brute-force oracles that walk real UTC minutes."""
import bisect
import calendar
import datetime
import functools
import time
import unittest
import zoneinfo

from hypothesis import HealthCheck
from hypothesis import assume
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st


MINUTE = 60
HOUR = 3600
DAY = 86400

# Zones chosen for their transitions: one-hour shifts both ways of the
# equator, Lord Howe's 30 minutes, offsets of 30 and 45 minutes with and
# without DST, a two-hour shift (Troll), changes at midnight (Santiago,
# Havana), Morocco's Ramadan breaks, a skipped day (Apia, 2011) and zones
# without any change.
ZONES = (
    'Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe',
    'Australia/Adelaide', 'Pacific/Chatham', 'America/St_Johns',
    'Antarctica/Troll', 'America/Santiago', 'America/Havana',
    'Africa/Casablanca', 'Pacific/Apia', 'Asia/Kolkata',
    'Asia/Kathmandu', 'UTC', 'Asia/Tokyo',
)

FIRST_YEAR, LAST_YEAR = 1996, 2037

SETTINGS = settings(derandomize=True, database=None, deadline=None,
                    max_examples=250, suppress_health_check=[
                        HealthCheck.too_slow, HealthCheck.filter_too_much])


def utc(year, month=1, day=1, hour=0, minute=0):
    return calendar.timegm((year, month, day, hour, minute, 0))


def fmt(instant, zone=None):
    if zone is None:
        return time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime(instant))
    return datetime.datetime.fromtimestamp(
        instant, zoneinfo.ZoneInfo(zone)).isoformat()


@functools.lru_cache(maxsize=None)
def transitions(zone, year):
    """The instants of ``year`` at which ``zone`` changes its offset.

    Found by asking every hour, to choose instants worth testing; the
    oracle below does not use them.
    """
    tz = zoneinfo.ZoneInfo(zone)

    def offset(instant):
        return datetime.datetime.fromtimestamp(instant, tz).utcoffset()

    found = []
    instant, end = utc(year), utc(year + 1)
    current = offset(instant)
    while instant < end:
        following = instant + HOUR
        if offset(following) != current:
            lo, hi = instant, following
            while hi - lo > 1:
                middle = (lo + hi) // 2
                if offset(middle) == current:
                    lo = middle
                else:
                    hi = middle
            found.append(hi)
            current = offset(following)
        instant = following
    return tuple(found)


class CrontabOracle:
    """cronie's rules applied to real UTC minutes, one minute at a time.

    Written from the rules, not from the engine: each UTC minute is turned
    into local time with zoneinfo.  An entry whose minute or hour field
    starts with '*' fires whenever the local time matches.  Any other
    entry fires at a minute whose local time passes one or more matching
    local times that the clock has not shown before: normally just the
    minute's own; after a jump forward, also the times jumped over; after
    a jump back, none until the clock is past where it was.
    """

    def __init__(self, expression, zone):
        from z3c.taskqueue._crontab import parse
        tab = parse(expression)
        self.tab = tab
        self.zone = zoneinfo.ZoneInfo(zone)
        self.wall = tab.wall

    def matches(self, clock):
        t = time.gmtime(clock)
        tab = self.tab
        sunday0 = (t.tm_wday + 1) % 7
        in_days, in_weekdays = t.tm_mday in tab.days, sunday0 in tab.weekdays
        return (t.tm_min in tab.minutes and t.tm_hour in tab.hours
                and t.tm_mon in tab.months
                and ((in_days and in_weekdays) if tab.dom_star or tab.dow_star
                     else (in_days or in_weekdays)))

    def local(self, instant):
        offset = datetime.datetime.fromtimestamp(
            instant, self.zone).utcoffset().total_seconds()
        assert offset % MINUTE == 0, 'offsets must be whole minutes here'
        return instant + int(offset)

    def firings(self, begin, end):
        """Return the firing instants in ``[begin, end]``.

        The walk starts two days early, so that the clock's past is known.
        """
        instant = begin - begin % MINUTE - 2 * DAY
        highest = self.local(instant - MINUTE)
        found = []
        while instant <= end:
            clock = self.local(instant)
            if self.wall:
                fires = self.matches(clock)
            else:
                fires = any(self.matches(passed) for passed in
                            range(highest + MINUTE, clock + 1, MINUTE))
                highest = max(highest, clock)
            if fires and instant >= begin:
                found.append(instant)
            instant += MINUTE
        return found


class LegacyOracle:
    """The seed's rules for the tuples, applied to real UTC minutes."""

    def __init__(self, **fields):
        given = {name: set(values) for name, values in fields.items()
                 if values}
        # How coarse each field is; the finest given one pins the finer.
        level = {'minute': 0, 'hour': 1, 'dayOfMonth': 2, 'dayOfWeek': 2,
                 'month': 3}
        finest = min((level[name] for name in given), default=None)

        def pinned(name, level, smallest):
            if name in given:
                return given[name]
            if finest is not None and level < 2 and finest > level:
                return {smallest}
            return None

        self.minutes = pinned('minute', 0, 0)
        self.hours = pinned('hour', 1, 0)
        self.days = given.get('dayOfMonth')
        if finest == 3:
            self.days = {1}
        self.weekdays = given.get('dayOfWeek')
        self.months = given.get('month')

    def matches(self, instant):
        t = time.gmtime(instant)
        return all(values is None or value in values for value, values in (
            (t.tm_min, self.minutes), (t.tm_hour, self.hours),
            (t.tm_mday, self.days), (t.tm_wday, self.weekdays),
            (t.tm_mon, self.months)))

    def firings(self, begin, end):
        instant = begin - begin % MINUTE
        return [t for t in range(instant, end + 1, MINUTE)
                if t >= begin and self.matches(t)]


# Strategies

def _values(lo, hi, likely):
    return st.one_of(st.sampled_from(likely), st.integers(lo, hi))


@st.composite
def field_text(draw, lo, hi, likely, names=None, star=0.4):
    value = _values(lo, hi, likely)
    kind = draw(st.sampled_from(
        ['*'] * round(10 * star) + ['*/', 'n', 'list', 'range', 'range/']
        * 2))
    if kind == '*':
        return '*'
    if kind == '*/':
        return '*/%d' % draw(st.integers(1, max(1, (hi - lo) // 2)))
    if kind == 'n':
        text = str(draw(value))
    elif kind == 'list':
        text = ','.join(str(v) for v in draw(
            st.lists(value, min_size=2, max_size=4)))
    else:
        a, b = sorted((draw(value), draw(value)))
        text = '%d-%d' % (a, b)
        if kind == 'range/':
            text += '/%d' % draw(st.integers(1, 5))
    if names and draw(st.booleans()):
        # Write some numbers as names.
        text = '-'.join(
            names[int(part) - lo] if part.isdigit()
            and 0 <= int(part) - lo < len(names) else part
            for part in text.split('-'))
    return text


@st.composite
def expressions(draw):
    from z3c.taskqueue._crontab import DAY_NAMES
    from z3c.taskqueue._crontab import MACROS
    from z3c.taskqueue._crontab import MONTH_NAMES
    if draw(st.integers(0, 14)) == 0:
        return draw(st.sampled_from(sorted(MACROS)))
    fields = [
        draw(field_text(0, 59, (0, 1, 15, 29, 30, 31, 45, 59))),
        # Most transitions happen between 0:00 and 4:00 local time.
        draw(field_text(0, 23, (0, 1, 2, 3, 4, 23))),
        draw(field_text(1, 31, (1, 15, 28, 29, 30, 31), star=0.7)),
        draw(field_text(1, 12, (3, 4, 9, 10, 11), MONTH_NAMES, star=0.8)),
        draw(field_text(0, 7, (0, 6, 7), DAY_NAMES, star=0.7)),
    ]
    return ' '.join(fields)


@st.composite
def instants(draw, zone):
    """An instant, mostly within two days of one of the zone's changes."""
    year = draw(st.integers(FIRST_YEAR, LAST_YEAR))
    changes = transitions(zone, year)
    if changes and draw(st.integers(0, 4)):
        around = draw(st.sampled_from(changes))
        return around + draw(st.integers(-2 * DAY, 2 * DAY))
    return draw(st.integers(utc(year), utc(year + 1) - 1))


def _assert_matches_oracle(test, schedule, oracle, begin, end, describe):
    """Ask ``schedule`` from ``begin``, from firings and from between them.

    Every firing that follows a query within ``[begin, end]`` must be the
    answer; a query with no firing after it must get one after ``end``.
    """
    found = oracle.firings(begin, end)
    # Every firing when there are few; around a DST change there are
    # many for an entry that fires every minute: then a sample of them.
    step = max(1, len(found) // 40)
    queries = [begin] + found[::step] + found[-3:]
    queries += [(a + b) / 2 for a, b in zip(found[::step], found[1::step])]
    for query in queries:
        i = bisect.bisect_right(found, query)
        got = schedule.nextAfter(query)
        if i < len(found):
            test.assertEqual(got, found[i], '%s after %s: got %s, expected'
                             ' %s' % (describe, query, got, found[i]))
        else:
            test.assertGreater(got, end, '%s after %s: got %s, but the'
                               ' oracle found none up to %s'
                               % (describe, query, got, end))


class CrontabOracleTests(unittest.TestCase):
    """Crontab expressions in time zones; zero mismatches allowed."""

    def _makeOne(self, expression, zone):
        from z3c.taskqueue._cron import CronSchedule
        return CronSchedule(expression, zone)

    def _check(self, expression, zone, begin, span=2 * DAY):
        try:
            schedule = self._makeOne(expression, zone)
        except ValueError:
            assume(False)
        oracle = CrontabOracle(expression, zone)
        describe = '%r in %s (from %s)' % (expression, zone, fmt(begin, zone))
        _assert_matches_oracle(self, schedule, oracle, begin, begin + span,
                               describe)

    @SETTINGS
    @given(st.data())
    def test_random_expressions_around_transitions(self, data):
        zone = data.draw(st.sampled_from(ZONES), 'zone')
        expression = data.draw(expressions(), 'expression')
        begin = data.draw(instants(zone), 'begin')
        self._check(expression, zone, begin)

    def test_every_transition_of_some_zones_with_wall_and_fixed_times(self):
        # Deterministic sweep: each change of these zones from 2020 to
        # 2027, with an entry that follows the wall clock and one that
        # runs at fixed local times, both matching around the change.
        expressions = ('*/15 * * * *', '*/30 0-4 * * *',
                       '0,30 0-3 * * *', '15 2 * * *', '45 1 * * *',
                       '0 0 * * *', '30 23 * * *')
        for zone in ('Europe/Berlin', 'Australia/Lord_Howe',
                     'America/Santiago', 'Antarctica/Troll'):
            for year in range(2020, 2028):
                for change in transitions(zone, year):
                    for expression in expressions:
                        self._check(expression, zone, change - 6 * HOUR,
                                    span=12 * HOUR)

    def test_the_day_apia_skipped(self):
        # Samoa skipped 2011-12-30: fixed times of that day run once, at
        # the first minute of the 31st.
        for expression in ('0 12 * * *', '*/20 * * * *', '0 0 30 12 *',
                           '0 9 * * FRI'):
            self._check(expression, 'Pacific/Apia', utc(2011, 12, 29),
                        span=3 * DAY)


class LegacyOracleTests(unittest.TestCase):
    """The seed's tuples, always UTC, against the seed's rules."""

    RANGES = {'minute': (0, 59), 'hour': (0, 23), 'dayOfMonth': (1, 31),
              'month': (1, 12), 'dayOfWeek': (0, 6)}

    @SETTINGS
    @given(st.data())
    def test_random_tuples(self, data):
        from z3c.taskqueue._cron import LegacySchedule
        fields = {}
        for name, (lo, hi) in self.RANGES.items():
            if data.draw(st.integers(0, 3), name + '?') == 0:
                fields[name] = tuple(data.draw(st.lists(
                    st.integers(lo, hi), min_size=1, max_size=4), name))
        try:
            schedule = LegacySchedule(**fields)
        except ValueError:
            assume(False)
        begin = data.draw(st.integers(utc(1970), utc(2100)), 'begin')
        _assert_matches_oracle(self, schedule, LegacyOracle(**fields),
                               begin, begin + 8 * DAY, repr(fields))
