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
"""Unit tests for parsing crontab expressions."""
import unittest


ALL_MINUTES = tuple(range(60))
ALL_HOURS = tuple(range(24))
ALL_DAYS = tuple(range(1, 32))
ALL_MONTHS = tuple(range(1, 13))
ALL_WEEKDAYS = tuple(range(7))


class ParseTests(unittest.TestCase):

    def _callFUT(self, expression):
        from z3c.taskqueue.cron._crontab import parse
        return parse(expression)

    def assertFields(self, expression, minutes=ALL_MINUTES, hours=ALL_HOURS,
                     days=ALL_DAYS, months=ALL_MONTHS,
                     weekdays=ALL_WEEKDAYS):
        tab = self._callFUT(expression)
        self.assertEqual(
            (tab.minutes, tab.hours, tab.days, tab.months, tab.weekdays),
            (tuple(minutes), tuple(hours), tuple(days), tuple(months),
             tuple(weekdays)), expression)
        return tab

    def assertRefused(self, expression, *parts):
        with self.assertRaises(ValueError) as raised:
            self._callFUT(expression)
        message = str(raised.exception)
        self.assertIn(repr(expression), message)
        for part in parts:
            self.assertIn(part, message)
        return message

    # What the fields name

    def test_all_stars(self):
        tab = self.assertFields('* * * * *')
        self.assertEqual(tab.expression, '* * * * *')
        self.assertTrue(tab.dom_star and tab.dow_star and tab.wall)

    def test_numbers_and_lists(self):
        self.assertFields('0,30 9,17 1,15 6 1', minutes=(0, 30),
                          hours=(9, 17), days=(1, 15), months=(6,),
                          weekdays=(1,))

    def test_ranges_and_steps(self):
        self.assertFields('*/15 9-17 */10 1-12/3 *', minutes=(0, 15, 30, 45),
                          hours=range(9, 18), days=(1, 11, 21, 31),
                          months=(1, 4, 7, 10))

    def test_range_with_step(self):
        self.assertFields('10-50/20 * * * *', minutes=(10, 30, 50))

    def test_step_larger_than_the_field(self):
        # As cronie does: only the start of the range.
        self.assertFields('*/100 * * * *', minutes=(0,))

    def test_duplicates_and_order(self):
        self.assertFields('30,10,30,0-10/10 * * * *', minutes=(0, 10, 30))

    def test_leading_zeros(self):
        self.assertFields('05 09 * * *', minutes=(5,), hours=(9,))

    def test_month_and_day_names_in_any_case(self):
        self.assertFields('0 0 * jan,Jun,DEC mon-FRI', minutes=(0,),
                          hours=(0,), months=(1, 6, 12),
                          weekdays=(1, 2, 3, 4, 5))

    def test_name_ranges_with_steps(self):
        self.assertFields('0 0 * JAN-DEC/6 SUN-SAT/3', minutes=(0,),
                          hours=(0,), months=(1, 7), weekdays=(0, 3, 6))

    def test_sunday_is_0_or_7(self):
        for expression in ('0 0 * * 0', '0 0 * * 7', '0 0 * * SUN',
                           '0 0 * * 0,7'):
            self.assertFields(expression, minutes=(0,), hours=(0,),
                              weekdays=(0,))
        self.assertFields('0 0 * * 5-7', minutes=(0,), hours=(0,),
                          weekdays=(0, 5, 6))

    def test_whitespace(self):
        self.assertFields('  0\t9  *  * *\n', minutes=(0,), hours=(9,))

    # The @ names

    def test_macros(self):
        cases = {
            '@yearly': ((0,), (0,), (1,), (1,), ALL_WEEKDAYS),
            '@annually': ((0,), (0,), (1,), (1,), ALL_WEEKDAYS),
            '@monthly': ((0,), (0,), (1,), ALL_MONTHS, ALL_WEEKDAYS),
            '@weekly': ((0,), (0,), ALL_DAYS, ALL_MONTHS, (0,)),
            '@daily': ((0,), (0,), ALL_DAYS, ALL_MONTHS, ALL_WEEKDAYS),
            '@midnight': ((0,), (0,), ALL_DAYS, ALL_MONTHS, ALL_WEEKDAYS),
            '@hourly': ((0,), ALL_HOURS, ALL_DAYS, ALL_MONTHS,
                        ALL_WEEKDAYS),
        }
        for expression, fields in cases.items():
            self.assertFields(expression, *fields)
            self.assertFields(expression.upper(), *fields)

    def test_macros_keep_the_expression(self):
        self.assertEqual(self._callFUT('@daily').expression, '@daily')

    # The flags that cronie's DST and day rules depend on

    def test_wall_clock_when_minute_or_hour_starts_with_star(self):
        for expression in ('* 2 * * *', '*/5 2 * * *', '0 * * * *',
                           '0 */2 * * *', '@hourly'):
            self.assertTrue(self._callFUT(expression).wall, expression)
        for expression in ('0 2 * * *', '0-59 0-23 * * *', '@daily',
                           '0,30 2 * * *'):
            self.assertFalse(self._callFUT(expression).wall, expression)

    def test_day_fields_starting_with_star(self):
        tab = self._callFUT('0 0 */2 * MON')
        self.assertEqual((tab.dom_star, tab.dow_star), (True, False))
        tab = self._callFUT('0 0 1-31 * 0-7')
        self.assertEqual((tab.dom_star, tab.dow_star), (False, False))
        tab = self._callFUT('@weekly')
        self.assertEqual((tab.dom_star, tab.dow_star), (True, False))

    # Bad input names the field and the value

    def test_not_a_string(self):
        for expression in (None, 5, b'* * * * *', ('*',) * 5):
            with self.assertRaises(ValueError) as raised:
                self._callFUT(expression)
            self.assertIn('cron', str(raised.exception))
            self.assertIn(repr(expression), str(raised.exception))

    def test_wrong_field_count(self):
        for expression in ('', '* * * *', '* * * * * *', '0 9 * * MON cmd'):
            self.assertRefused(expression, 'fields', 'expected 5')

    def test_out_of_range(self):
        self.assertRefused('61 * * * *', 'minute 61', '0-59')
        self.assertRefused('0 24 * * *', 'hour 24', '0-23')
        self.assertRefused('0 0 0 * *', 'day of month 0', '1-31')
        self.assertRefused('0 0 32 * *', 'day of month 32')
        self.assertRefused('0 0 * 13 *', 'month 13', '1-12')
        self.assertRefused('0 0 * 0 *', 'month 0')
        self.assertRefused('0 0 * * 8', 'day of week 8', '0-7')
        self.assertRefused('0-60 * * * *', 'minute 60')

    def test_unknown_name(self):
        self.assertRefused('0 0 * * FRX', 'day of week', "'FRX'", 'SUN-SAT')
        self.assertRefused('0 0 * JANUARY *', 'month', "'JANUARY'",
                           'JAN-DEC')
        self.assertRefused('0 0 * * L', 'day of week', "'L'")
        self.assertRefused('0 MON * * *', 'hour', "'MON'")
        self.assertRefused('0 0 * MON *', 'month', "'MON'")

    def test_unknown_at_name(self):
        self.assertRefused('@reboot', '@reboot', '@daily')
        self.assertRefused('@every 5m', '@every')

    def test_bad_step(self):
        for item in ('*/0', '*/', '*/x', '0-59/0', '*/-1', '*/1.5'):
            self.assertRefused('%s * * * *' % item, 'minute %r' % item,
                               'step')

    def test_step_without_a_range(self):
        message = self.assertRefused('5/15 * * * *', "minute '5/15'",
                                     'range or *')
        self.assertIn('5-59/15', message)

    def test_backward_range(self):
        self.assertRefused('0 22-2 * * *', "hour '22-2'", 'backwards')
        self.assertRefused('0 0 * * FRI-MON', "day of week 'FRI-MON'")

    def test_malformed_items(self):
        for field in ('1,,2', ',', '1-', '-1', '**', '*-5', '1-2-3', '?',
                      '12x'):
            self.assertRefused('%s * * * *' % field, 'minute')

    def test_never_fires(self):
        message = self.assertRefused('0 0 30 2 *', 'day of month 30',
                                     'month 2', 'never')
        self.assertIn('would never run', message)
        self.assertRefused('0 0 31 4,6,9,11 *', 'day of month 31')

    def test_impossible_day_with_a_weekday_may_fire(self):
        # With both day fields restricted either may match: Mondays come.
        self.assertFields('0 0 30 2 MON', minutes=(0,), hours=(0,),
                          days=(30,), months=(2,), weekdays=(1,))

    def test_never_fires_when_a_day_field_starts_with_star(self):
        self.assertRefused('0 0 31 2 */2', 'day of month 31', 'never')

    def test_leap_day_may_fire(self):
        self.assertFields('0 0 29 2 *', minutes=(0,), hours=(0,),
                          days=(29,), months=(2,))
