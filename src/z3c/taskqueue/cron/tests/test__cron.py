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
"""Unit tests for the legacy cron schedule, against a brute-force oracle."""
import calendar
import math
import random
import time
import unittest
from unittest import mock


FIELD_RANGES = {
    'minute': (0, 59),
    'hour': (0, 23),
    'dayOfMonth': (1, 31),
    'month': (1, 12),
    'dayOfWeek': (0, 6),
}

MINUTE = 60
DAY = 24 * 60 * MINUTE


def utc(year, month=1, day=1, hour=0, minute=0, second=0):
    """Seconds since the epoch of a UTC date and time."""
    return calendar.timegm((year, month, day, hour, minute, second))


def fmt(timestamp):
    return time.strftime('%Y-%m-%d %H:%M:%S %a', time.gmtime(timestamp))


class Oracle:
    """The seed's rules applied to real UTC minutes, one minute at a time.

    Written from the rules, not from the code under test: every given
    field must match; a field not given matches anything, except that
    fields finer than the finest given field take their smallest value
    (minute 0, hour 0, and day 1 when only months are given); weekdays
    count from Monday = 0.
    """

    def __init__(self, **fields):
        given = {name: set(values) for name, values in fields.items()
                 if values}
        # The finest given field decides which fields are pinned.
        if 'minute' in given:
            finest = 'minute'
        elif 'hour' in given:
            finest = 'hour'
        elif 'dayOfMonth' in given or 'dayOfWeek' in given:
            finest = 'day'
        elif 'month' in given:
            finest = 'month'
        else:
            finest = None
        self.minutes = given.get('minute')
        if self.minutes is None and finest in ('hour', 'day', 'month'):
            self.minutes = {0}
        self.hours = given.get('hour')
        if self.hours is None and finest in ('day', 'month'):
            self.hours = {0}
        self.days = given.get('dayOfMonth')
        if self.days is None and finest == 'month':
            self.days = {1}
        self.weekdays = given.get('dayOfWeek')
        self.months = given.get('month')

    def matches(self, timestamp):
        t = time.gmtime(timestamp)
        return ((self.minutes is None or t.tm_min in self.minutes)
                and (self.hours is None or t.tm_hour in self.hours)
                and (self.days is None or t.tm_mday in self.days)
                and (self.weekdays is None or t.tm_wday in self.weekdays)
                and (self.months is None or t.tm_mon in self.months))

    def firings(self, now, count, limit):
        """Return up to ``count`` firing times after ``now`` and the end.

        Walk at most ``limit`` whole minutes strictly after ``now``; the
        second value is the last minute walked.
        """
        minute = math.floor(now / MINUTE) * MINUTE
        while minute <= now:
            minute += MINUTE
        found = []
        for _ in range(limit):
            if self.matches(minute):
                found.append(minute)
                if len(found) == count:
                    break
            minute += MINUTE
        return found, minute


def feasible(fields):
    """Tell whether some real date has a given day in a given month."""
    days = fields.get('dayOfMonth') or range(1, 32)
    months = fields.get('month') or range(1, 13)
    longest = {2: 29, 4: 30, 6: 30, 9: 30, 11: 30}
    return any(day <= longest.get(month, 31)
               for month in months for day in days)


class LegacyScheduleTests(unittest.TestCase):

    def _getTargetClass(self):
        from z3c.taskqueue.cron._cron import LegacySchedule
        return LegacySchedule

    def _makeOne(self, **fields):
        return self._getTargetClass()(**fields)

    def assertNext(self, fields, now, expected):
        got = self._makeOne(**fields).nextAfter(now)
        self.assertEqual(got, expected, '%s after %s: got %s, expected %s'
                         % (fields, fmt(now), fmt(got), fmt(expected)))

    # When it fires

    def test_no_field_fires_every_minute(self):
        self.assertNext({}, utc(2024, 5, 6, 7, 8, 30), utc(2024, 5, 6, 7, 9))

    def test_aligned_when_now_is_not(self):
        self.assertNext({'minute': (10,)}, utc(2024, 1, 1, 0, 5, 30),
                        utc(2024, 1, 1, 0, 10))

    def test_just_before_a_firing_minute(self):
        self.assertNext({'minute': (10,)}, utc(2024, 1, 1, 0, 9, 59) + 0.999,
                        utc(2024, 1, 1, 0, 10))

    def test_strictly_after_now(self):
        self.assertNext({'minute': (10,)}, utc(2024, 1, 1, 0, 10),
                        utc(2024, 1, 1, 1, 10))

    def test_within_the_firing_minute(self):
        self.assertNext({'minute': (10,)}, utc(2024, 1, 1, 0, 10, 1),
                        utc(2024, 1, 1, 1, 10))

    def test_result_is_an_integer_number_of_seconds(self):
        result = self._makeOne(minute=(10,)).nextAfter(0.5)
        self.assertEqual(result, 600)
        self.assertIsInstance(result, int)

    def test_minute_wraps_into_the_next_hour(self):
        self.assertNext({'minute': (5, 50)}, utc(2024, 1, 1, 3, 51),
                        utc(2024, 1, 1, 4, 5))

    def test_minute_and_hour_wrap_across_the_year(self):
        self.assertNext({'minute': (59,), 'hour': (23,)},
                        utc(2023, 12, 31, 23, 59), utc(2024, 1, 1, 23, 59))

    def test_hour_pins_the_minute_to_zero(self):
        self.assertNext({'hour': (2, 13)}, utc(2024, 1, 1, 2, 0, 1),
                        utc(2024, 1, 1, 13))

    def test_day_of_month_pins_hour_and_minute(self):
        self.assertNext({'dayOfMonth': (12,)}, utc(2024, 1, 1, 5, 5),
                        utc(2024, 1, 12))

    def test_day_of_week_counts_from_monday(self):
        # 1970-01-01 was a Thursday.
        self.assertNext({'dayOfWeek': (0,)}, 0, utc(1970, 1, 5))
        self.assertNext({'dayOfWeek': (6,)}, 0, utc(1970, 1, 4))

    def test_only_months_pins_the_day_to_the_first(self):
        self.assertNext({'month': (3,)}, utc(2024, 3, 1), utc(2025, 3, 1))

    def test_month_with_hour_leaves_the_day_free(self):
        self.assertNext({'month': (3,), 'hour': (5,)},
                        utc(2024, 3, 1, 5), utc(2024, 3, 2, 5))

    def test_month_with_weekday_leaves_the_day_free(self):
        # The first Monday of March 2024 is the 4th.
        self.assertNext({'month': (3,), 'dayOfWeek': (0,)},
                        utc(2024, 1, 1), utc(2024, 3, 4))

    def test_day_of_month_and_weekday_must_both_match(self):
        # Friday the 13th: every given field must match (unlike crontab,
        # where either day field may match).
        self.assertNext({'dayOfMonth': (13,), 'dayOfWeek': (4,)},
                        utc(2023, 1, 1), utc(2023, 1, 13))
        self.assertNext({'dayOfMonth': (13,), 'dayOfWeek': (4,)},
                        utc(2023, 1, 13), utc(2023, 10, 13))

    def test_day_31_skips_shorter_months(self):
        self.assertNext({'dayOfMonth': (31,)}, utc(2023, 4, 1),
                        utc(2023, 5, 31))

    def test_leap_day(self):
        self.assertNext({'month': (2,), 'dayOfMonth': (29,)},
                        utc(2021, 3, 1), utc(2024, 2, 29))

    def test_leap_day_strictly_after_a_leap_day(self):
        self.assertNext({'month': (2,), 'dayOfMonth': (29,)},
                        utc(2024, 2, 29), utc(2028, 2, 29))

    def test_leap_day_across_2100_which_is_not_a_leap_year(self):
        self.assertNext({'month': (2,), 'dayOfMonth': (29,)},
                        utc(2096, 3, 1), utc(2104, 2, 29))

    def test_leap_day_across_2000_which_is_a_leap_year(self):
        self.assertNext({'month': (2,), 'dayOfMonth': (29,)},
                        utc(1999, 1, 1), utc(2000, 2, 29))

    def test_leap_day_on_a_weekday_across_2100(self):
        # Feb 29 falls on a Monday in 2072 and next in 2112 (not 2100).
        self.assertNext({'month': (2,), 'dayOfMonth': (29,),
                         'dayOfWeek': (0,)},
                        utc(2072, 3, 1), utc(2112, 2, 29))

    def test_leap_day_without_a_month(self):
        self.assertNext({'dayOfMonth': (29,), 'hour': (12,)},
                        utc(2023, 2, 1), utc(2023, 3, 29, 12))

    def test_computed_field_by_field_not_minute_by_minute(self):
        # The old search called gmtime once per minute, up to 525,600
        # times a year; forty years ahead must take a handful of steps.
        from z3c.taskqueue.cron import _cron
        schedule = self._makeOne(month=(2,), dayOfMonth=(29,),
                                 dayOfWeek=(0,))
        with mock.patch.object(_cron.time, 'gmtime',
                               wraps=time.gmtime) as gmtime:
            result = schedule.nextAfter(utc(2072, 3, 1))
        self.assertEqual(result, utc(2112, 2, 29))
        self.assertLess(gmtime.call_count, 10)

    # Checking the fields

    def test_fields_are_sorted_unique_tuples(self):
        schedule = self._makeOne(minute=[30, 10, 10], month={5, 1})
        self.assertEqual(schedule.fields, {
            'minute': (10, 30), 'hour': (), 'dayOfMonth': (),
            'month': (1, 5), 'dayOfWeek': ()})

    def test_range_limits_are_accepted(self):
        for name, (lo, hi) in FIELD_RANGES.items():
            schedule = self._makeOne(**{name: (lo, hi)})
            self.assertEqual(schedule.fields[name], (lo, hi))

    def test_out_of_range_names_the_field(self):
        for name, (lo, hi) in FIELD_RANGES.items():
            for value in (lo - 1, hi + 1):
                with self.assertRaises(ValueError) as raised:
                    self._makeOne(**{name: (lo, value)})
                self.assertIn(name, str(raised.exception))
                self.assertIn(repr(value), str(raised.exception))

    def test_non_integers_name_the_field(self):
        for name in FIELD_RANGES:
            for value in (True, False, '1', 1.0, None, b'1', (1,)):
                with self.assertRaises(ValueError) as raised:
                    self._makeOne(**{name: (value,)})
                self.assertIn(name, str(raised.exception))

    def test_a_field_that_is_not_a_collection_names_the_field(self):
        for name in FIELD_RANGES:
            for value in (1, '1', '12', b'\x01', None):
                with self.assertRaises(ValueError) as raised:
                    self._makeOne(**{name: value})
                self.assertIn(name, str(raised.exception))

    def test_impossible_spec_names_the_fields(self):
        impossible = [
            {'month': (2,), 'dayOfMonth': (30,)},
            {'month': (2,), 'dayOfMonth': (30, 31)},
            {'month': (4,), 'dayOfMonth': (31,)},
            {'month': (2, 4, 6, 9, 11), 'dayOfMonth': (31,)},
            {'month': (2,), 'dayOfMonth': (30,), 'hour': (1,),
             'minute': (2,), 'dayOfWeek': (3,)},
        ]
        for fields in impossible:
            with self.assertRaises(ValueError) as raised:
                self._makeOne(**fields)
            message = str(raised.exception)
            self.assertIn('dayOfMonth', message, fields)
            self.assertIn('month', message.replace('dayOfMonth', ''),
                          fields)

    def test_a_possible_day_in_some_month_is_enough(self):
        self.assertNext({'month': (2, 4), 'dayOfMonth': (31, 30)},
                        utc(2024, 1, 1), utc(2024, 4, 30))

    # Against the oracle

    def _randomFields(self, rng):
        fields = {}
        for name, probability in (('minute', 0.5), ('hour', 0.4),
                                  ('dayOfMonth', 0.2), ('month', 0.15),
                                  ('dayOfWeek', 0.3)):
            if rng.random() < probability:
                lo, hi = FIELD_RANGES[name]
                count = rng.choice((1, 1, 2, 3, 5))
                fields[name] = tuple(rng.randint(lo, hi)
                                     for _ in range(count))
        return fields

    def test_matches_the_oracle(self):
        # For each random spec and a random instant between 1970 and 2400,
        # the oracle walks up to a month of minutes and collects the first
        # few firing times; each must be the schedule's answer from the
        # firing before it (or the start) and from a random instant in
        # between.  When the spec fires less often than that, the walk
        # would take years, so it starts a few days before the schedule's
        # own answer instead: the oracle still checks every minute up to
        # that answer.  After the last firing found, the schedule must not
        # answer a minute the walk has seen.
        rng = random.Random(4127)
        limit = 31 * 24 * 60
        budget = 3000000    # minutes walked in all: keeps the test fast
        checked = specs = 0
        while budget > 0:
            fields = self._randomFields(rng)
            if not feasible(fields):
                with self.assertRaises(ValueError):
                    self._makeOne(**fields)
                continue
            specs += 1
            schedule = self._makeOne(**fields)
            start = rng.uniform(0, utc(2400))
            if rng.random() < 0.2:
                start = math.floor(start / MINUTE) * MINUTE
            answer = schedule.nextAfter(start)
            if answer - start > limit * MINUTE:
                start = answer - rng.uniform(0, 3 * DAY)
            found, end = Oracle(**fields).firings(start, 3, limit)
            budget -= (end - start) / MINUTE
            previous = start
            for firing in found:
                for after in (previous, rng.uniform(previous, firing)):
                    if after >= firing:
                        continue
                    got = schedule.nextAfter(after)
                    self.assertEqual(
                        got, firing, '%s after %r (%s): got %s, expected %s'
                        % (fields, after, fmt(after), fmt(got), fmt(firing)))
                    checked += 1
                previous = firing
            if len(found) < 3:
                got = schedule.nextAfter(previous)
                self.assertGreater(
                    got, end, '%s after %s: got %s, but the oracle found no'
                    ' firing up to %s' % (fields, fmt(previous), fmt(got),
                                          fmt(end)))
        self.assertGreater(specs, 200)
        self.assertGreater(checked, 1000)

    def test_every_single_value_matches_the_oracle(self):
        # Each value of each field alone, from instants that straddle an
        # hour, a day, a month, a year, and February of 2100, which is not
        # a leap year, and from every minute of an hour and every hour of
        # a day.  (Chosen so that no walk takes more than a month.)
        nows = {
            'minute': [utc(2023, 12, 31, 23, minute, 30)
                       for minute in range(60)],
            'hour': [utc(2023, 12, 31, hour, 59, 30) for hour in range(24)],
            'dayOfWeek': [utc(2023, 12, 31, 23, 59, 30),
                          utc(2100, 2, 28, 12)],
            'dayOfMonth': [utc(2100, 2, 14)],
        }
        for name, instants in nows.items():
            lo, hi = FIELD_RANGES[name]
            for value in range(lo, hi + 1):
                fields = {name: (value,)}
                schedule = self._makeOne(**fields)
                oracle = Oracle(**fields)
                for now in instants:
                    found, end = oracle.firings(now, 1, 45 * 24 * 60)
                    self.assertEqual(schedule.nextAfter(now), found[0],
                                     '%s after %s' % (fields, fmt(now)))

    def test_every_month_alone_fires_on_its_first_at_midnight(self):
        for month in range(1, 13):
            fields = {'month': (month,)}
            schedule = self._makeOne(**fields)
            first = utc(2100, month, 1)
            found, end = Oracle(**fields).firings(first - 30, 1, 1)
            self.assertEqual(found, [first])
            self.assertEqual(schedule.nextAfter(first - 30), first)
            self.assertEqual(schedule.nextAfter(first), utc(2101, month, 1))
