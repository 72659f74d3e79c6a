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
"""Crontab schedules across DST changes, and the zones' timelines."""
import calendar
import datetime
import unittest
import zoneinfo


HOUR = 3600
DAY = 86400


def utc(year, month=1, day=1, hour=0, minute=0, second=0):
    return calendar.timegm((year, month, day, hour, minute, second))


class CronScheduleTests(unittest.TestCase):

    def _makeOne(self, expression, timezone=None):
        from z3c.taskqueue.cron._cron import CronSchedule
        return CronSchedule(expression, timezone)

    def _local(self, expression, timezone, start, count):
        """The next ``count`` firings after ``start``, as local ISO times."""
        schedule = self._makeOne(expression, timezone)
        zone = zoneinfo.ZoneInfo(timezone)
        result = []
        for _ in range(count):
            start = schedule.nextAfter(start)
            result.append(
                datetime.datetime.fromtimestamp(start, zone).isoformat())
        return result

    def _countOn(self, expression, timezone, year, month, day):
        """How often ``expression`` fires on a local date."""
        schedule = self._makeOne(expression, timezone)
        zone = zoneinfo.ZoneInfo(timezone)
        date = datetime.date(year, month, day)
        instant = datetime.datetime(year, month, day, tzinfo=zone
                                    ).timestamp() - 12 * HOUR
        count = 0
        while True:
            instant = schedule.nextAfter(instant)
            local = datetime.datetime.fromtimestamp(instant, zone).date()
            if local > date:
                return count
            count += local == date

    # Without DST

    def test_utc_by_default(self):
        schedule = self._makeOne('30 9 * * *')
        self.assertEqual(schedule.timezone, 'UTC')
        self.assertEqual(schedule.nextAfter(utc(2024, 5, 1)),
                         utc(2024, 5, 1, 9, 30))

    def test_result_is_an_integer_strictly_after_now(self):
        schedule = self._makeOne('30 9 * * *', 'Europe/Berlin')
        got = schedule.nextAfter(utc(2024, 5, 1, 7, 30) + 0.5)
        self.assertEqual(got, utc(2024, 5, 2, 7, 30))
        self.assertIsInstance(got, int)
        self.assertEqual(schedule.nextAfter(utc(2024, 5, 1, 7, 29, 59.5)),
                         utc(2024, 5, 1, 7, 30))

    def test_a_zone_without_dst(self):
        # India keeps +05:30 all year: 09:30 is 04:00 UTC in any season.
        for month in (1, 4, 7, 10):
            self.assertEqual(
                self._makeOne('30 9 * * *', 'Asia/Kolkata').nextAfter(
                    utc(2024, month, 1)), utc(2024, month, 1, 4))

    def test_a_45_minute_offset(self):
        self.assertEqual(
            self._local('0 12 * * *', 'Asia/Kathmandu', utc(2024, 1, 1), 1),
            ['2024-01-01T12:00:00+05:45'])

    def test_vixie_either_day_field_when_both_are_restricted(self):
        # The 13th and every Friday, in September 2024 (the 13th is a
        # Friday, the 6th and 20th are Fridays, the 14th is not).
        got = self._local('0 0 13 * FRI', 'UTC', utc(2024, 9, 1), 4)
        self.assertEqual([g[:10] for g in got], [
            '2024-09-06', '2024-09-13', '2024-09-20', '2024-09-27'])

    def test_a_star_step_day_field_counts_as_star(self):
        # cronie: a field starting with '*' makes both day fields match
        # together: odd days that are Mondays.
        got = self._local('0 0 */2 * MON', 'UTC', utc(2024, 9, 1), 3)
        self.assertEqual([g[:10] for g in got], [
            '2024-09-09', '2024-09-23', '2024-10-07'])

    # Spring forward: Europe/Berlin skips 02:00-02:59 on 2024-03-31

    def test_fixed_time_in_skipped_hour_runs_right_after_the_jump(self):
        self.assertEqual(
            self._local('30 2 * * *', 'Europe/Berlin', utc(2024, 3, 30), 3),
            ['2024-03-30T02:30:00+01:00', '2024-03-31T03:00:00+02:00',
             '2024-04-01T02:30:00+02:00'])

    def test_several_skipped_fixed_times_run_once(self):
        self.assertEqual(
            self._countOn('0,15,30 2 * * *', 'Europe/Berlin', 2024, 3, 31), 1)

    def test_fixed_time_after_the_jump_is_not_doubled(self):
        # 02:00 and 02:30 run at 03:00, which is also the entry's own time.
        self.assertEqual(
            self._local('0,30 2,3 * * *', 'Europe/Berlin',
                        utc(2024, 3, 31, 0, 30), 3),
            ['2024-03-31T03:00:00+02:00', '2024-03-31T03:30:00+02:00',
             '2024-04-01T02:00:00+02:00'])

    def test_wall_clock_entry_skips_the_skipped_hour(self):
        self.assertEqual(
            self._local('*/30 * * * *', 'Europe/Berlin',
                        utc(2024, 3, 31, 0, 15), 3),
            ['2024-03-31T01:30:00+01:00', '2024-03-31T03:00:00+02:00',
             '2024-03-31T03:30:00+02:00'])
        self.assertEqual(
            self._countOn('*/15 2 * * *', 'Europe/Berlin', 2024, 3, 31), 0)

    def test_hourly_runs_23_times_on_the_short_day(self):
        self.assertEqual(
            self._countOn('@hourly', 'Europe/Berlin', 2024, 3, 31), 23)

    # Fall back: Europe/Berlin repeats 02:00-02:59 on 2024-10-27

    def test_fixed_time_in_repeated_hour_runs_at_the_first(self):
        self.assertEqual(
            self._local('30 2 * * *', 'Europe/Berlin', utc(2024, 10, 26), 3),
            ['2024-10-26T02:30:00+02:00', '2024-10-27T02:30:00+02:00',
             '2024-10-28T02:30:00+01:00'])

    def test_fixed_time_from_within_the_repeat_waits_for_tomorrow(self):
        # Asked during the second 02:10, 02:30 has run already.
        self.assertEqual(
            self._local('30 2 * * *', 'Europe/Berlin',
                        utc(2024, 10, 27, 1, 10), 1),
            ['2024-10-28T02:30:00+01:00'])

    def test_wall_clock_entry_runs_in_both_repeated_hours(self):
        self.assertEqual(
            self._local('*/30 * * * *', 'Europe/Berlin',
                        utc(2024, 10, 26, 23, 45), 5),
            ['2024-10-27T02:00:00+02:00', '2024-10-27T02:30:00+02:00',
             '2024-10-27T02:00:00+01:00', '2024-10-27T02:30:00+01:00',
             '2024-10-27T03:00:00+01:00'])
        # Asked during the first 02:40, the next is the second 02:00.
        self.assertEqual(
            self._local('*/30 * * * *', 'Europe/Berlin',
                        utc(2024, 10, 27, 0, 40), 1),
            ['2024-10-27T02:00:00+01:00'])

    def test_an_entry_with_star_hour_follows_the_wall_clock(self):
        self.assertEqual(
            self._countOn('30 * * * *', 'Europe/Berlin', 2024, 10, 27), 25)
        self.assertEqual(
            self._countOn('@hourly', 'Europe/Berlin', 2024, 10, 27), 25)
        self.assertEqual(
            self._countOn('30 2 * * *', 'Europe/Berlin', 2024, 10, 27), 1)

    # Lord Howe Island shifts by 30 minutes

    def test_lord_howe_spring_forward(self):
        # 2024-10-06 02:00 (+10:30) becomes 02:30 (+11:00).
        self.assertEqual(
            self._local('15 2 * * *', 'Australia/Lord_Howe',
                        utc(2024, 10, 5), 2),
            ['2024-10-06T02:30:00+11:00', '2024-10-07T02:15:00+11:00'])
        self.assertEqual(
            self._local('*/20 2 * * *', 'Australia/Lord_Howe',
                        utc(2024, 10, 5, 12), 2),
            ['2024-10-06T02:40:00+11:00', '2024-10-07T02:00:00+11:00'])

    def test_lord_howe_fall_back(self):
        # 2024-04-07 02:00 (+11:00) becomes 01:30 (+10:30).
        self.assertEqual(
            self._local('*/15 1 * * *', 'Australia/Lord_Howe',
                        utc(2024, 4, 6, 12), 7),
            ['2024-04-07T01:00:00+11:00', '2024-04-07T01:15:00+11:00',
             '2024-04-07T01:30:00+11:00', '2024-04-07T01:45:00+11:00',
             '2024-04-07T01:30:00+10:30', '2024-04-07T01:45:00+10:30',
             '2024-04-08T01:00:00+10:30'])
        self.assertEqual(
            self._local('45 1 * * *', 'Australia/Lord_Howe',
                        utc(2024, 4, 6, 12), 2),
            ['2024-04-07T01:45:00+11:00', '2024-04-08T01:45:00+10:30'])

    # Changes at midnight, and a skipped day

    def test_santiago_midnight_that_does_not_exist(self):
        # Chile springs forward at 24:00: 2024-09-08 starts at 01:00.
        self.assertEqual(
            self._local('@daily', 'America/Santiago', utc(2024, 9, 7, 12),
                        2),
            ['2024-09-08T01:00:00-03:00', '2024-09-09T00:00:00-03:00'])

    def test_apia_skipped_a_whole_day(self):
        # Samoa went from 2011-12-29 to 2011-12-31: Friday noon ran at
        # midnight, right after the jump.
        self.assertEqual(
            self._local('0 12 * * FRI', 'Pacific/Apia',
                        utc(2011, 12, 28), 2),
            ['2011-12-31T00:00:00+14:00', '2012-01-06T12:00:00+14:00'])

    def test_yearly_across_years_and_changes(self):
        self.assertEqual(
            self._local('@yearly', 'America/New_York', utc(2024, 7, 1), 2),
            ['2025-01-01T00:00:00-05:00', '2026-01-01T00:00:00-05:00'])

    def test_leap_day_on_a_sunday_in_a_dst_zone(self):
        # When a day field starts with '*', both must match.
        self.assertEqual(
            self._local('0 12 29 2 */7', 'Europe/Berlin', utc(2024, 3, 1), 1),
            ['2032-02-29T12:00:00+01:00'])

    # Bad input

    def test_unknown_zone(self):
        for name in ('Mars/Olympus', '', 'utc', '../etc/passwd', 'Europe',
                     5, b'UTC'):
            with self.assertRaises(ValueError) as raised:
                self._makeOne('* * * * *', name)
            self.assertIn('timezone', str(raised.exception))
            self.assertIn(repr(name), str(raised.exception))

    def test_bad_expression(self):
        with self.assertRaises(ValueError) as raised:
            self._makeOne('61 * * * *', 'Europe/Berlin')
        self.assertIn('minute 61', str(raised.exception))


class TimelineTests(unittest.TestCase):

    def _makeOne(self, name):
        from z3c.taskqueue.cron._zones import Timeline
        return Timeline(zoneinfo.ZoneInfo(name))

    def _hourly_transitions(self, name, year):
        from z3c.taskqueue.cron.tests.test_cron_oracle import transitions
        return transitions(name, year)

    def test_no_timeline_for_utc(self):
        from z3c.taskqueue.cron._zones import timeline
        self.assertIsNone(timeline(zoneinfo.ZoneInfo('UTC')))
        self.assertIsNotNone(timeline(zoneinfo.ZoneInfo('Europe/Berlin')))

    def test_timelines_are_shared(self):
        from z3c.taskqueue.cron._zones import timeline
        self.assertIs(timeline(zoneinfo.ZoneInfo('Europe/Berlin')),
                      timeline(zoneinfo.ZoneInfo('Europe/Berlin')))

    def test_piece_around_spring_forward(self):
        berlin = self._makeOne('Europe/Berlin')
        change = utc(2024, 3, 31, 1)
        self.assertEqual(berlin.piece(change - 1),
                         (utc(2024), change, HOUR, HOUR))
        self.assertEqual(berlin.piece(change),
                         (change, utc(2024, 10, 27, 1), 2 * HOUR, HOUR))

    def test_pieces_end_with_the_utc_year(self):
        tokyo = self._makeOne('Asia/Tokyo')
        self.assertEqual(tokyo.piece(utc(2024, 6, 1)),
                         (utc(2024), utc(2025), 9 * HOUR, 9 * HOUR))

    def test_a_change_at_the_start_of_a_utc_year(self):
        # Lisbon left its local mean time (-0:36:45) at 1912-01-01 UTC.
        lisbon = self._makeOne('Europe/Lisbon')
        self.assertEqual(lisbon.piece(utc(1912, 6, 1)),
                         (utc(1912), utc(1913), 0, -2205))

    def test_finds_every_change_that_an_hourly_scan_finds(self):
        # Casablanca's Ramadan breaks are a month long; Troll shifts two
        # hours; Lord Howe half an hour.
        from z3c.taskqueue.cron.tests.test_cron_oracle import ZONES
        for name in ZONES + ('Africa/Casablanca',):
            timeline = self._makeOne(name)
            for year in range(2008, 2032):
                found = []
                instant = utc(year)
                while instant < utc(year + 1):
                    start, end, offset, before = timeline.piece(instant)
                    if offset != before:
                        found.append(start)
                    instant = end
                self.assertEqual(tuple(found),
                                 self._hourly_transitions(name, year),
                                 '%s in %d' % (name, year))

    def test_only_some_years_are_kept(self):
        from z3c.taskqueue.cron import _zones
        timeline = self._makeOne('Europe/Berlin')
        for year in range(1900, 1900 + _zones._MAX_YEARS + 10):
            timeline.piece(utc(year, 6, 1))
        self.assertLessEqual(len(timeline._years), _zones._MAX_YEARS)
