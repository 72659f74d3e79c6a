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
"""Unit tests for ``z3c.taskqueue.model.job``: ``Job`` and ``CronJob``."""
import calendar
import datetime
import time
import unittest


def utc(year, month=1, day=1, hour=0, minute=0, second=0):
    return calendar.timegm((year, month, day, hour, minute, second))


TIME_FIELDS = ('minute', 'hour', 'dayOfMonth', 'month', 'dayOfWeek')


class JobTests(unittest.TestCase):

    def _getTargetClass(self):
        from z3c.taskqueue.model.job import Job
        return Job

    def _makeOne(self, id=1, task='echo', input=None):
        return self._getTargetClass()(id, task, input)

    def test_class_conforms_to_IJob(self):
        from zope.interface.verify import verifyClass

        from z3c.taskqueue.interfaces import IJob
        self.assertTrue(verifyClass(IJob, self._getTargetClass()))

    def test_instance_conforms_to_IJob(self):
        from zope.interface.verify import verifyObject

        from z3c.taskqueue.interfaces import IJob
        self.assertTrue(verifyObject(IJob, self._makeOne()))

    def test_is_not_a_cron_job(self):
        from z3c.taskqueue.interfaces import ICronJob
        self.assertFalse(ICronJob.providedBy(self._makeOne()))

    def test_is_persistent(self):
        import persistent
        self.assertIsInstance(self._makeOne(), persistent.Persistent)

    def test_ctor_stores_its_arguments(self):
        job = self._makeOne(7, 'echo', {'foo': 'bar'})
        self.assertEqual((job.id, job.task, job.input),
                         (7, 'echo', {'foo': 'bar'}))

    def test_ctor_queues(self):
        from z3c.taskqueue.interfaces import QUEUED
        self.assertEqual(self._makeOne().status, QUEUED)

    def test_ctor_nothing_happened_yet(self):
        job = self._makeOne()
        self.assertEqual(
            (job.output, job.error, job.traceback, job.started,
             job.completed),
            (None, None, None, None, None))

    def test_created_is_now_in_utc(self):
        before = datetime.datetime.now(datetime.timezone.utc)
        job = self._makeOne()
        after = datetime.datetime.now(datetime.timezone.utc)
        self.assertEqual(job.created.utcoffset(), datetime.timedelta(0))
        self.assertTrue(before <= job.created <= after)

    def test_repr(self):
        self.assertEqual(repr(self._makeOne(1392637175)), '<Job 1392637175>')


class OldPayloadTests(unittest.TestCase):
    """A job stored before payloads had records of their own kept its
    input and output under their own names."""

    def setUp(self):
        from z3c.taskqueue.tests._support import openConnection
        from z3c.taskqueue.tests._support import openFileStorageDB
        self.db = openFileStorageDB(self)
        self.conn, self.tm = openConnection(self, self.db)

    def _makeOld(self, **state):
        from z3c.taskqueue.model.job import CronJob
        job = CronJob(1, 'echo', None, minute=(10,))
        job.__dict__.pop('_input', None)
        job.__dict__.update(state)
        self.conn.root()['job'] = job
        self.tm.commit()
        return job

    def test_reads_the_old_values(self):
        job = self._makeOld(input='in', output='out')
        self.assertEqual((job.input, job.output), ('in', 'out'))

    def test_a_new_output_replaces_the_old_one(self):
        # A cron job that completed before: its next completion.
        from z3c.taskqueue.tests._support import openConnection
        job = self._makeOld(input='in', output='out')
        job.output = 'new'
        job.input = 'newer'
        self.tm.commit()
        conn2, tm2 = openConnection(self, self.db)
        again = conn2.root()['job']
        self.assertEqual((again.input, again.output), ('newer', 'new'))
        self.assertNotIn('output', again.__dict__)
        self.assertNotIn('input', again.__dict__)


class CronJobTests(unittest.TestCase):

    def _getTargetClass(self):
        from z3c.taskqueue.model.job import CronJob
        return CronJob

    def _makeOne(self, id=1, task='echo', input=None, **times):
        return self._getTargetClass()(id, task, input, **times)

    def _times(self, job):
        return {name: getattr(job, name) for name in TIME_FIELDS + ('delay',)}

    # The contract

    def test_class_conforms_to_ICronJob(self):
        from zope.interface.verify import verifyClass

        from z3c.taskqueue.interfaces import ICronJob
        self.assertTrue(verifyClass(ICronJob, self._getTargetClass()))

    def test_instance_conforms_to_ICronJob(self):
        from zope.interface.verify import verifyObject

        from z3c.taskqueue.interfaces import ICronJob
        self.assertTrue(verifyObject(ICronJob, self._makeOne(minute=(5,))))

    def test_delayed_instance_conforms_to_ICronJob(self):
        from zope.interface.verify import verifyObject

        from z3c.taskqueue.interfaces import ICronJob
        self.assertTrue(verifyObject(ICronJob, self._makeOne(delay=10)))

    def test_is_a_job(self):
        from z3c.taskqueue.interfaces import IJob
        from z3c.taskqueue.model.job import Job
        job = self._makeOne()
        self.assertIsInstance(job, Job)
        self.assertTrue(IJob.providedBy(job))

    def test_repr(self):
        self.assertEqual(repr(self._makeOne(5)), '<CronJob 5>')

    # Status and times

    def test_times_make_a_cron_job(self):
        from z3c.taskqueue.interfaces import CRONJOB
        job = self._makeOne(minute=(10,))
        self.assertEqual(job.status, CRONJOB)
        self.assertIsNone(job.delay)

    def test_delay_makes_a_delayed_job(self):
        from z3c.taskqueue.interfaces import DELAYED
        job = self._makeOne(delay=10)
        self.assertEqual(job.status, DELAYED)
        self.assertEqual(job.delay, 10)

    def test_delay_zero_runs_once_at_once(self):
        # "A delayed job is executed once after the given delay": after
        # no delay at all, not every minute.
        from z3c.taskqueue.interfaces import DELAYED
        job = self._makeOne(delay=0)
        self.assertEqual(job.status, DELAYED)
        self.assertEqual(job.delay, 0)
        self.assertEqual(job.timeOfNextCall(90), 90)

    def test_delay_too_long_is_refused(self):
        from z3c.taskqueue.model.job import MAX_DELAY
        self.assertEqual(self._makeOne(delay=MAX_DELAY).delay, MAX_DELAY)
        with self.assertRaises(ValueError) as raised:
            self._makeOne(delay=10 ** 10)
        self.assertIn('delay=10000000000 is too long', str(raised.exception))

    def test_delay_zero_with_times_is_no_error(self):
        job = self._makeOne(minute=(10,), delay=0)
        self.assertEqual(job.timeOfNextCall(0), 600)

    def test_ctor_stores_times_as_sorted_tuples(self):
        job = self._makeOne(minute=[30, 10], hour={3}, dayOfWeek=(6, 0, 6))
        self.assertEqual(self._times(job), {
            'minute': (10, 30), 'hour': (3,), 'dayOfMonth': (),
            'month': (), 'dayOfWeek': (0, 6), 'delay': None})

    def test_no_scheduledFor_before_it_is_scheduled(self):
        self.assertIsNone(self._makeOne(minute=(10,)).scheduledFor)

    # timeOfNextCall

    def test_timeOfNextCall_delay_is_now_plus_delay(self):
        job = self._makeOne(delay=10)
        self.assertEqual(job.timeOfNextCall(0), 10)
        self.assertEqual(job.timeOfNextCall(1), 11)
        self.assertEqual(job.timeOfNextCall(1000.25), 1010.25)

    def test_timeOfNextCall_fractional_delay(self):
        self.assertEqual(self._makeOne(delay=1.5).timeOfNextCall(100), 101.5)

    def test_timeOfNextCall_times_aligned_to_the_minute(self):
        job = self._makeOne(minute=(10,))
        self.assertEqual(job.timeOfNextCall(5 * 60 + 30), 600)

    def test_timeOfNextCall_strictly_after_now(self):
        job = self._makeOne(minute=(10,))
        self.assertEqual(job.timeOfNextCall(600), 600 + 3600)

    def test_timeOfNextCall_defaults_to_the_current_time(self):
        job = self._makeOne(delay=100)
        before = time.time()
        result = job.timeOfNextCall()
        after = time.time()
        self.assertTrue(before + 100 <= result <= after + 100)

    def test_timeOfNextCall_of_times_defaults_to_the_current_time(self):
        job = self._makeOne()    # every minute
        before = time.time()
        result = job.timeOfNextCall()
        after = time.time()
        self.assertEqual(result % 60, 0)
        self.assertTrue(before < result <= after + 60)

    def test_timeOfNextCall_leap_day(self):
        job = self._makeOne(month=(2,), dayOfMonth=(29,))
        self.assertEqual(job.timeOfNextCall(utc(2097)), utc(2104, 2, 29))

    # Bad times at creation

    def test_ctor_out_of_range_names_the_field(self):
        with self.assertRaises(ValueError) as raised:
            self._makeOne(hour=(24,))
        self.assertIn('hour', str(raised.exception))

    def test_ctor_non_integer_names_the_field(self):
        for value in ('5', 5.0, True, None):
            with self.assertRaises(ValueError) as raised:
                self._makeOne(minute=(value,))
            self.assertIn('minute', str(raised.exception))

    def test_ctor_impossible_times_name_the_fields(self):
        with self.assertRaises(ValueError) as raised:
            self._makeOne(month=(4,), dayOfMonth=(31,))
        self.assertIn('dayOfMonth', str(raised.exception))
        self.assertIn('month', str(raised.exception))

    def test_ctor_delay_with_times(self):
        with self.assertRaises(ValueError) as raised:
            self._makeOne(minute=(10,), delay=5)
        self.assertIn('delay', str(raised.exception))

    def test_ctor_bad_delays(self):
        for delay in (-1, -0.5, True, False, '10', float('inf'),
                      float('nan'), (10,), 1j):
            with self.assertRaises(ValueError, msg=repr(delay)) as raised:
                self._makeOne(delay=delay)
            self.assertIn('delay', str(raised.exception))

    # update()

    def test_update_replaces_the_times(self):
        job = self._makeOne(minute=(10,), hour=(3,))
        job.update(minute=(20,))
        self.assertEqual(self._times(job), {
            'minute': (20,), 'hour': (), 'dayOfMonth': (), 'month': (),
            'dayOfWeek': (), 'delay': None})
        self.assertEqual(job.timeOfNextCall(0), 20 * 60)

    def test_update_to_a_delay(self):
        job = self._makeOne(minute=(10,))
        job.update(delay=30)
        self.assertEqual(job.delay, 30)
        self.assertEqual(job.minute, ())
        self.assertEqual(job.timeOfNextCall(100), 130)

    def test_update_from_a_delay_to_times(self):
        job = self._makeOne(delay=30)
        job.update(hour=(1,))
        self.assertIsNone(job.delay)
        self.assertEqual(job.timeOfNextCall(0), 3600)

    def test_update_delay_zero_runs_at_once(self):
        job = self._makeOne(delay=30)
        job.update(delay=0)
        self.assertEqual(job.delay, 0)
        self.assertEqual(job.timeOfNextCall(90), 90)

    def test_update_delay_zero_with_times_means_no_delay(self):
        job = self._makeOne(delay=30)
        job.update(minute=(2,), delay=0)
        self.assertIsNone(job.delay)
        self.assertEqual(job.timeOfNextCall(90), 120)

    def _assertUpdateRefused(self, **times):
        job = self._makeOne(minute=(10,), hour=(3,))
        job.timeOfNextCall(0)   # fill the cache of the computed schedule
        before = self._times(job)
        with self.assertRaises(ValueError) as raised:
            job.update(**times)
        self.assertEqual(self._times(job), before)
        self.assertEqual(job.timeOfNextCall(0), 3 * 3600 + 600)
        return str(raised.exception)

    def test_update_out_of_range_leaves_the_job_unchanged(self):
        message = self._assertUpdateRefused(minute=(5,), month=(13,))
        self.assertIn('month', message)

    def test_update_non_integer_leaves_the_job_unchanged(self):
        message = self._assertUpdateRefused(minute=(5,), dayOfWeek=('1',))
        self.assertIn('dayOfWeek', message)

    def test_update_bool_leaves_the_job_unchanged(self):
        message = self._assertUpdateRefused(minute=(True,))
        self.assertIn('minute', message)

    def test_update_string_leaves_the_job_unchanged(self):
        message = self._assertUpdateRefused(minute='10')
        self.assertIn('minute', message)

    def test_update_impossible_times_leave_the_job_unchanged(self):
        message = self._assertUpdateRefused(month=(2,), dayOfMonth=(30,))
        self.assertIn('dayOfMonth', message)
        self.assertIn('month', message)

    def test_update_delay_with_times_leaves_the_job_unchanged(self):
        message = self._assertUpdateRefused(minute=(5,), delay=60)
        self.assertIn('delay', message)

    def test_update_bad_delay_leaves_the_job_unchanged(self):
        message = self._assertUpdateRefused(delay=-60)
        self.assertIn('delay', message)

    def test_update_bad_delay_of_delayed_job_leaves_it_unchanged(self):
        job = self._makeOne(delay=30)
        with self.assertRaises(ValueError):
            job.update(delay='60')
        self.assertEqual(job.delay, 30)
        self.assertEqual(job.timeOfNextCall(0), 30)

    # The cache of the computed schedule

    def test_schedule_cache_is_volatile(self):
        # Not stored: it is recomputed from the stored times.
        job = self._makeOne(minute=(10,))
        job.timeOfNextCall(0)
        self.assertNotIn('_v_schedule', job.__getstate__())

    def test_losing_the_schedule_cache(self):
        job = self._makeOne(minute=(10,))
        job.__dict__.pop('_v_schedule', None)
        self.assertEqual(job.timeOfNextCall(0), 600)


class CronJobInDatabaseTests(unittest.TestCase):
    """The cache of the computed schedule in a real database."""

    def setUp(self):
        from z3c.taskqueue.tests._support import openConnection
        from z3c.taskqueue.tests._support import openFileStorageDB
        self.db = openFileStorageDB(self)
        self.conn, self.tm = openConnection(self, self.db)

    def _makeStored(self, **times):
        from z3c.taskqueue.model.job import CronJob
        job = CronJob(1, 'echo', None, **times)
        self.conn.root()['job'] = job
        self.tm.commit()
        return job

    def test_after_ghostification(self):
        job = self._makeStored(minute=(10,))
        self.assertEqual(job.timeOfNextCall(0), 600)
        job._p_deactivate()
        self.assertEqual(job._p_status, 'ghost')
        self.assertEqual(job.timeOfNextCall(0), 600)

    def test_after_update_commit_and_ghostification(self):
        job = self._makeStored(minute=(10,))
        job.update(minute=(20,))
        self.tm.commit()
        job._p_deactivate()
        self.assertEqual(job.timeOfNextCall(0), 1200)

    def test_after_update_and_abort(self):
        # The aborted update must not survive in the cache.
        job = self._makeStored(minute=(10,))
        job.update(minute=(20,))
        self.tm.abort()
        self.assertEqual(job.minute, (10,))
        self.assertEqual(job.timeOfNextCall(0), 600)

    def test_in_another_connection(self):
        from z3c.taskqueue.tests._support import openConnection
        self._makeStored(minute=(10,))
        conn2, tm2 = openConnection(self, self.db)
        self.assertEqual(conn2.root()['job'].timeOfNextCall(0), 600)

    def test_update_committed_by_another_connection(self):
        from z3c.taskqueue.tests._support import openConnection
        job = self._makeStored(minute=(10,))
        self.assertEqual(job.timeOfNextCall(0), 600)
        conn2, tm2 = openConnection(self, self.db)
        conn2.root()['job'].update(minute=(20,))
        tm2.commit()
        self.tm.begin()     # sees the other connection's commit
        self.assertEqual(job.timeOfNextCall(0), 1200)
