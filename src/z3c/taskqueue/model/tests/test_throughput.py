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
"""``Throughput.recent``: the jobs that finished in the last N seconds,
from counts kept per minute, the oldest minute pro-rated."""
import unittest


#: 12:00:00 on some day, in seconds since the epoch: a whole minute.
NOON = 1767268800


class RecentTests(unittest.TestCase):

    def _makeOne(self):
        from z3c.taskqueue.model.throughput import Throughput
        return Throughput()

    def test_the_last_minute_is_the_last_60_seconds(self):
        counts = self._makeOne()
        counts.count('error', NOON - 30, 40)    # 11:59:30
        counts.count('error', NOON + 10, 2)     # 12:00:10
        # At 12:00:45: the 2 of this minute, and a quarter of the 40 of
        # the minute before, whose last 15 seconds are within.
        self.assertEqual(counts.recent(NOON + 45, 60)['error'], 2 + 10)

    def test_a_new_minute_does_not_start_from_nothing(self):
        # The status said 30 errors at 12:00:59; five seconds later the
        # dashboard must not say none.
        counts = self._makeOne()
        counts.count('error', NOON + 30, 30)
        self.assertEqual(counts.recent(NOON + 59, 60)['error'], 30)
        self.assertEqual(counts.recent(NOON + 64, 60)['error'], 28)
        self.assertEqual(counts.recent(NOON + 120, 60)['error'], 0)

    def test_at_a_whole_minute_the_minute_before_counts_whole(self):
        counts = self._makeOne()
        counts.count('completed', NOON - 61, 7)     # 11:58:59
        counts.count('completed', NOON - 1, 5)      # 11:59:59
        self.assertEqual(counts.recent(NOON, 60)['completed'], 5)

    def test_the_last_hour(self):
        counts = self._makeOne()
        counts.count('cancelled', NOON - 3600 - 30, 60)    # 10:59:30
        counts.count('cancelled', NOON - 1800, 3)
        counts.count('cancelled', NOON + 20, 1)
        # At 12:00:20 the hour began at 11:00:20: the 60 of 10:59 are
        # older.
        self.assertEqual(counts.recent(NOON + 20, 3600)['cancelled'], 4)
        # At 11:59:40 it began at 10:59:40: a third of 10:59's 60.
        self.assertEqual(counts.recent(NOON - 20, 3600)['cancelled'],
                         20 + 3)

    def test_every_finished_status_is_counted(self):
        counts = self._makeOne()
        self.assertEqual(counts.recent(NOON, 60),
                         {'completed': 0, 'error': 0, 'cancelled': 0})


def test_suite():
    return unittest.defaultTestLoader.loadTestsFromName(__name__)
