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
"""Unit tests for ``z3c.taskqueue.model.service.TaskService``."""
import datetime
import os
import random
import tempfile
import threading
import time
import unittest
from unittest import mock


UNKNOWN_ID = 12345

MINUTE = 60
HOUR = 60 * MINUTE


def echo(input):
    return input


def utcdatetime(timestamp):
    return datetime.datetime.fromtimestamp(timestamp, datetime.timezone.utc)


def frozenClock(now):
    """Stand-in for the service's ``time`` module: a clock that stands."""
    clock = mock.Mock()
    clock.time.return_value = now
    return clock


class _Base(unittest.TestCase):

    def setUp(self):
        import zope.component.testing
        from zope.testing.loggingsupport import InstalledHandler
        zope.component.testing.setUp(self)
        self.addCleanup(random.setstate, random.getstate())
        # Keeps the service's log out of the test output, and shows it to
        # the tests that look.
        self.log = InstalledHandler('z3c.taskqueue')
        self.addCleanup(self.log.uninstall)

    def tearDown(self):
        import transaction
        import zope.component.testing
        # An unstored service uses the thread's transaction manager.
        transaction.abort()
        zope.component.testing.tearDown(self)

    def _getTargetClass(self):
        from z3c.taskqueue.model.service import TaskService
        return TaskService

    def _makeOne(self):
        return self._getTargetClass()()

    def _registerTask(self, name='echo', func=echo):
        import zope.component

        from z3c.taskqueue.model.task import SimpleTask
        task = SimpleTask(func)
        zope.component.provideUtility(task, name=name)
        return task

    def _unregisterTask(self, name, task):
        import zope.component

        from z3c.taskqueue.interfaces import ITask
        self.assertTrue(zope.component.getGlobalSiteManager()
                        .unregisterUtility(task, ITask, name))

    def _registerRecorder(self, name='record'):
        """Register a task that records the ids of the jobs it runs."""
        import zope.component
        import zope.interface

        from z3c.taskqueue.interfaces import ITask
        ran = []

        @zope.interface.implementer(ITask)
        class Recorder:
            inputSchema = outputSchema = retryPolicy = None

            def __call__(self, service, jobid, input):
                ran.append(jobid)
                return input

        zope.component.provideUtility(Recorder(), name=name)
        return ran

    def _registerFailing(self, name='fail', error=None):
        def fail(input):
            raise (error if error is not None else ValueError('bad input'))
        return self._registerTask(name, fail)

    def assertConsistent(self, service):
        from z3c.taskqueue.tests._support import assertConsistent
        assertConsistent(self, service)

    def assertNothingStored(self, service):
        self.assertEqual(len(service.jobs), 0)
        self.assertConsistent(service)
        from z3c.taskqueue.model._index import size
        from z3c.taskqueue.tests._support import indexTrees
        for name, tree in indexTrees(service).items():
            self.assertEqual(size(tree), 0, name)


class ContractTests(_Base):

    def test_class_conforms_to_ITaskService(self):
        from zope.interface.verify import verifyClass

        from z3c.taskqueue.interfaces import ITaskService
        self.assertTrue(verifyClass(ITaskService, self._getTargetClass()))

    def test_instance_conforms_to_ITaskService(self):
        from zope.interface.verify import verifyObject

        from z3c.taskqueue.interfaces import ITaskService
        self.assertTrue(verifyObject(ITaskService, self._makeOne()))

    def test_jobs_is_a_family32_IOBTree(self):
        import BTrees.IOBTree
        self.assertIs(type(self._makeOne().jobs), BTrees.IOBTree.IOBTree)

    def test_new_service_is_empty(self):
        self.assertNothingStored(self._makeOne())

    def test_getAvailableTasks(self):
        task = self._registerTask('echo')
        self.assertEqual(self._makeOne().getAvailableTasks(), {'echo': task})


class JobIdTests(_Base):

    def test_first_id_with_seed_27(self):
        self._registerTask()
        service = self._makeOne()
        random.seed(27)
        self.assertEqual(service.add('echo'), 1392637175)

    def test_ids_count_up(self):
        self._registerTask()
        service = self._makeOne()
        random.seed(27)
        ids = [service.add('echo') for _ in range(3)]
        self.assertEqual(ids, [1392637175, 1392637176, 1392637177])

    def test_ids_count_up_across_kinds_of_jobs(self):
        self._registerTask()
        service = self._makeOne()
        random.seed(27)
        ids = [service.add('echo'),
               service.add('echo', startLater=True),
               service.addCronJob('echo', minute=(5,)),
               service.addCronJob('echo', delay=5)]
        self.assertEqual(ids, list(range(1392637175, 1392637179)))

    def test_collision_takes_a_new_random_start(self):
        from z3c.taskqueue.model.job import Job
        self._registerTask()
        service = self._makeOne()
        service.jobs[1392637175] = Job(1392637175, 'echo', None)
        random.seed(27)
        self.assertEqual(service.add('echo'), 1506179619)

    def test_collision_while_counting_takes_a_new_random_start(self):
        from z3c.taskqueue.model.job import Job
        self._registerTask()
        service = self._makeOne()
        service.jobs[1392637176] = Job(1392637176, 'echo', None)
        random.seed(27)
        self.assertEqual([service.add('echo'), service.add('echo')],
                         [1392637175, 1506179619])

    def test_counting_past_maxint_takes_a_new_random_start(self):
        import BTrees
        self._registerTask()
        service = self._makeOne()
        service._v_nextid = BTrees.family32.maxint
        self.assertEqual(service.add('echo'), BTrees.family32.maxint)
        random.seed(27)
        self.assertEqual(service.add('echo'), 1392637175)

    def test_ids_fit_family32(self):
        import BTrees
        self._registerTask()
        service = self._makeOne()
        for seed in range(50):
            random.seed(seed)
            service._v_nextid = None
            jobid = service.add('echo')
            self.assertTrue(0 <= jobid <= BTrees.family32.maxint, jobid)


class UnknownTaskTests(_Base):

    def test_add_names_the_task(self):
        with self.assertRaises(ValueError) as raised:
            self._makeOne().add('nosuchtask')
        self.assertIn("'nosuchtask'", str(raised.exception))

    def test_add_stores_nothing(self):
        service = self._makeOne()
        with self.assertRaises(ValueError):
            service.add('nosuchtask', {'foo': 'bar'})
        self.assertNothingStored(service)

    def test_add_startLater_stores_nothing(self):
        service = self._makeOne()
        with self.assertRaises(ValueError):
            service.add('nosuchtask', startLater=True)
        self.assertNothingStored(service)

    def test_addCronJob_names_the_task_and_stores_nothing(self):
        service = self._makeOne()
        with self.assertRaises(ValueError) as raised:
            service.addCronJob('nosuchtask', minute=(5,))
        self.assertIn("'nosuchtask'", str(raised.exception))
        self.assertNothingStored(service)

    def test_task_name_that_is_not_a_string(self):
        self._registerTask('echo')
        service = self._makeOne()
        for name in (None, 5, b'echo', ['echo']):
            with self.assertRaises(ValueError):
                service.add(name)
        self.assertNothingStored(service)

    def test_task_registered_under_another_interface_is_unknown(self):
        import zope.component
        import zope.interface

        class IOther(zope.interface.Interface):
            pass

        zope.component.provideUtility(echo, IOther, name='echo')
        with self.assertRaises(ValueError):
            self._makeOne().add('echo')


class UnpicklableInputTests(_Base):

    def _assertRefused(self, input, add=None):
        self._registerTask('echo')
        service = self._makeOne()
        if add is None:
            add = service.add
        with self.assertRaises(TypeError) as raised:
            add('echo', input)
        self.assertIn("'echo'", str(raised.exception))
        self.assertNothingStored(service)

    def test_lambda(self):
        self._assertRefused(lambda: None)

    def test_lock(self):
        self._assertRefused(threading.Lock())

    def test_open_file(self):
        with tempfile.TemporaryFile() as f:
            self._assertRefused(f)

    def test_nested_deep_in_the_input(self):
        self._assertRefused({'a': [1, (2, {'b': threading.Lock()})]})

    def test_local_class(self):
        class Local:
            pass
        self._assertRefused(Local())

    def test_addCronJob(self):
        self._registerTask('echo')
        service = self._makeOne()
        with self.assertRaises(TypeError) as raised:
            service.addCronJob('echo', lambda: None, minute=(5,))
        self.assertIn("'echo'", str(raised.exception))
        self.assertNothingStored(service)

    def test_startLater(self):
        self._registerTask('echo')
        service = self._makeOne()
        with self.assertRaises(TypeError):
            service.add('echo', lambda: None, startLater=True)
        self.assertNothingStored(service)

    def test_new_persistent_object_is_accepted(self):
        from persistent.mapping import PersistentMapping
        self._registerTask('echo')
        service = self._makeOne()
        input = PersistentMapping(a=1)
        jobid = service.add('echo', input)
        self.assertIs(service.jobs[jobid].input, input)


class UnknownIdTests(_Base):

    def _assertKeyError(self, method, *args):
        service = self._makeOne()
        with self.assertRaises(KeyError) as raised:
            getattr(service, method)(UNKNOWN_ID, *args)
        self.assertEqual(raised.exception.args, (UNKNOWN_ID,))

    def test_getStatus(self):
        self._assertKeyError('getStatus')

    def test_getResult(self):
        self._assertKeyError('getResult')

    def test_getError(self):
        self._assertKeyError('getError')

    def test_cancel(self):
        self._assertKeyError('cancel')

    def test_startJob(self):
        self._assertKeyError('startJob')

    def test_reschedule(self):
        self._assertKeyError('reschedule')

    def test_processNext_with_a_jobid(self):
        service = self._makeOne()
        with self.assertRaises(KeyError) as raised:
            service.processNext(0, jobid=UNKNOWN_ID)
        self.assertEqual(raised.exception.args, (UNKNOWN_ID,))


class CancelTests(_Base):

    def _makeOne(self):
        self._registerTask('echo')
        self._registerFailing('fail')
        self.ran = self._registerRecorder('record')
        return super()._makeOne()

    def test_queued(self):
        service = self._makeOne()
        jobid = service.add('record')
        service.cancel(jobid)
        self.assertEqual(service.getStatus(jobid), 'cancelled')
        self.assertFalse(service.processNext(0))
        self.assertEqual(self.ran, [])
        self.assertConsistent(service)

    def test_cron_job_waiting_to_be_scheduled(self):
        service = self._makeOne()
        jobid = service.addCronJob('record', minute=(10,))
        service.cancel(jobid)
        self.assertEqual(service.getStatus(jobid), 'cancelled')
        self.assertFalse(service.processNext(10 * MINUTE))
        self.assertEqual(self.ran, [])
        self.assertConsistent(service)

    def test_scheduled_cron_job(self):
        service = self._makeOne()
        jobid = service.addCronJob('record', minute=(10,))
        self.assertFalse(service.processNext(0))
        service.cancel(jobid)
        self.assertEqual(service.getStatus(jobid), 'cancelled')
        self.assertFalse(service.processNext(10 * MINUTE))
        self.assertEqual(self.ran, [])
        self.assertConsistent(service)

    def test_cron_job_that_ran_before(self):
        service = self._makeOne()
        jobid = service.addCronJob('record', minute=(10,))
        service.processNext(0)
        self.assertTrue(service.processNext(10 * MINUTE))
        service.cancel(jobid)
        self.assertEqual(service.getStatus(jobid), 'cancelled')
        self.assertFalse(service.processNext(HOUR + 10 * MINUTE))
        self.assertEqual(self.ran, [jobid])
        self.assertConsistent(service)

    def test_delayed_job_waiting_to_be_scheduled(self):
        service = self._makeOne()
        jobid = service.addCronJob('record', delay=10)
        service.cancel(jobid)
        self.assertEqual(service.getStatus(jobid), 'cancelled')
        self.assertFalse(service.processNext(100))
        self.assertEqual(self.ran, [])
        self.assertConsistent(service)

    def test_scheduled_delayed_job(self):
        service = self._makeOne()
        jobid = service.addCronJob('record', delay=10)
        self.assertFalse(service.processNext(0))
        service.cancel(jobid)
        self.assertEqual(service.getStatus(jobid), 'cancelled')
        self.assertFalse(service.processNext(100))
        self.assertEqual(self.ran, [])
        self.assertConsistent(service)

    def test_start_later(self):
        service = self._makeOne()
        jobid = service.add('record', startLater=True)
        service.cancel(jobid)
        self.assertEqual(service.getStatus(jobid), 'cancelled')
        self.assertFalse(service.startJob(jobid))
        self.assertFalse(service.processNext(0))
        self.assertEqual(self.ran, [])
        self.assertConsistent(service)

    def test_completed_job_is_left_as_it_is(self):
        service = self._makeOne()
        jobid = service.add('echo', 'out')
        service.processNext(0)
        completed = service.jobs[jobid].completed
        service.cancel(jobid)
        self.assertEqual(service.getStatus(jobid), 'completed')
        self.assertEqual(service.getResult(jobid), 'out')
        self.assertEqual(service.jobs[jobid].completed, completed)
        self.assertConsistent(service)

    def test_failed_job_is_left_as_it_is(self):
        service = self._makeOne()
        jobid = service.add('fail')
        service.processNext(0)
        service.cancel(jobid)
        self.assertEqual(service.getStatus(jobid), 'error')
        self.assertEqual(service.getError(jobid), 'ValueError: bad input')
        self.assertConsistent(service)

    def test_completed_delayed_job_is_left_as_it_is(self):
        service = self._makeOne()
        jobid = service.addCronJob('echo', 'out', delay=10)
        service.processNext(0)
        service.processNext(10)
        service.cancel(jobid)
        self.assertEqual(service.getStatus(jobid), 'completed')
        self.assertConsistent(service)

    def test_cancelled_job_stays_cancelled(self):
        service = self._makeOne()
        jobid = service.add('echo')
        service.cancel(jobid)
        service.cancel(jobid)
        self.assertEqual(service.getStatus(jobid), 'cancelled')
        self.assertConsistent(service)

    def test_job_being_processed_is_left_as_it_is(self):
        import zope.component

        from z3c.taskqueue.interfaces import ITask

        def cancelItself(svc, jobid, input):
            svc.cancel(jobid)
            return svc.getStatus(jobid)

        service = self._makeOne()
        zope.component.provideUtility(cancelItself, ITask, name='self')
        jobid = service.add('self')
        service.processNext(0)
        self.assertEqual(service.getResult(jobid), 'processing')
        self.assertEqual(service.getStatus(jobid), 'completed')
        self.assertConsistent(service)

    def test_cancel_leaves_the_other_jobs_in_order(self):
        service = self._makeOne()
        ids = [service.add('record') for _ in range(4)]
        service.cancel(ids[1])
        while service.processNext(0):
            pass
        self.assertEqual(self.ran, [ids[0], ids[2], ids[3]])


class FailureTests(_Base):

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
        outcomes = [ValueError('bad input'), None]

        def flaky(input):
            outcome = outcomes.pop(0)
            if outcome is not None:
                raise outcome
            return 'ok'

        self._registerTask('flaky', flaky)
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


class UnregisteredTaskTests(_Base):

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


class ProcessNextTests(_Base):

    def _makeOne(self):
        self.ran = self._registerRecorder('record')
        return super()._makeOne()

    def test_nothing_to_do(self):
        self.assertFalse(self._makeOne().processNext(0))

    def test_start_later_job_is_not_processed(self):
        service = self._makeOne()
        service.add('record', startLater=True)
        self.assertFalse(service.processNext(0))
        self.assertEqual(self.ran, [])

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

    def test_claimNextJob_marks_the_job_processing(self):
        service = self._makeOne()
        jobid = service.add('record')
        self.assertEqual(service.claimNextJob(0), jobid)
        self.assertEqual(service.getStatus(jobid), 'processing')
        self.assertIsNone(service.claimNextJob(0))
        self.assertEqual(self.ran, [])


class RescheduleTests(_Base):

    def _makeOne(self):
        self.ran = self._registerRecorder('record')
        return super()._makeOne()

    def test_takes_effect_at_the_next_processNext(self):
        service = self._makeOne()
        jobid = service.addCronJob('record', minute=(10,))
        service.processNext(0)
        service.jobs[jobid].update(minute=(20,))
        service.reschedule(jobid)
        self.assertFalse(service.processNext(10 * MINUTE))
        self.assertTrue(service.processNext(20 * MINUTE))
        self.assertEqual(self.ran, [jobid])

    def test_without_reschedule_the_old_time_stays(self):
        service = self._makeOne()
        jobid = service.addCronJob('record', minute=(10,))
        service.processNext(0)
        service.jobs[jobid].update(minute=(20,))
        self.assertTrue(service.processNext(10 * MINUTE))
        self.assertEqual(service.jobs[jobid].scheduledFor,
                         utcdatetime(20 * MINUTE))

    def test_computes_from_the_now_of_processNext(self):
        # The wall clock at the time of reschedule() is decades later
        # than the now passed to processNext().
        service = self._makeOne()
        jobid = service.addCronJob('record', minute=(10,))
        service.processNext(0)
        service.jobs[jobid].update(minute=(20,))
        service.reschedule(jobid)
        service.processNext(5 * MINUTE)
        self.assertEqual(service.jobs[jobid].scheduledFor,
                         utcdatetime(20 * MINUTE))

    def test_does_not_consult_the_wall_clock(self):
        from z3c.taskqueue.model import service as module
        service = self._makeOne()
        jobid = service.addCronJob('record', minute=(10,))
        service.processNext(0)
        service.jobs[jobid].update(minute=(20,))
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


class CleanTests(_Base):

    def _makeFull(self):
        """A service with a job in every status but processing."""
        self._registerTask('echo')
        self._registerFailing('fail')
        service = self._makeOne()
        ids = {}
        ids['completed'] = service.add('echo')
        service.processNext(0)
        ids['error'] = service.add('fail')
        service.processNext(0)
        ids['cancelled'] = service.add('echo')
        service.cancel(ids['cancelled'])
        ids['queued'] = service.add('echo')
        ids['start later'] = service.add('echo', startLater=True)
        ids['cronjob'] = service.addCronJob('echo', minute=(10,))
        ids['delayed'] = service.addCronJob('echo', delay=10)
        self.assertEqual({status: service.getStatus(jobid)
                          for status, jobid in ids.items()},
                         {status: status for status in ids})
        return service, ids

    def _statuses(self, service):
        return sorted(job.status for job in service.jobs.values())

    def test_removes_exactly_the_finished_jobs(self):
        service, ids = self._makeFull()
        service.clean()
        self.assertEqual(self._statuses(service),
                         ['cronjob', 'delayed', 'queued', 'start later'])
        self.assertConsistent(service)

    def test_removes_only_the_given_statuses(self):
        service, ids = self._makeFull()
        service.clean(('completed', 'cancelled'))
        self.assertEqual(self._statuses(service),
                         ['cronjob', 'delayed', 'error', 'queued',
                          'start later'])
        self.assertConsistent(service)

    def test_a_single_status(self):
        service, ids = self._makeFull()
        service.clean('error')
        self.assertNotIn(ids['error'], service.jobs)
        self.assertEqual(len(service.jobs), 6)
        self.assertConsistent(service)

    def test_waiting_statuses_leave_no_trace_in_the_indexes(self):
        service, ids = self._makeFull()
        service.processNext(0)   # schedules the cron and delayed jobs
        service.clean(('queued', 'cronjob', 'delayed', 'start later'))
        self.assertEqual(self._statuses(service),
                         ['cancelled', 'completed', 'completed', 'error'])
        self.assertConsistent(service)
        self.assertFalse(service.processNext(100 * HOUR))

    def test_nothing_to_clean(self):
        service = self._makeOne()
        service.clean()
        self.assertNothingStored(service)

    def test_many(self):
        self._registerTask('echo')
        service = self._makeOne()
        for _ in range(300):
            service.add('echo')
        kept = service.add('echo', startLater=True)
        while service.processNext(0):
            pass
        service.clean()
        self.assertEqual(list(service.jobs), [kept])
        self.assertConsistent(service)


class OrderTests(_Base):

    def _makeOne(self):
        self.ran = self._registerRecorder('record')
        return super()._makeOne()

    def _processAll(self, service, now=0):
        while service.processNext(now):
            pass

    def test_queued_jobs_run_in_the_order_they_were_added(self):
        service = self._makeOne()
        ids = [service.add('record') for _ in range(20)]
        self._processAll(service)
        self.assertEqual(self.ran, ids)

    def test_order_holds_within_one_clock_tick(self):
        from z3c.taskqueue.model import service as module
        service = self._makeOne()
        with mock.patch.object(module, 'time', frozenClock(1000.0)):
            ids = [service.add('record') for _ in range(20)]
        self._processAll(service)
        self.assertEqual(self.ran, ids)

    def test_order_holds_across_clock_ticks(self):
        # Jobs of one tick take the keys below that tick's; a later tick
        # must still queue after them.
        from z3c.taskqueue.model import service as module
        service = self._makeOne()
        ids = []
        for now in (1000.0, 1000.0, 1000.0, 1000.000001, 1000.000002):
            with mock.patch.object(module, 'time', frozenClock(now)):
                ids.append(service.add('record'))
        self._processAll(service)
        self.assertEqual(self.ran, ids)

    def test_started_job_queues_at_the_end(self):
        service = self._makeOne()
        later = service.add('record', startLater=True)
        first = service.add('record')
        self.assertTrue(service.startJob(later))
        self._processAll(service)
        self.assertEqual(self.ran, [first, later])

    def test_due_cron_job_runs_before_queued_jobs(self):
        service = self._makeOne()
        first = service.add('record')
        second = service.add('record')
        cron = service.addCronJob('record', minute=(1,))
        self.assertTrue(service.processNext(0))
        self._processAll(service, MINUTE)
        self.assertEqual(self.ran, [first, cron, second])

    def test_due_delayed_job_runs_before_queued_jobs(self):
        service = self._makeOne()
        delayed = service.addCronJob('record', delay=5)
        service.processNext(0)
        queued = service.add('record')
        self._processAll(service, 5)
        self.assertEqual(self.ran, [delayed, queued])

    def test_earliest_due_runs_first(self):
        service = self._makeOne()
        late = service.addCronJob('record', delay=20)
        early = service.addCronJob('record', delay=10)
        cron = service.addCronJob('record', minute=(0,))
        service.processNext(0)
        self._processAll(service, HOUR)
        self.assertEqual(self.ran, [early, late, cron])

    def test_cron_job_not_due_does_not_hold_up_the_queue(self):
        service = self._makeOne()
        service.addCronJob('record', minute=(10,))
        queued = service.add('record')
        self._processAll(service, 0)
        self.assertEqual(self.ran, [queued])


class HasJobsWaitingTests(_Base):

    def test_empty(self):
        self.assertFalse(self._makeOne().hasJobsWaiting(0))

    def test_queued_job(self):
        self._registerTask()
        service = self._makeOne()
        service.add('echo')
        self.assertTrue(service.hasJobsWaiting(0))

    def test_start_later_job(self):
        self._registerTask()
        service = self._makeOne()
        service.add('echo', startLater=True)
        self.assertFalse(service.hasJobsWaiting(0))

    def test_finished_jobs(self):
        self._registerTask()
        service = self._makeOne()
        service.add('echo')
        service.processNext(0)
        self.assertFalse(service.hasJobsWaiting(0))

    def test_cron_job_waiting_to_be_scheduled(self):
        # A worker must call processNext() to schedule it.
        self._registerTask()
        service = self._makeOne()
        service.addCronJob('echo', minute=(10,))
        self.assertTrue(service.hasJobsWaiting(0))

    def test_cron_job_scheduled_later(self):
        self._registerTask()
        service = self._makeOne()
        service.addCronJob('echo', minute=(10,))
        service.processNext(0)
        self.assertFalse(service.hasJobsWaiting(10 * MINUTE - 1))
        self.assertTrue(service.hasJobsWaiting(10 * MINUTE))

    def test_does_not_schedule(self):
        from z3c.taskqueue.model._index import size
        self._registerTask()
        service = self._makeOne()
        service.addCronJob('echo', minute=(10,))
        service.hasJobsWaiting(0)
        self.assertEqual(size(service._schedule.pending), 1)
        self.assertEqual(size(service._schedule.due), 0)


class RandomOperations:
    """Drive a service with a random sequence of operations."""

    def __init__(self, test, service, rng):
        self.test = test
        self.service = service
        self.rng = rng
        self.now = 0
        # The tasks the test unregistered: adding their jobs is refused.
        self.unregistered = set()
        self.refused = 0

    def adding(self, add, task, *args, **kw):
        """Return ``add(task, ...)``, or None if ``task`` was unregistered:
        then it must raise the ValueError that says so, and nothing else
        may."""
        if task not in self.unregistered:
            return add(task, *args, **kw)
        with self.test.assertRaises(ValueError) as raised:
            add(task, *args, **kw)
        self.test.assertEqual(str(raised.exception),
                              'no task is registered under the name %r'
                              % (task,))
        self.refused += 1
        return None

    def jobOf(self, *statuses):
        ids = [jobid for jobid, job in self.service.jobs.items()
               if not statuses or job.status in statuses]
        return self.rng.choice(ids) if ids else None

    def step(self):
        from z3c.taskqueue.interfaces import FINISHED
        from z3c.taskqueue.interfaces import ICronJob
        from z3c.taskqueue.interfaces import STATUSES
        rng, service = self.rng, self.service
        task = rng.choice(('echo', 'fail', 'gone'))
        operation = rng.choice((
            'add', 'add', 'add', 'startLater', 'cron', 'delayed', 'cancel',
            'startJob', 'reschedule', 'update', 'process', 'process',
            'process', 'processJob', 'clean', 'cleanSome', 'after',
            'keyed', 'expiring', 'expire', 'retry', 'purge'))
        if operation == 'add':
            self.adding(service.add, task, rng.random())
        elif operation == 'after':
            # Delayed jobs run once, and can be waited for.
            ids = [jobid for jobid, job in service.jobs.items()
                   if not ICronJob.providedBy(job) or job.delay is not None]
            ids = rng.sample(ids, min(len(ids), rng.randrange(1, 4)))
            jobid = self.adding(service.add, task, after=ids)
            for dep in ids if jobid is not None else ():
                if service.getStatus(dep) in ('error', 'cancelled'):
                    self.test.assertEqual(service.getStatus(jobid),
                                          'cancelled')
        elif operation == 'keyed':
            key = rng.choice('abc')
            before = service._waitingWithKey(key)
            jobid = self.adding(service.add, task, key=key)
            if before is not None and jobid is not None:
                self.test.assertEqual(jobid, before)
        elif operation == 'expiring':
            at = self.now + rng.choice((0, 1, 60))
            self.adding(service.add, task,
                        expires=datetime.datetime.fromtimestamp(
                            at, datetime.timezone.utc))
        elif operation == 'retry':
            jobid = self.jobOf('error', 'cancelled')
            if jobid is not None:
                job = service.jobs[jobid]
                waited = [service.jobs.get(other) for other in job.after]
                ran = job.attempts or job.started is not None
                try:
                    service.retry(jobid)
                except ValueError as error:
                    # Only a job that never ran, waiting for one that
                    # failed, was cancelled or is gone, is refused.
                    self.test.assertFalse(ran)
                    self.test.assertIn('waits for job', str(error))
                    self.test.assertTrue(any(
                        other is None or other.status in (
                            'error', 'cancelled') for other in waited))
                    return operation
                expected = ('queued', 'cronjob', 'delayed')
                if not ran and any(other.status not in FINISHED
                                   for other in waited):
                    expected = ('blocked',)
                self.test.assertIn(service.getStatus(jobid), expected)
        elif operation == 'purge':
            service.purge(rng.choice((FINISHED, 'error')), limit=5,
                          before=rng.choice((None, time.time() + 1)))
        elif operation == 'expire':
            service.resultTTL = rng.choice((None, 0, 60))
            # Results expire in real time, from when the job finished.
            service.expireResults(time.time() + rng.choice((1, 120)))
        elif operation == 'startLater':
            self.adding(service.add, task, startLater=True)
        elif operation == 'cron':
            self.adding(service.addCronJob, task,
                        minute=(rng.randrange(60),))
        elif operation == 'delayed':
            self.adding(service.addCronJob, task,
                        delay=rng.choice((1, 30, 90, 1.5)))
        elif operation == 'cancel':
            jobid = self.jobOf()
            if jobid is not None:
                before = service.getStatus(jobid)
                service.cancel(jobid)
                self.test.assertEqual(
                    service.getStatus(jobid),
                    before if before in FINISHED else 'cancelled')
        elif operation == 'startJob':
            jobid = self.jobOf()
            if jobid is not None:
                waiting = service.getStatus(jobid) == 'start later'
                self.test.assertEqual(service.startJob(jobid), waiting)
        elif operation in ('reschedule', 'update'):
            jobid = self.jobOf('cronjob', 'delayed')
            if jobid is not None:
                if operation == 'update':
                    service.jobs[jobid].update(minute=(rng.randrange(60),))
                service.reschedule(jobid)
        elif operation == 'process':
            self.now += rng.choice((0, 1, 30, 60, 600, 3600))
            service.processNext(self.now)
        elif operation == 'processJob':
            jobid = self.jobOf('queued', 'start later', 'cronjob', 'delayed')
            if jobid is not None:
                expired = service._expired(service.jobs[jobid], self.now)
                self.test.assertEqual(service.processNext(self.now, jobid),
                                      not expired)
        elif operation == 'clean':
            service.clean()
        elif operation == 'cleanSome':
            service.clean(tuple(rng.sample(STATUSES[2:], 2)))
        return operation


class RandomOperationsTests(_Base):

    def _registerTasks(self):
        self._registerTask('echo')
        self._registerFailing('fail')
        return self._registerTask('gone')

    def test_indexes_stay_consistent(self):
        from z3c.taskqueue.tests._support import indexProblems
        gone = self._registerTasks()
        service = self._makeOne()
        driver = RandomOperations(self, service, random.Random(1111))
        for step in range(1500):
            if step == 500:
                self._unregisterTask('gone', gone)
                driver.unregistered.add('gone')
            operation = driver.step()
            problems = indexProblems(service)
            if problems:
                self.fail('after step %d (%s):\n%s'
                          % (step, operation, '\n'.join(problems)))
        self.assertGreater(len(service.jobs), 10)
        self.assertGreater(driver.refused, 0)


class InDatabaseTests(_Base):
    """The service stored in a real database."""

    def setUp(self):
        super().setUp()
        from z3c.taskqueue.tests._support import openConnection
        from z3c.taskqueue.tests._support import openFileStorageDB
        self._registerTask('echo')
        self.db = openFileStorageDB(self)
        self.conn, self.tm = openConnection(self, self.db)
        self.root = self.conn.root()
        self.root['service'] = self._makeOne()
        self.tm.commit()
        self.service = self.root['service']

    def _reopen(self):
        """Return the root as a new connection sees it."""
        from z3c.taskqueue.tests._support import openConnection
        conn, tm = openConnection(self, self.db)
        return conn.root()

    def test_unknown_task_leaves_the_transaction_usable(self):
        self.root['other'] = 'work'
        with self.assertRaises(ValueError):
            self.service.add('nosuchtask')
        self.tm.commit()
        root = self._reopen()
        self.assertEqual(root['other'], 'work')
        self.assertNothingStored(root['service'])

    def _assertUnpicklableLeavesTheTransactionUsable(self, input):
        self.root['other'] = 'work'
        with self.assertRaises(TypeError) as raised:
            self.service.add('echo', input)
        self.assertIn("'echo'", str(raised.exception))
        self.tm.commit()
        root = self._reopen()
        self.assertEqual(root['other'], 'work')
        self.assertNothingStored(root['service'])

    def test_lambda_input_leaves_the_transaction_usable(self):
        self._assertUnpicklableLeavesTheTransactionUsable(lambda: None)

    def test_lock_input_leaves_the_transaction_usable(self):
        self._assertUnpicklableLeavesTheTransactionUsable(threading.Lock())

    def test_file_input_leaves_the_transaction_usable(self):
        with open(os.devnull) as f:
            self._assertUnpicklableLeavesTheTransactionUsable(f)

    def test_stored_persistent_input_is_accepted_by_reference(self):
        from persistent.mapping import PersistentMapping
        self.root['document'] = PersistentMapping(title='A')
        self.tm.commit()
        jobid = self.service.add('echo', {'doc': self.root['document']})
        self.tm.commit()
        root = self._reopen()
        self.assertIs(root['service'].jobs[jobid].input['doc'],
                      root['document'])

    def test_new_persistent_input_is_stored_with_the_job(self):
        from persistent.mapping import PersistentMapping
        jobid = self.service.add('echo', PersistentMapping(title='B'))
        self.tm.commit()
        root = self._reopen()
        self.assertEqual(dict(root['service'].jobs[jobid].input),
                         {'title': 'B'})

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
        outcomes = [ConflictError(), None]

        def flaky(input):
            outcome = outcomes.pop(0)
            if outcome is not None:
                raise outcome
            return 'ok'

        self._registerTask('flaky', flaky)
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

    def _assertWritesNothing(self, call):
        self.tm.commit()
        self.tm.begin()
        last = self.db.lastTransaction()
        call()
        self.assertEqual(self.conn._registered_objects, [])
        self.tm.commit()
        self.assertEqual(self.db.lastTransaction(), last)

    def test_hasJobsWaiting_reads_only(self):
        self.service.add('echo')
        self.service.add('echo', startLater=True)
        self.service.addCronJob('echo', minute=(10,))
        self.service.processNext(0)     # runs the queued job
        self.service.addCronJob('echo', delay=5)     # pending
        for now in (0, 10 * MINUTE, 10 ** 9):
            self._assertWritesNothing(
                lambda: self.assertTrue(self.service.hasJobsWaiting(now)))

    def test_hasJobsWaiting_reads_only_when_nothing_waits(self):
        self.service.addCronJob('echo', minute=(10,))
        self.service.processNext(0)
        self._assertWritesNothing(
            lambda: self.assertFalse(self.service.hasJobsWaiting(0)))

    def test_idle_processNext_writes_nothing(self):
        self.service.addCronJob('echo', minute=(10,))
        self.service.add('echo', startLater=True)
        self.service.processNext(0)
        self._assertWritesNothing(
            lambda: self.assertFalse(self.service.processNext(0)))

    def test_random_operations_with_commits_and_aborts(self):
        from z3c.taskqueue.tests._support import indexProblems
        self._registerFailing('fail')
        gone = self._registerTask('gone')
        driver = RandomOperations(self, self.service, random.Random(2222))
        for step in range(400):
            if step == 150:
                self._unregisterTask('gone', gone)
                driver.unregistered.add('gone')
            operation = driver.step()
            if step % 7 == 6:
                self.tm.abort()
                operation += ' and abort'
            elif step % 3 == 2:
                self.tm.commit()
                operation += ' and commit'
            problems = indexProblems(self.service)
            if problems:
                self.fail('after step %d (%s):\n%s'
                          % (step, operation, '\n'.join(problems)))
        self.tm.commit()
        self.assertGreater(driver.refused, 0)
        self.assertEqual(indexProblems(self._reopen()['service']), [])
