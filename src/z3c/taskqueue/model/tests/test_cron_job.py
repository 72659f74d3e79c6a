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
"""``CronJob`` with crontab expressions, time zones and misfire policies."""
import calendar
import datetime
import unittest


ATTRIBUTES = ('minute', 'hour', 'dayOfMonth', 'month', 'dayOfWeek', 'delay',
              'cron', 'timezone', 'misfire', 'misfireGrace')


def utc(year, month=1, day=1, hour=0, minute=0, second=0):
    return calendar.timegm((year, month, day, hour, minute, second))


class CrontabJobTests(unittest.TestCase):

    def _getTargetClass(self):
        from z3c.taskqueue.model.job import CronJob
        return CronJob

    def _makeOne(self, id=1, task='echo', input=None, **times):
        return self._getTargetClass()(id, task, input, **times)

    def _state(self, job):
        return {name: getattr(job, name) for name in ATTRIBUTES}

    # Creating

    def test_cron_with_a_timezone(self):
        from z3c.taskqueue.interfaces import CRONJOB
        job = self._makeOne(cron='*/15 9-17 * * MON-FRI',
                            timezone='Europe/Berlin')
        self.assertEqual(job.status, CRONJOB)
        self.assertEqual(self._state(job), {
            'minute': (), 'hour': (), 'dayOfMonth': (), 'month': (),
            'dayOfWeek': (), 'delay': None,
            'cron': '*/15 9-17 * * MON-FRI', 'timezone': 'Europe/Berlin',
            'misfire': 'coalesce', 'misfireGrace': None})
        # Friday 2024-01-05 17:45 CET, then Monday 09:00.
        self.assertEqual(job.timeOfNextCall(utc(2024, 1, 5, 16, 30)),
                         utc(2024, 1, 5, 16, 45))
        self.assertEqual(job.timeOfNextCall(utc(2024, 1, 5, 16, 45)),
                         utc(2024, 1, 8, 8))

    def test_cron_defaults_to_utc(self):
        job = self._makeOne(cron='@daily')
        self.assertEqual(job.timezone, 'UTC')
        self.assertEqual(job.timeOfNextCall(utc(2024, 1, 5, 16)),
                         utc(2024, 1, 6))

    def test_legacy_tuples_keep_their_semantics(self):
        # Monday = 0 and UTC, all given fields must match.
        job = self._makeOne(dayOfWeek=(0,), hour=(9,))
        self.assertEqual(job.timezone, 'UTC')
        self.assertIsNone(job.cron)
        self.assertEqual(job.timeOfNextCall(utc(2024, 1, 5)),
                         utc(2024, 1, 8, 9))

    def test_explicit_utc_with_tuples(self):
        self.assertEqual(self._makeOne(minute=(5,), timezone='UTC').timezone,
                         'UTC')

    def test_misfire_policy_and_grace(self):
        job = self._makeOne(cron='0 * * * *', misfire='all',
                            misfireGrace=3600)
        self.assertEqual((job.misfire, job.misfireGrace), ('all', 3600))
        job = self._makeOne(minute=(5,), misfire='skip', misfireGrace=0.5)
        self.assertEqual((job.misfire, job.misfireGrace), ('skip', 0.5))

    def test_conforms_to_ICronJob(self):
        from zope.interface.verify import verifyObject

        from z3c.taskqueue.interfaces import ICronJob
        self.assertTrue(verifyObject(ICronJob, self._makeOne(
            cron='0 9 * * *', timezone='Europe/Berlin', misfire='skip')))

    def test_positional_signature_is_the_seeds(self):
        job = self._getTargetClass()(7, 'echo', {'a': 1}, (5,), (6,), (7,),
                                     (8,), (), None)
        self.assertEqual((job.minute, job.hour, job.dayOfMonth, job.month),
                         ((5,), (6,), (7,), (8,)))

    # Refusing bad input

    def assertRefused(self, *parts, **times):
        with self.assertRaises(ValueError) as raised:
            self._makeOne(**times)
        message = str(raised.exception)
        for part in parts:
            self.assertIn(part, message)
        return message

    def test_cron_with_tuples(self):
        self.assertRefused("cron='0 9 * * *'", 'minute=(5,)',
                           cron='0 9 * * *', minute=(5,))
        self.assertRefused('dayOfWeek=[1]', cron='0 9 * * *',
                           dayOfWeek=[1])

    def test_cron_with_a_delay(self):
        self.assertRefused('cron', 'delay=10', cron='0 9 * * *', delay=10)

    def test_cron_with_something_that_is_not_a_tuple(self):
        self.assertRefused('cron', 'hour=5', cron='0 9 * * *', hour=5)

    def test_cron_with_empty_tuples_is_fine(self):
        job = self._makeOne(cron='0 9 * * *', minute=(), hour=[],
                            delay=0)
        self.assertEqual(job.cron, '0 9 * * *')

    def test_timezone_needs_cron(self):
        self.assertRefused("timezone='Europe/Berlin'", 'cron',
                           minute=(5,), timezone='Europe/Berlin')
        self.assertRefused('timezone', delay=10, timezone='Europe/Berlin')

    def test_bad_expressions(self):
        self.assertRefused('minute 61', cron='61 * * * *')
        self.assertRefused('has 4 fields', cron='* * * *')
        self.assertRefused("'FRX'", cron='0 0 * * FRX')
        self.assertRefused("'*/0'", 'step', cron='*/0 * * * *')
        self.assertRefused('day of month 30', 'never', cron='0 0 30 2 *')
        self.assertRefused('cron', '5', cron=5)

    def test_unknown_zone(self):
        self.assertRefused("timezone='Europe/Berln'", cron='0 0 * * *',
                           timezone='Europe/Berln')

    def test_bad_misfire(self):
        self.assertRefused("misfire='later'", 'coalesce', misfire='later')
        for grace in (0, -1, True, '60', float('inf'), float('nan')):
            self.assertRefused('misfireGrace', repr(grace),
                               misfireGrace=grace)

    # update()

    def test_update_to_cron(self):
        job = self._makeOne(minute=(10,), hour=(3,))
        job.update(cron='30 2 * * *', timezone='Europe/Berlin',
                   misfire='skip')
        self.assertEqual(self._state(job), {
            'minute': (), 'hour': (), 'dayOfMonth': (), 'month': (),
            'dayOfWeek': (), 'delay': None, 'cron': '30 2 * * *',
            'timezone': 'Europe/Berlin', 'misfire': 'skip',
            'misfireGrace': None})
        # The skipped 02:30 runs at 03:00 CEST.
        self.assertEqual(job.timeOfNextCall(utc(2024, 3, 30, 12)),
                         utc(2024, 3, 31, 1))

    def test_update_back_to_tuples_replaces_everything(self):
        job = self._makeOne(cron='30 2 * * *', timezone='Europe/Berlin',
                            misfire='all', misfireGrace=60)
        job.update(minute=(20,))
        self.assertEqual(self._state(job), {
            'minute': (20,), 'hour': (), 'dayOfMonth': (), 'month': (),
            'dayOfWeek': (), 'delay': None, 'cron': None, 'timezone': 'UTC',
            'misfire': 'coalesce', 'misfireGrace': None})
        self.assertEqual(job.timeOfNextCall(0), 20 * 60)

    def _assertUpdateRefused(self, **times):
        job = self._makeOne(cron='30 2 * * *', timezone='Europe/Berlin',
                            misfire='skip', misfireGrace=600)
        expected = job.timeOfNextCall(utc(2024, 3, 30, 12))
        before = self._state(job)
        with self.assertRaises(ValueError):
            job.update(**times)
        self.assertEqual(self._state(job), before)
        self.assertEqual(job.timeOfNextCall(utc(2024, 3, 30, 12)), expected)

    def test_refused_updates_leave_the_job_unchanged(self):
        for times in ({'cron': '61 * * * *'},
                      {'cron': '0 0 * * *', 'timezone': 'Nowhere/City'},
                      {'cron': '0 0 * * *', 'minute': (5,)},
                      {'cron': '0 0 * * *', 'delay': 5},
                      {'minute': (5,), 'timezone': 'Europe/Paris'},
                      {'cron': '0 0 * * *', 'misfire': 'sometimes'},
                      {'cron': '0 0 * * *', 'misfireGrace': -5},
                      {'minute': (60,)}):
            self._assertUpdateRefused(**times)

    # preview()

    def test_preview_in_the_jobs_zone(self):
        job = self._makeOne(cron='30 2 * * *', timezone='Europe/Berlin')
        self.assertEqual(
            [t.isoformat() for t in job.preview(3, utc(2024, 3, 30, 12))],
            ['2024-03-31T03:00:00+02:00', '2024-04-01T02:30:00+02:00',
             '2024-04-02T02:30:00+02:00'])

    def test_preview_of_legacy_tuples_in_utc(self):
        job = self._makeOne(minute=(10, 13))
        self.assertEqual([t.isoformat() for t in job.preview(3, 0)], [
            '1970-01-01T00:10:00+00:00', '1970-01-01T00:13:00+00:00',
            '1970-01-01T01:10:00+00:00'])

    def test_preview_of_a_delay(self):
        job = self._makeOne(delay=90)
        self.assertEqual(job.preview(3, 0), [
            datetime.datetime(1970, 1, 1, 0, 1, 30,
                              tzinfo=datetime.timezone.utc)])
        self.assertEqual(job.preview(0, 0), [])

    def test_preview_defaults_to_now(self):
        import time
        before = time.time()
        first, = self._makeOne(cron='* * * * *').preview(1)
        self.assertTrue(before < first.timestamp() <= time.time() + 60)

    # dueInstant() and timeOfNextCallAfterRun()

    def _scheduled(self, job, instant):
        job.scheduledFor = datetime.datetime.fromtimestamp(
            instant, datetime.timezone.utc)
        return job

    def test_due_instant_on_time(self):
        job = self._scheduled(self._makeOne(cron='0 * * * *'), 3600)
        self.assertEqual(job.dueInstant(3601), 3600)

    def test_due_instant_coalesces_to_the_newest(self):
        job = self._scheduled(self._makeOne(cron='0 * * * *'), 3600)
        self.assertEqual(job.dueInstant(5 * 3600 + 10), 5 * 3600)

    def test_due_instant_of_a_retried_run_is_its_own(self):
        job = self._scheduled(self._makeOne(cron='0 * * * *',
                                            misfire='skip'), 3600)
        job.attempts = 1
        self.assertEqual(job.dueInstant(5 * 3600 + 10), 3600)

    def test_due_instant_of_a_delay(self):
        job = self._scheduled(self._makeOne(delay=10), 10.25)
        self.assertEqual(job.dueInstant(500), 10.25)

    def test_due_instant_before_scheduling(self):
        self.assertEqual(self._makeOne(cron='0 * * * *').dueInstant(77), 77)

    def test_next_call_after_run_counts_from_the_instant(self):
        job = self._scheduled(self._makeOne(cron='0 * * * *'), 3600)
        self.assertEqual(job.timeOfNextCallAfterRun(3 * 3600 + 5), 7200)

    def test_next_call_after_an_early_run_counts_from_now(self):
        job = self._scheduled(self._makeOne(cron='0 * * * *'), 7200)
        self.assertEqual(job.timeOfNextCallAfterRun(3000), 3600)
        job.scheduledFor = None
        self.assertEqual(job.timeOfNextCallAfterRun(3000), 3600)


class CrontabJobInDatabaseTests(unittest.TestCase):

    def setUp(self):
        from z3c.taskqueue.tests._support import openConnection
        from z3c.taskqueue.tests._support import openFileStorageDB
        self.db = openFileStorageDB(self)
        self.conn, self.tm = openConnection(self, self.db)

    def test_schedule_is_rebuilt_from_what_is_stored(self):
        from z3c.taskqueue.model.job import CronJob
        from z3c.taskqueue.tests._support import openConnection
        job = CronJob(1, 'echo', None, cron='30 2 * * *',
                      timezone='Europe/Berlin', misfire='all')
        self.conn.root()['job'] = job
        self.tm.commit()
        self.assertNotIn('_v_schedule', job.__getstate__())
        conn2, tm2 = openConnection(self, self.db)
        other = conn2.root()['job']
        self.assertEqual((other.cron, other.timezone, other.misfire),
                         ('30 2 * * *', 'Europe/Berlin', 'all'))
        self.assertEqual(other.timeOfNextCall(utc(2024, 3, 30, 12)),
                         utc(2024, 3, 31, 1))

    def test_update_committed_by_another_connection(self):
        from z3c.taskqueue.model.job import CronJob
        from z3c.taskqueue.tests._support import openConnection
        job = CronJob(1, 'echo', None, cron='0 9 * * *')
        self.conn.root()['job'] = job
        self.tm.commit()
        self.assertEqual(job.timeOfNextCall(0), 9 * 3600)
        conn2, tm2 = openConnection(self, self.db)
        conn2.root()['job'].update(cron='0 9 * * *', timezone='Asia/Tokyo')
        tm2.commit()
        self.tm.begin()
        self.assertEqual(job.timeOfNextCall(0), 24 * 3600)
