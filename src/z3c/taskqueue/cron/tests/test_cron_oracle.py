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
"""Cron schedules against brute-force oracles that walk real UTC minutes.

The oracles know nothing of the package: the fields of an entry are drawn
as the sets of values they name, and their text is rendered from them."""
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


# The entries the oracle knows: each field is drawn as the set of values
# it names, and its crontab text is rendered from that set.  Nothing of
# the package (its parser, its names, its macros) is used: every entry
# drawn is valid, and the parser must accept it.

MONTHS = ('jan', 'feb', 'mar', 'apr', 'may', 'jun',
          'jul', 'aug', 'sep', 'oct', 'nov', 'dec')
WEEKDAYS = ('sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat')
# The longest month of each number, leap years counted.
MONTH_DAYS = (None, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


class Field:
    """One field of an entry: its crontab text, and the values it names.
    """

    def __init__(self, text, values):
        self.text = text
        self.values = frozenset(values)

    @property
    def star(self):
        """Whether the text starts with '*': cronie's *_STAR flags."""
        return self.text.startswith('*')


def every(lo, hi, step=1):
    """``*`` or ``*/step``."""
    return Field('*' if step == 1 else '*/%d' % step,
                 range(lo, hi + 1, step))


def only(*values):
    """A list of numbers: ``0,30``."""
    return Field(','.join(map(str, values)), values)


def span(first, last, step=1):
    """A range: ``0-4`` or ``0-4/2``."""
    return Field('%d-%d' % (first, last) + ('/%d' % step) * (step != 1),
                 range(first, last + 1, step))


class Entry:
    """A crontab entry as cronie's crontab(5) reads its fields."""

    def __init__(self, minute, hour, dom=None, month=None, dow=None,
                 text=None, separator=' '):
        dom = dom or every(1, 31)
        month = month or every(1, 12)
        dow = dow or every(0, 7)
        self.expression = text or separator.join(
            field.text for field in (minute, hour, dom, month, dow))
        self.minutes = minute.values
        self.hours = hour.values
        self.days = dom.values
        self.months = month.values
        self.weekdays = frozenset(day % 7 for day in dow.values)  # 7: Sun
        # A day field that starts with '*' makes both day fields have to
        # match; otherwise either may.
        self.both_days = dom.star or dow.star
        # An entry whose minute or hour starts with '*' follows the wall
        # clock through DST changes; the others run at fixed times.
        self.wall = minute.star or hour.star

    def canFire(self):
        """Whether some date matches: with both day fields to match, a
        day of the month must fall in one of the months."""
        return not self.both_days or any(
            day <= MONTH_DAYS[month]
            for month in self.months for day in self.days)

    def __repr__(self):
        return repr(self.expression)


#: The @ names, as crontab(5) defines them.
MACROS = {
    '@yearly': Entry(only(0), only(0), only(1), only(1), text='@yearly'),
    '@annually': Entry(only(0), only(0), only(1), only(1),
                       text='@annually'),
    '@monthly': Entry(only(0), only(0), only(1), text='@monthly'),
    '@weekly': Entry(only(0), only(0), dow=only(0), text='@weekly'),
    '@daily': Entry(only(0), only(0), text='@daily'),
    '@midnight': Entry(only(0), only(0), text='@midnight'),
    '@hourly': Entry(only(0), every(0, 23), text='@hourly'),
}


class CrontabOracle:
    """cronie's rules applied to real UTC minutes, one minute at a time.

    Written from the rules, not from the engine, and given the values of
    the fields, not their text: each UTC minute is turned into local time
    with zoneinfo.  An entry whose minute or hour field starts with '*'
    fires whenever the local time matches.  Any other entry fires at a
    minute whose local time passes one or more matching local times that
    the clock has not shown before: normally just the minute's own; after
    a jump forward, also the times jumped over; after a jump back, none
    until the clock is past where it was.
    """

    def __init__(self, entry, zone):
        self.entry = entry
        self.zone = zoneinfo.ZoneInfo(zone)
        self.wall = entry.wall

    def matches(self, clock):
        t = time.gmtime(clock)
        entry = self.entry
        sunday0 = (t.tm_wday + 1) % 7
        in_days = t.tm_mday in entry.days
        in_weekdays = sunday0 in entry.weekdays
        return (t.tm_min in entry.minutes and t.tm_hour in entry.hours
                and t.tm_mon in entry.months
                and ((in_days and in_weekdays) if entry.both_days
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

    def canFire(self):
        """Whether a day of the month falls in one of the months."""
        return self.days is None or any(
            day <= MONTH_DAYS[month]
            for month in self.months or range(1, 13) for day in self.days)

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
def _number(draw, value, lo, names):
    """``value`` as text: a number, or its name in any case."""
    if names and 0 <= value - lo < len(names) and draw(st.booleans()):
        name = names[value - lo]
        return draw(st.sampled_from((name, name.upper(), name.title())))
    return str(value)


@st.composite
def fields(draw, lo, hi, likely, names=None, star=0.4):
    """A field of values from ``lo`` to ``hi``: a ``Field``."""
    value = _values(lo, hi, likely)
    kind = draw(st.sampled_from(
        ['*'] * round(10 * star) + ['*/', 'set', 'items'] * 2))
    if kind == '*':
        return every(lo, hi)
    if kind == '*/':
        return every(lo, hi, draw(st.integers(1, hi - lo + 1)))
    if kind == 'set':
        # A set of values, written as numbers, names and runs in any
        # order.
        values = sorted(draw(st.sets(value, min_size=1, max_size=8)))
        runs = []
        for v in values:
            if runs and runs[-1][1] == v - 1:
                runs[-1][1] = v
            else:
                runs.append([v, v])
        items = []
        for first, last in runs:
            if first < last and draw(st.booleans()):
                items.append('%s-%s' % (draw(_number(first, lo, names)),
                                        draw(_number(last, lo, names))))
            else:
                items += [draw(_number(v, lo, names))
                          for v in range(first, last + 1)]
        return Field(','.join(draw(st.permutations(items))), values)
    # A list of single values, ranges with or without a step, and '*/'.
    texts, values = [], set()
    for i in range(draw(st.integers(1, 3))):
        item = draw(st.sampled_from(['n', 'range', 'range/', '*/']))
        if item == '*/':
            field = every(lo, hi, draw(st.integers(2, hi - lo + 1)))
            texts.append(field.text)
            values |= field.values
            continue
        first, last = sorted((draw(value), draw(value)))
        if item == 'n':
            last = first
        step = draw(st.integers(1, 5)) if item == 'range/' else 1
        text = draw(_number(first, lo, names))
        if item != 'n':
            text += '-' + draw(_number(last, lo, names))
        if step != 1:
            text += '/%d' % step
        texts.append(text)
        values.update(range(first, last + 1, step))
    return Field(','.join(texts), values)


@st.composite
def entries(draw):
    if draw(st.integers(0, 14)) == 0:
        return MACROS[draw(st.sampled_from(sorted(MACROS)))]
    entry = Entry(
        draw(fields(0, 59, (0, 1, 15, 29, 30, 31, 45, 59))),
        # Most transitions happen between 0:00 and 4:00 local time.
        draw(fields(0, 23, (0, 1, 2, 3, 4, 23))),
        draw(fields(1, 31, (1, 15, 28, 29, 30, 31), star=0.7)),
        draw(fields(1, 12, (2, 3, 4, 9, 10, 11), MONTHS, star=0.8)),
        draw(fields(0, 7, (0, 6, 7), WEEKDAYS, star=0.7)),
        separator=draw(st.sampled_from((' ', '  ', '\t'))))
    return entry


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
        from z3c.taskqueue.cron._cron import CronSchedule
        return CronSchedule(expression, zone)

    def _check(self, entry, zone, begin, span=2 * DAY):
        if not entry.canFire():
            # Both day fields must match, and no date does: refused.
            with self.assertRaises(ValueError) as raised:
                self._makeOne(entry.expression, zone)
            self.assertIn('the job would never run', str(raised.exception))
            return
        # Every other entry is valid: the parser must accept it.
        schedule = self._makeOne(entry.expression, zone)
        oracle = CrontabOracle(entry, zone)
        describe = '%r in %s (from %s)' % (entry.expression, zone,
                                           fmt(begin, zone))
        _assert_matches_oracle(self, schedule, oracle, begin, begin + span,
                               describe)

    @SETTINGS
    @given(st.data())
    def test_random_expressions_around_transitions(self, data):
        zone = data.draw(st.sampled_from(ZONES), 'zone')
        entry = data.draw(entries(), 'entry')
        begin = data.draw(instants(zone), 'begin')
        self._check(entry, zone, begin)

    def test_every_transition_of_some_zones_with_wall_and_fixed_times(self):
        # Deterministic sweep: each change of these zones from 2020 to
        # 2027, with an entry that follows the wall clock and one that
        # runs at fixed local times, both matching around the change.
        entries = (
            ('*/15 * * * *', Entry(every(0, 59, 15), every(0, 23))),
            ('*/30 0-4 * * *', Entry(every(0, 59, 30), span(0, 4))),
            ('0,30 0-3 * * *', Entry(only(0, 30), span(0, 3))),
            ('15 2 * * *', Entry(only(15), only(2))),
            ('45 1 * * *', Entry(only(45), only(1))),
            ('0 0 * * *', Entry(only(0), only(0))),
            ('30 23 * * *', Entry(only(30), only(23))))
        for expression, entry in entries:
            self.assertEqual(entry.expression, expression)
        for zone in ('Europe/Berlin', 'Australia/Lord_Howe',
                     'America/Santiago', 'Antarctica/Troll'):
            for year in range(2020, 2028):
                for change in transitions(zone, year):
                    for expression, entry in entries:
                        self._check(entry, zone, change - 6 * HOUR,
                                    span=12 * HOUR)

    def test_the_day_apia_skipped(self):
        # Samoa skipped 2011-12-30: fixed times of that day run once, at
        # the first minute of the 31st.
        entries = (
            ('0 12 * * *', Entry(only(0), only(12))),
            ('*/20 * * * *', Entry(every(0, 59, 20), every(0, 23))),
            ('0 0 30 12 *', Entry(only(0), only(0), only(30), only(12))),
            ('0 9 * * FRI', Entry(only(0), only(9),
                                  dow=Field('FRI', {5}))))
        for expression, entry in entries:
            self.assertEqual(entry.expression, expression)
            self._check(entry, 'Pacific/Apia', utc(2011, 12, 29),
                        span=3 * DAY)

    @SETTINGS
    @given(entries())
    def test_the_parser_reads_the_values_the_oracle_drew(self, entry):
        # Not needed by the tests above, which compare firing times; when
        # one of them fails, this one tells whether the parser is wrong.
        from z3c.taskqueue.cron._crontab import parse
        assume(entry.canFire())
        tab = parse(entry.expression)
        self.assertEqual((set(tab.minutes), set(tab.hours), set(tab.days),
                          set(tab.months), set(tab.weekdays)),
                         (entry.minutes, entry.hours, entry.days,
                          entry.months, entry.weekdays))
        self.assertEqual(tab.dom_star or tab.dow_star, entry.both_days)
        self.assertEqual(tab.wall, entry.wall)


class LegacyOracleTests(unittest.TestCase):
    """The seed's tuples, always UTC, against the seed's rules."""

    RANGES = {'minute': (0, 59), 'hour': (0, 23), 'dayOfMonth': (1, 31),
              'month': (1, 12), 'dayOfWeek': (0, 6)}

    @SETTINGS
    @given(st.data())
    def test_random_tuples(self, data):
        from z3c.taskqueue.cron._cron import LegacySchedule
        fields = {}
        for name, (lo, hi) in self.RANGES.items():
            if data.draw(st.integers(0, 3), name + '?') == 0:
                fields[name] = tuple(data.draw(st.lists(
                    st.integers(lo, hi), min_size=1, max_size=4), name))
        oracle = LegacyOracle(**fields)
        if not oracle.canFire():
            # A day that falls in none of the months: refused.
            with self.assertRaises(ValueError) as raised:
                LegacySchedule(**fields)
            self.assertIn('the job would never run', str(raised.exception))
            return
        schedule = LegacySchedule(**fields)
        begin = data.draw(st.integers(utc(1970), utc(2100)), 'begin')
        _assert_matches_oracle(self, schedule, oracle, begin,
                               begin + 8 * DAY, repr(fields))
