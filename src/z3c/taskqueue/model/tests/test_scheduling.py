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
"""When cron and delayed jobs fall due, and ``reschedule``."""
import unittest
from unittest import mock

from z3c.taskqueue.model.tests._base import HOUR
from z3c.taskqueue.model.tests._base import MINUTE
from z3c.taskqueue.model.tests._base import RecordingTestBase
from z3c.taskqueue.model.tests._base import frozenClock
from z3c.taskqueue.model.tests._base import utcdatetime


class CronJobDueTests(RecordingTestBase):

    def test_cron_job_not_before_its_time(self):
        service = self._makeOne()
        service.addCronJob('record', minute=(10,))
        self.assertFalse(service.processNext(0))
        self.assertFalse(service.processNext(10 * MINUTE - 1))
        self.assertEqual(self.ran, [])

    def test_cron_job_at_its_time(self):
        service = self._makeOne()
        jobid = service.addCronJob('record', minute=(10,))
        self.assertFalse(service.processNext(0))
        self.assertTrue(service.processNext(10 * MINUTE))
        self.assertEqual(self.ran, [jobid])
        self.assertEqual(service.getStatus(jobid), 'cronjob')

    def test_cron_job_is_scheduled_from_now(self):
        service = self._makeOne()
        jobid = service.addCronJob('record', minute=(10,))
        service.processNext(0)
        self.assertEqual(service.jobs[jobid].scheduledFor,
                         utcdatetime(10 * MINUTE))

    def test_cron_job_runs_once_then_goes_to_the_next_instant(self):
        service = self._makeOne()
        jobid = service.addCronJob('record', minute=(10,))
        service.processNext(0)
        self.assertTrue(service.processNext(10 * MINUTE))
        self.assertFalse(service.processNext(10 * MINUTE))
        self.assertFalse(service.processNext(10 * MINUTE + 59))
        self.assertEqual(service.jobs[jobid].scheduledFor,
                         utcdatetime(HOUR + 10 * MINUTE))
        self.assertFalse(service.processNext(HOUR + 10 * MINUTE - 1))
        self.assertTrue(service.processNext(HOUR + 10 * MINUTE))
        self.assertEqual(self.ran, [jobid, jobid])

    def test_cron_job_without_times_runs_every_minute(self):
        service = self._makeOne()
        jobid = service.addCronJob('record')
        self.assertFalse(service.processNext(30))
        self.assertEqual(service.jobs[jobid].scheduledFor, utcdatetime(60))
        self.assertTrue(service.processNext(60))
        self.assertFalse(service.processNext(60))
        self.assertTrue(service.processNext(120))
        self.assertEqual(self.ran, [jobid, jobid])

    def test_cron_job_that_missed_instants_runs_once(self):
        service = self._makeOne()
        jobid = service.addCronJob('record', minute=(10,))
        service.processNext(0)
        self.assertTrue(service.processNext(10 * HOUR))
        self.assertFalse(service.processNext(10 * HOUR))
        self.assertEqual(self.ran, [jobid])
        self.assertEqual(service.jobs[jobid].scheduledFor,
                         utcdatetime(10 * HOUR + 10 * MINUTE))

    def test_cron_job_added_and_due_in_one_call(self):
        # Scheduled relative to the now of the first processNext(): it is
        # not due at that very instant.
        service = self._makeOne()
        service.addCronJob('record', minute=(10,))
        self.assertFalse(service.processNext(10 * MINUTE))
        self.assertEqual(self.ran, [])


class DelayedJobDueTests(RecordingTestBase):

    def test_delayed_job_is_due_delay_after_now(self):
        service = self._makeOne()
        jobid = service.addCronJob('record', delay=30)
        self.assertFalse(service.processNext(1000))
        self.assertEqual(service.jobs[jobid].scheduledFor,
                         utcdatetime(1030))
        self.assertFalse(service.processNext(1029))
        self.assertTrue(service.processNext(1030))
        self.assertEqual(self.ran, [jobid])

    def test_delayed_job_runs_once_and_completes(self):
        service = self._makeOne()
        jobid = service.addCronJob('record', 'out', delay=30)
        service.processNext(1000)
        service.processNext(1030)
        self.assertEqual(service.getStatus(jobid), 'completed')
        self.assertEqual(service.getResult(jobid), 'out')
        self.assertFalse(service.processNext(5000))
        self.assertEqual(self.ran, [jobid])

    def test_delayed_job_runs_at_its_fractional_due_time(self):
        # processNext(now) is usually called with time.time(), a float:
        # a job due at now + delay must run at that now, not a second
        # later, and not later than its scheduledFor says.
        service = self._makeOne()
        jobid = service.addCronJob('record', delay=10)
        self.assertFalse(service.processNext(1000.25))
        job = service.jobs[jobid]
        self.assertEqual(job.scheduledFor, utcdatetime(1010.25))
        self.assertFalse(service.processNext(1010.2))
        self.assertTrue(service.processNext(job.scheduledFor.timestamp()))
        self.assertEqual(self.ran, [jobid])


class RescheduleTests(RecordingTestBase):

    def _makeMovedCronJob(self):
        """A cron job scheduled for minute 10, its times since updated to
        minute 20."""
        service = self._makeOne()
        jobid = service.addCronJob('record', minute=(10,))
        service.processNext(0)
        service.jobs[jobid].update(minute=(20,))
        return service, jobid

    def test_takes_effect_at_the_next_processNext(self):
        service, jobid = self._makeMovedCronJob()
        service.reschedule(jobid)
        self.assertFalse(service.processNext(10 * MINUTE))
        self.assertTrue(service.processNext(20 * MINUTE))
        self.assertEqual(self.ran, [jobid])

    def test_without_reschedule_the_old_time_stays(self):
        service, jobid = self._makeMovedCronJob()
        self.assertTrue(service.processNext(10 * MINUTE))
        self.assertEqual(service.jobs[jobid].scheduledFor,
                         utcdatetime(20 * MINUTE))

    def test_computes_from_the_now_of_processNext(self):
        # The wall clock at the time of reschedule() is decades later
        # than the now passed to processNext().
        service, jobid = self._makeMovedCronJob()
        service.reschedule(jobid)
        service.processNext(5 * MINUTE)
        self.assertEqual(service.jobs[jobid].scheduledFor,
                         utcdatetime(20 * MINUTE))

    def test_does_not_consult_the_wall_clock(self):
        from z3c.taskqueue.model import service as module
        service, jobid = self._makeMovedCronJob()
        with mock.patch.object(module, 'time', frozenClock(1e9)):
            service.reschedule(jobid)
            service.processNext(5 * MINUTE)
        self.assertEqual(service.jobs[jobid].scheduledFor,
                         utcdatetime(20 * MINUTE))

    def test_delayed_job(self):
        service = self._makeOne()
        jobid = service.addCronJob('record', delay=10)
        service.processNext(0)
        service.jobs[jobid].update(delay=100)
        service.reschedule(jobid)
        self.assertFalse(service.processNext(50))
        self.assertEqual(service.jobs[jobid].scheduledFor, utcdatetime(150))
        self.assertFalse(service.processNext(149))
        self.assertTrue(service.processNext(150))
        self.assertEqual(service.getStatus(jobid), 'completed')

    def test_cron_job_updated_to_a_delay_becomes_delayed(self):
        service = self._makeOne()
        jobid = service.addCronJob('record', minute=(10,))
        service.processNext(0)
        service.jobs[jobid].update(delay=5)
        service.reschedule(jobid)
        self.assertEqual(service.getStatus(jobid), 'delayed')
        service.processNext(100)
        self.assertTrue(service.processNext(105))
        self.assertEqual(service.getStatus(jobid), 'completed')
        self.assertConsistent(service)

    def test_delayed_job_updated_to_times_becomes_a_cron_job(self):
        service = self._makeOne()
        jobid = service.addCronJob('record', delay=5)
        service.jobs[jobid].update(minute=(10,))
        service.reschedule(jobid)
        self.assertEqual(service.getStatus(jobid), 'cronjob')
        self.assertFalse(service.processNext(0))
        self.assertTrue(service.processNext(10 * MINUTE))
        self.assertEqual(service.getStatus(jobid), 'cronjob')
        self.assertConsistent(service)

    def test_twice_is_like_once(self):
        service = self._makeOne()
        jobid = service.addCronJob('record', minute=(10,))
        service.processNext(0)
        service.reschedule(jobid)
        service.reschedule(jobid)
        service.processNext(0)
        self.assertTrue(service.processNext(10 * MINUTE))
        self.assertFalse(service.processNext(10 * MINUTE))
        self.assertConsistent(service)

    def test_queued_job_is_refused(self):
        service = self._makeOne()
        jobid = service.add('record')
        with self.assertRaises(ValueError):
            service.reschedule(jobid)
        self.assertEqual(service.getStatus(jobid), 'queued')
        self.assertConsistent(service)

    def test_cancelled_cron_job_is_not_revived(self):
        service = self._makeOne()
        jobid = service.addCronJob('record', minute=(10,))
        service.cancel(jobid)
        with self.assertRaises(ValueError):
            service.reschedule(jobid)
        self.assertEqual(service.getStatus(jobid), 'cancelled')
        self.assertFalse(service.processNext(10 * MINUTE))
        self.assertConsistent(service)

    def test_completed_delayed_job_is_refused(self):
        service = self._makeOne()
        jobid = service.addCronJob('record', delay=5)
        service.processNext(0)
        service.processNext(5)
        with self.assertRaises(ValueError):
            service.reschedule(jobid)
        self.assertEqual(service.getStatus(jobid), 'completed')

    def test_job_being_processed_uses_its_new_times_after_the_run(self):
        import zope.component

        from z3c.taskqueue.interfaces import ITask

        def moveItself(svc, jobid, input):
            svc.jobs[jobid].update(minute=(20,))
            svc.reschedule(jobid)

        zope.component.provideUtility(moveItself, ITask, name='move')
        service = self._makeOne()
        jobid = service.addCronJob('move', minute=(10,))
        service.processNext(0)
        self.assertTrue(service.processNext(10 * MINUTE))
        self.assertEqual(service.getStatus(jobid), 'cronjob')
        self.assertEqual(service.jobs[jobid].scheduledFor,
                         utcdatetime(20 * MINUTE))
        self.assertConsistent(service)


def test_suite():
    return unittest.defaultTestLoader.loadTestsFromName(__name__)
