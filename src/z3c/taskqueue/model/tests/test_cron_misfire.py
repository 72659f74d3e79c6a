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
"""Missed cron runs: the misfire policies, alone and in the service."""
import calendar
import unittest


MINUTE = 60
HOUR = 3600


def utc(year, month=1, day=1, hour=0, minute=0, second=0):
    return calendar.timegm((year, month, day, hour, minute, second))


class CountingSchedule:
    """Wraps a schedule and counts the calls to ``nextAfter``."""

    def __init__(self, schedule):
        self.schedule = schedule
        self.calls = 0

    def nextAfter(self, now):
        self.calls += 1
        return self.schedule.nextAfter(now)


class DueInstantTests(unittest.TestCase):

    def _callFUT(self, expression, scheduled, now, misfire='coalesce',
                 misfireGrace=None):
        from z3c.taskqueue.cron._cron import CronSchedule
        from z3c.taskqueue.cron._cron import due_instant
        return due_instant(CronSchedule(expression), scheduled, now, misfire,
                           misfireGrace)

    def test_on_time_every_policy_runs_the_instant(self):
        for misfire in ('coalesce', 'skip', 'all'):
            self.assertEqual(
                self._callFUT('0 * * * *', HOUR, HOUR + 2, misfire), HOUR)

    def test_coalesce_runs_the_newest(self):
        self.assertEqual(
            self._callFUT('0 * * * *', HOUR, 5 * HOUR + 2000), 5 * HOUR)

    def test_skip_runs_the_newest_if_reached_within_its_minute(self):
        self.assertEqual(
            self._callFUT('0 * * * *', HOUR, 5 * HOUR + 59, 'skip'),
            5 * HOUR)
        self.assertIsNone(
            self._callFUT('0 * * * *', HOUR, 5 * HOUR + 60, 'skip'))
        # A single late instant is missed too.
        self.assertIsNone(
            self._callFUT('0 * * * *', HOUR, HOUR + 600, 'skip'))

    def test_all_runs_the_oldest(self):
        self.assertEqual(
            self._callFUT('0 * * * *', HOUR, 5 * HOUR + 2000, 'all'), HOUR)

    def test_all_is_bounded_to_the_newest(self):
        from z3c.taskqueue.cron._cron import MISFIRE_LIMIT
        # A year of every minute: only the newest MISFIRE_LIMIT run.
        now = utc(2025) + 30
        self.assertEqual(
            self._callFUT('* * * * *', utc(2024), now, 'all'),
            utc(2025) - (MISFIRE_LIMIT - 1) * MINUTE)

    def test_grace_drops_older_instants(self):
        # The newest is 2000 s old: beyond a grace of 1800.
        self.assertIsNone(self._callFUT('0 * * * *', HOUR, 5 * HOUR + 2000,
                                        misfireGrace=1800))
        self.assertEqual(self._callFUT('0 * * * *', HOUR, 5 * HOUR + 2000,
                                       misfireGrace=2000), 5 * HOUR)
        # With 'all', the oldest within the grace.
        self.assertEqual(self._callFUT('0 * * * *', HOUR, 5 * HOUR + 2000,
                                       'all', 3 * HOUR), 3 * HOUR)

    def test_grace_applies_to_the_scheduled_instant(self):
        self.assertIsNone(self._callFUT('0 * * * *', HOUR, HOUR + 601,
                                        misfireGrace=600))
        self.assertEqual(self._callFUT('0 * * * *', HOUR, HOUR + 600,
                                       misfireGrace=600), HOUR)

    def test_scheduled_instant_is_due_even_if_the_times_changed(self):
        # The job waited for 01:00 but now fires at :30 only.
        self.assertEqual(self._callFUT('30 * * * *', HOUR, HOUR + 5), HOUR)
        self.assertEqual(
            self._callFUT('30 * * * *', HOUR, HOUR + 40 * MINUTE, 'all'),
            HOUR)
        self.assertEqual(
            self._callFUT('30 * * * *', HOUR, HOUR + 40 * MINUTE),
            HOUR + 30 * MINUTE)

    def test_cost_follows_the_limit_not_the_outage(self):
        from z3c.taskqueue.cron._cron import CronSchedule
        from z3c.taskqueue.cron._cron import due_instant
        for misfire, most in (('coalesce', 10), ('all', 500)):
            schedule = CountingSchedule(CronSchedule('* * * * *'))
            due_instant(schedule, utc(2020), utc(2025), misfire)
            self.assertLess(schedule.calls, most, misfire)


class ServiceMisfireTests(unittest.TestCase):
    """The policies as ``processNext()`` and the workers' API apply them."""

    def setUp(self):
        import zope.component
        import zope.component.testing
        import zope.interface

        from z3c.taskqueue.interfaces import ITask
        zope.component.testing.setUp(self)
        self.addCleanup(zope.component.testing.tearDown)
        self.ran = ran = []

        @zope.interface.implementer(ITask)
        class Recorder:
            inputSchema = outputSchema = retryPolicy = None

            def __call__(self, service, jobid, input):
                # The task can read the instant it runs for.
                ran.append(service.jobs[jobid].scheduledFor.timestamp())

        zope.component.provideUtility(Recorder(), name='record')

    def tearDown(self):
        import transaction
        transaction.abort()

    def _makeOne(self):
        from z3c.taskqueue.model.service import TaskService
        return TaskService()

    def _add(self, service, **times):
        jobid = service.addCronJob('record', **times)
        self.assertFalse(service.processNext(0))    # schedules it
        return jobid

    def _runAll(self, service, now):
        while service.processNext(now):
            pass
        from z3c.taskqueue.tests._support import assertConsistent
        assertConsistent(self, service)

    def _scheduledFor(self, service, jobid):
        return service.jobs[jobid].scheduledFor.timestamp()

    def test_coalesce_runs_once_for_the_newest(self):
        service = self._makeOne()
        jobid = self._add(service, cron='0 * * * *')
        self._runAll(service, 5 * HOUR + 30)
        self.assertEqual(self.ran, [5 * HOUR])
        self.assertEqual(self._scheduledFor(service, jobid), 6 * HOUR)

    def test_skip_runs_nothing_late(self):
        service = self._makeOne()
        jobid = self._add(service, cron='0 * * * *', misfire='skip')
        self._runAll(service, 5 * HOUR + 600)
        self.assertEqual(self.ran, [])
        self.assertEqual(service.getStatus(jobid), 'cronjob')
        self.assertEqual(self._scheduledFor(service, jobid), 6 * HOUR)
        self._runAll(service, 6 * HOUR + 5)
        self.assertEqual(self.ran, [6 * HOUR])

    def test_skip_runs_the_current_instant_on_time(self):
        service = self._makeOne()
        self._add(service, cron='0 * * * *', misfire='skip')
        self._runAll(service, 5 * HOUR + 30)
        self.assertEqual(self.ran, [5 * HOUR])

    def test_all_runs_each_oldest_first(self):
        service = self._makeOne()
        jobid = self._add(service, cron='0 * * * *', misfire='all')
        self._runAll(service, 5 * HOUR + 30)
        self.assertEqual(self.ran, [HOUR, 2 * HOUR, 3 * HOUR, 4 * HOUR,
                                    5 * HOUR])
        self.assertEqual(self._scheduledFor(service, jobid), 6 * HOUR)

    def test_all_is_bounded(self):
        from z3c.taskqueue.cron._cron import MISFIRE_LIMIT
        service = self._makeOne()
        self._add(service, cron='* * * * *', misfire='all')
        now = 1000 * MINUTE + 5
        self._runAll(service, now)
        self.assertEqual(len(self.ran), MISFIRE_LIMIT)
        self.assertEqual(self.ran[0], (1001 - MISFIRE_LIMIT) * MINUTE)
        self.assertEqual(self.ran[-1], 1000 * MINUTE)

    def test_grace_drops_what_is_too_old(self):
        service = self._makeOne()
        jobid = self._add(service, cron='0 * * * *', misfire='all',
                          misfireGrace=2.5 * HOUR)
        self._runAll(service, 5 * HOUR + 30)
        self.assertEqual(self.ran, [3 * HOUR, 4 * HOUR, 5 * HOUR])
        self.assertEqual(self._scheduledFor(service, jobid), 6 * HOUR)

    def test_grace_can_drop_everything(self):
        service = self._makeOne()
        self._add(service, cron='0 * * * *', misfireGrace=60)
        self._runAll(service, 5 * HOUR + 61)
        self.assertEqual(self.ran, [])

    def test_legacy_tuples_coalesce_by_default(self):
        service = self._makeOne()
        jobid = self._add(service, minute=(0,))
        self._runAll(service, 5 * HOUR + 30)
        self.assertEqual(self.ran, [5 * HOUR])
        self.assertEqual(self._scheduledFor(service, jobid), 6 * HOUR)

    def test_instants_that_fall_due_during_a_long_run(self):
        # A worker claims the 00:01 run and completes it at 00:06:40:
        # the minutes in between come due at once, coalesced into one run.
        service = self._makeOne()
        jobid = self._add(service, cron='* * * * *')
        lease, ids = service.claimJobs('worker', 600, now=MINUTE + 1)
        self.assertEqual(ids, [jobid])
        self.assertTrue(service.completeJob(jobid, lease, None, now=400))
        self.assertEqual(self._scheduledFor(service, jobid), 2 * MINUTE)
        lease, ids = service.claimJobs('worker', 600, now=400)
        self.assertEqual(ids, [jobid])
        self.assertEqual(self._scheduledFor(service, jobid), 6 * MINUTE)

    def test_a_retry_goes_on_with_its_instant(self):
        service = self._makeOne()
        jobid = self._add(service, cron='0 * * * *', misfire='skip')
        lease, ids = service.claimJobs('worker', 600, now=HOUR + 1)
        self.assertTrue(service.failJob(jobid, lease, ValueError('oops'),
                                        now=HOUR + 2, retry=True))
        # Retried much later than a skipped run would wait.
        lease, ids = service.claimJobs('worker', 600, now=HOUR + 900)
        self.assertEqual(ids, [jobid])
        self.assertEqual(self._scheduledFor(service, jobid), HOUR)

    def test_dst_through_the_service(self):
        # 02:30 in Berlin on the day the clocks skip it runs at 03:00 CEST
        # (01:00 UTC), and at 02:30 CEST the next day.
        service = self._makeOne()
        jobid = service.addCronJob('record', cron='30 2 * * *',
                                   timezone='Europe/Berlin')
        self.assertFalse(service.processNext(utc(2024, 3, 30, 12)))
        self.assertFalse(service.processNext(utc(2024, 3, 31, 0, 59)))
        self.assertTrue(service.processNext(utc(2024, 3, 31, 1)))
        self.assertEqual(self.ran, [utc(2024, 3, 31, 1)])
        self.assertEqual(self._scheduledFor(service, jobid),
                         utc(2024, 4, 1, 0, 30))

    def test_bad_input_stores_nothing(self):
        service = self._makeOne()
        for times in ({'cron': '61 * * * *'},
                      {'cron': '0 0 * * *', 'timezone': 'Nowhere/City'},
                      {'cron': '0 0 * * *', 'minute': (5,)},
                      {'cron': '0 0 30 2 *'},
                      {'cron': '0 0 * * *', 'misfire': 'never'},
                      {'minute': (5,), 'timezone': 'Europe/Berlin'}):
            with self.assertRaises(ValueError):
                service.addCronJob('record', **times)
        self.assertEqual(len(service.jobs), 0)
        self.assertFalse(service.hasJobsWaiting(0))
