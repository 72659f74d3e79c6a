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
"""``processNext``: a job's run in the caller's transaction, and how it
ends."""
import unittest

from z3c.taskqueue.model.tests._base import HOUR
from z3c.taskqueue.model.tests._base import MINUTE
from z3c.taskqueue.model.tests._base import InDatabaseTestBase
from z3c.taskqueue.model.tests._base import RecordingTestBase
from z3c.taskqueue.model.tests._base import ServiceTestBase
from z3c.taskqueue.model.tests._base import utcdatetime


class ProcessNextTests(RecordingTestBase):

    def test_nothing_to_do(self):
        self.assertFalse(self._makeOne().processNext(0))

    def test_start_later_job_is_not_processed(self):
        service = self._makeOne()
        service.add('record', startLater=True)
        self.assertFalse(service.processNext(0))
        self.assertEqual(self.ran, [])

    def test_default_now_is_the_current_time(self):
        import time
        service = self._makeOne()
        jobid = service.addCronJob('record', delay=3600)
        before = time.time()
        self.assertFalse(service.processNext())
        after = time.time()
        scheduled = service.jobs[jobid].scheduledFor.timestamp()
        # scheduledFor is a datetime: it keeps whole microseconds.
        self.assertTrue(before + 3600 - 1e-6 <= scheduled <= after + 3600)

    def test_jobid_runs_that_job_now(self):
        service = self._makeOne()
        first = service.add('record')
        second = service.add('record')
        self.assertTrue(service.processNext(0, jobid=second))
        self.assertEqual(self.ran, [second])
        self.assertEqual(service.getStatus(first), 'queued')
        self.assertConsistent(service)

    def test_jobid_of_a_cron_job_not_yet_due(self):
        service = self._makeOne()
        jobid = service.addCronJob('record', minute=(10,))
        service.processNext(0)
        self.assertTrue(service.processNext(0, jobid=jobid))
        self.assertEqual(self.ran, [jobid])
        self.assertEqual(service.jobs[jobid].scheduledFor,
                         utcdatetime(10 * MINUTE))
        self.assertConsistent(service)

    def test_jobid_of_a_finished_job_is_refused(self):
        service = self._makeOne()
        jobid = service.add('record')
        service.processNext(0)
        with self.assertRaises(ValueError):
            service.processNext(0, jobid=jobid)
        self.assertEqual(self.ran, [jobid])
        self.assertConsistent(service)


class FailureTests(ServiceTestBase):

    def test_TaskError_records_its_message(self):
        from z3c.taskqueue.model.task import TaskError
        self._registerFailing('fail', TaskError('An error occurred.'))
        service = self._makeOne()
        jobid = service.add('fail')
        self.assertTrue(service.processNext(0))
        self.assertEqual(service.getStatus(jobid), 'error')
        self.assertEqual(service.getError(jobid), 'An error occurred.')
        self.assertIsNone(service.getResult(jobid))

    def test_other_exception_records_type_and_message(self):
        self._registerFailing('fail', KeyError('missing'))
        service = self._makeOne()
        jobid = service.add('fail')
        service.processNext(0)
        self.assertEqual(service.getStatus(jobid), 'error')
        self.assertEqual(service.getError(jobid), "KeyError: 'missing'")

    def test_traceback_is_kept_on_the_job(self):
        self._registerFailing('fail', ValueError('bad input'))
        service = self._makeOne()
        jobid = service.add('fail')
        service.processNext(0)
        traceback = service.jobs[jobid].traceback
        self.assertTrue(
            traceback.startswith('Traceback (most recent call last):\n'),
            traceback)
        self.assertIn('in fail\n', traceback)
        self.assertTrue(traceback.endswith('ValueError: bad input\n'),
                        traceback)

    def test_traceback_of_a_TaskError_is_kept_too(self):
        from z3c.taskqueue.model.task import TaskError
        self._registerFailing('fail', TaskError('An error occurred.'))
        service = self._makeOne()
        jobid = service.add('fail')
        service.processNext(0)
        self.assertIn('TaskError: An error occurred.',
                      service.jobs[jobid].traceback)

    def test_successful_job_has_no_error_or_traceback(self):
        self._registerTask('echo')
        service = self._makeOne()
        jobid = service.add('echo', 'out')
        service.processNext(0)
        job = service.jobs[jobid]
        self.assertEqual((job.status, job.output, job.error, job.traceback),
                         ('completed', 'out', None, None))
        self.assertTrue(job.created <= job.started <= job.completed)

    def test_failing_cron_job_stays_a_cron_job(self):
        self._registerFailing('fail')
        service = self._makeOne()
        jobid = service.addCronJob('fail', minute=(10,))
        service.processNext(0)
        self.assertTrue(service.processNext(10 * MINUTE))
        job = service.jobs[jobid]
        self.assertEqual(job.status, 'cronjob')
        self.assertEqual(job.error, 'ValueError: bad input')
        self.assertEqual(job.scheduledFor,
                         utcdatetime(HOUR + 10 * MINUTE))
        self.assertConsistent(service)

    def test_failing_delayed_job_ends_in_error(self):
        self._registerFailing('fail')
        service = self._makeOne()
        jobid = service.addCronJob('fail', delay=10)
        service.processNext(0)
        self.assertTrue(service.processNext(10))
        self.assertEqual(service.getStatus(jobid), 'error')
        self.assertEqual(service.getError(jobid), 'ValueError: bad input')
        self.assertConsistent(service)

    def test_cron_job_that_succeeds_after_failing_has_no_error(self):
        self._registerFlaky('flaky', ValueError('bad input'))
        service = self._makeOne()
        jobid = service.addCronJob('flaky', minute=(10,))
        service.processNext(0)
        service.processNext(10 * MINUTE)
        service.processNext(HOUR + 10 * MINUTE)
        job = service.jobs[jobid]
        self.assertEqual((job.status, job.output, job.error, job.traceback),
                         ('cronjob', 'ok', None, None))

    def test_ConflictError_propagates(self):
        from ZODB.POSException import ConflictError
        self._registerFailing('fail', ConflictError())
        service = self._makeOne()
        service.add('fail')
        with self.assertRaises(ConflictError):
            service.processNext(0)

    def test_ConflictError_is_not_recorded_as_an_error(self):
        from ZODB.POSException import ConflictError
        self._registerFailing('fail', ConflictError())
        service = self._makeOne()
        jobid = service.add('fail')
        with self.assertRaises(ConflictError):
            service.processNext(0)
        job = service.jobs[jobid]
        self.assertIsNone(job.error)
        self.assertIsNone(job.traceback)
        self.assertNotEqual(job.status, 'error')

    def test_ReadConflictError_propagates(self):
        from ZODB.POSException import ReadConflictError
        self._registerFailing('fail', ReadConflictError())
        service = self._makeOne()
        jobid = service.add('fail')
        with self.assertRaises(ReadConflictError):
            service.processNext(0)
        self.assertIsNone(service.getError(jobid))


class UnregisteredTaskTests(ServiceTestBase):

    def test_job_ends_in_error_naming_the_task(self):
        task = self._registerTask('gone')
        service = self._makeOne()
        jobid = service.add('gone')
        self._unregisterTask('gone', task)
        self.assertTrue(service.processNext(0))
        self.assertEqual(service.getStatus(jobid), 'error')
        self.assertIn("'gone'", service.getError(jobid))
        self.assertConsistent(service)

    def test_is_logged_as_an_error(self):
        import logging
        task = self._registerTask('gone')
        service = self._makeOne()
        jobid = service.add('gone')
        self._unregisterTask('gone', task)
        service.processNext(0)
        errors = [record.getMessage() for record in self.log.records
                  if record.levelno == logging.ERROR]
        self.assertEqual(len(errors), 1)
        self.assertIn(repr(jobid), errors[0])
        self.assertIn("'gone'", errors[0])

    def test_processing_goes_on_with_the_next_job(self):
        task = self._registerTask('gone')
        self._registerTask('echo')
        service = self._makeOne()
        first = service.add('gone')
        second = service.add('echo', 'out')
        self._unregisterTask('gone', task)
        self.assertTrue(service.processNext(0))
        self.assertTrue(service.processNext(0))
        self.assertEqual(service.getStatus(first), 'error')
        self.assertEqual(service.getStatus(second), 'completed')
        self.assertEqual(service.getResult(second), 'out')
        self.assertFalse(service.processNext(0))

    def test_cron_job_keeps_its_schedule(self):
        task = self._registerTask('gone')
        service = self._makeOne()
        jobid = service.addCronJob('gone', minute=(10,))
        service.processNext(0)
        self._unregisterTask('gone', task)
        self.assertTrue(service.processNext(10 * MINUTE))
        self.assertEqual(service.getStatus(jobid), 'cronjob')
        self.assertIn("'gone'", service.getError(jobid))
        self.assertConsistent(service)


class RunInDatabaseTests(InDatabaseTestBase):
    """Runs of jobs in a service stored in a real database: what
    they commit, and what they roll back."""

    def test_job_result_is_committed(self):
        jobid = self.service.add('echo', 'out')
        self.tm.commit()
        self.assertTrue(self.service.processNext(0))
        self.tm.commit()
        root = self._reopen()
        self.assertEqual(root['service'].getStatus(jobid), 'completed')
        self.assertEqual(root['service'].getResult(jobid), 'out')

    def test_writes_of_a_failing_task_are_rolled_back(self):
        from persistent.mapping import PersistentMapping
        self.root['data'] = PersistentMapping(count=0)
        self.tm.commit()

        def writeAndFail(input):
            self.root['data']['count'] += 1
            self.root['data']['new'] = PersistentMapping()
            raise ValueError('after writing')

        self._registerTask('fail', writeAndFail)
        jobid = self.service.add('fail')
        self.tm.commit()
        self.assertTrue(self.service.processNext(0))
        self.assertEqual(dict(self.root['data']), {'count': 0})
        self.tm.commit()
        root = self._reopen()
        self.assertEqual(dict(root['data']), {'count': 0})
        self.assertEqual(root['service'].getStatus(jobid), 'error')
        self.assertEqual(root['service'].getError(jobid),
                         'ValueError: after writing')
        self.assertIn('ValueError: after writing',
                      root['service'].jobs[jobid].traceback)

    def test_jobs_added_by_a_failing_task_are_rolled_back(self):
        def addAndFail(input):
            self.service.add('echo')
            raise ValueError('after adding')

        self._registerTask('fail', addAndFail)
        jobid = self.service.add('fail')
        self.tm.commit()
        self.service.processNext(0)
        self.tm.commit()
        root = self._reopen()
        self.assertEqual(list(root['service'].jobs), [jobid])
        self.assertEqual(root['service'].getStatus(jobid), 'error')
        self.assertConsistent(root['service'])

    def test_writes_of_a_successful_task_are_kept(self):
        from persistent.mapping import PersistentMapping
        self.root['data'] = PersistentMapping(count=0)
        self.tm.commit()

        def write(input):
            self.root['data']['count'] += 1

        self._registerTask('write', write)
        self.service.add('write')
        self.tm.commit()
        self.service.processNext(0)
        self.tm.commit()
        self.assertEqual(self._reopen()['data']['count'], 1)

    def test_after_a_ConflictError_the_job_is_run_again(self):
        from ZODB.POSException import ConflictError
        self._registerFlaky('flaky', ConflictError())
        jobid = self.service.add('flaky')
        self.tm.commit()
        with self.assertRaises(ConflictError):
            self.service.processNext(0)
        self.tm.abort()
        self.assertEqual(self.service.getStatus(jobid), 'queued')
        self.assertIsNone(self.service.getError(jobid))
        self.assertTrue(self.service.processNext(0))
        self.tm.commit()
        root = self._reopen()
        self.assertEqual(root['service'].getStatus(jobid), 'completed')
        self.assertEqual(root['service'].getResult(jobid), 'ok')

    def test_job_of_an_unregistered_task_commits_its_error(self):
        task = self._registerTask('gone')
        jobid = self.service.add('gone')
        self.tm.commit()
        self._unregisterTask('gone', task)
        self.assertTrue(self.service.processNext(0))
        self.tm.commit()
        root = self._reopen()
        self.assertEqual(root['service'].getStatus(jobid), 'error')
        self.assertIn("'gone'", root['service'].getError(jobid))

    def test_idle_processNext_writes_nothing(self):
        self.service.addCronJob('echo', minute=(10,))
        self.service.add('echo', startLater=True)
        self.service.processNext(0)
        self._assertWritesNothing(
            lambda: self.assertFalse(self.service.processNext(0)))


def test_suite():
    return unittest.defaultTestLoader.loadTestsFromName(__name__)
