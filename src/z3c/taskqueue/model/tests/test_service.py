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
"""Unit tests for ``z3c.taskqueue.model.service.TaskService``: adding jobs,
ids, statuses, results and errors, ``cancel`` and ``clean``."""
import os
import random
import tempfile
import threading
import unittest

from z3c.taskqueue.model.tests._base import HOUR
from z3c.taskqueue.model.tests._base import MINUTE
from z3c.taskqueue.model.tests._base import InDatabaseTestBase
from z3c.taskqueue.model.tests._base import ServiceTestBase
from z3c.taskqueue.model.tests._base import echo


UNKNOWN_ID = 12345


class ContractTests(ServiceTestBase):

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


class JobIdTests(ServiceTestBase):

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


class UnknownTaskTests(ServiceTestBase):

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


class UnpicklableInputTests(ServiceTestBase):

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


class UnknownIdTests(ServiceTestBase):

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


class CancelTests(ServiceTestBase):

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


class CleanTests(ServiceTestBase):

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


class AddInDatabaseTests(InDatabaseTestBase):
    """Adding jobs to a service stored in a real database."""

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


def test_suite():
    return unittest.defaultTestLoader.loadTestsFromName(__name__)
