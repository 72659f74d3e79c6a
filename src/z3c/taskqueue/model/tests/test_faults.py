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
"""Faults in jobs and their data, on a real FileStorage: no single job
stops the others, and no job fails that did not fail.

Each test names the item of the robustness issue (#8) it reproduces;
``docs/reliability.rst`` lists them.  Worker threads are in
``processing/tests/test_faults_processor``, worker processes in
``processing/tests/test_faults_processes``.
"""
import os
import shutil
import tempfile
import threading
import unittest

import transaction
import zope.component
import zope.component.testing
import zope.interface
from zope.testing.loggingsupport import InstalledHandler

from z3c.taskqueue import interfaces


@zope.interface.implementer(interfaces.ITask)
class Task:
    """Calls ``action(service, jobid, input)``; counts its calls."""

    inputSchema = outputSchema = retryPolicy = None

    def __init__(self, action=None):
        self.action = action
        self.calls = 0

    def __call__(self, service, jobid, input):
        self.calls += 1
        if self.action is not None:
            return self.action(service, jobid, input)
        return input


class FaultTestBase(unittest.TestCase):
    """A service in a FileStorage that the test can close and reopen,
    so that nothing of a job stays in a cache."""

    def setUp(self):
        zope.component.testing.setUp(self)
        self.addCleanup(zope.component.testing.tearDown, self)
        self.addCleanup(_fragile_restore)
        self.log = InstalledHandler('z3c.taskqueue')
        self.addCleanup(self.log.uninstall)
        self.directory = tempfile.mkdtemp(prefix='z3c.taskqueue-faults-')
        self.addCleanup(shutil.rmtree, self.directory)
        self.path = os.path.join(self.directory, 'Data.fs')
        self.db = None
        self.open()
        self.addCleanup(self.close)
        from z3c.taskqueue.model.service import TaskService
        self.root['tasks'] = TaskService()
        self.root['tasks'].__name__ = 'tasks'
        self.tm.commit()

    def open(self):
        import ZODB
        import ZODB.FileStorage
        self.db = ZODB.DB(ZODB.FileStorage.FileStorage(self.path))
        self.tm = transaction.TransactionManager()
        self.connection = self.db.open(self.tm)

    def close(self):
        if self.db is not None:
            self.tm.abort()
            self.connection.close()
            self.db.close()
            self.db = None

    def reopen(self):
        """Close and open the database: every object loads anew."""
        self.tm.commit()
        self.close()
        self.open()

    @property
    def root(self):
        return self.connection.root()

    @property
    def service(self):
        return self.root['tasks']

    def provide(self, name='task', action=None):
        task = Task(action)
        zope.component.provideUtility(task, name=name)
        return task

    def assertConsistent(self):
        from z3c.taskqueue.tests._support import assertConsistent
        assertConsistent(self, self.service)


def _fragile_restore():
    from z3c.taskqueue.tests import _fragile
    _fragile.restore()


class DueTimeTests(FaultTestBase):
    """Item 2: due times that the indexes cannot hold."""

    def test_a_huge_delay_is_refused_and_nothing_is_stored(self):
        self.provide()
        with self.assertRaises(ValueError) as raised:
            self.service.addCronJob('task', None, delay=10 ** 10)
        self.assertIn('delay=10000000000 is too long', str(raised.exception))
        self.assertEqual(len(self.service.jobs), 0)
        self.assertFalse(self.service.processNext())

    def test_update_refuses_a_huge_delay(self):
        self.provide()
        jobid = self.service.addCronJob('task', None, delay=10)
        with self.assertRaises(ValueError):
            self.service.jobs[jobid].update(delay=10 ** 10)
        self.assertEqual(self.service.jobs[jobid].delay, 10)

    def test_a_job_that_cannot_be_scheduled_fails_alone(self):
        # The longest delay, counted from a ``now`` close to the end of
        # the schedule's range, is past it: that job ends in error, and
        # the others run.
        from z3c.taskqueue.model._index import MAX_TIME
        from z3c.taskqueue.model.job import MAX_DELAY
        self.provide()
        far = self.service.addCronJob('task', None, delay=MAX_DELAY)
        near = self.service.addCronJob('task', 'soon', delay=1)
        queued = self.service.add('task', 'now')
        self.tm.commit()
        now = MAX_TIME - 10
        self.assertTrue(self.service.processNext(now))
        self.assertEqual(self.service.getStatus(queued), 'completed')
        self.assertEqual(self.service.getStatus(far), 'error')
        self.assertIn('cannot be scheduled', self.service.getError(far))
        self.assertIn('out of the range of the schedule',
                      self.service.getError(far))
        self.assertTrue(self.service.processNext(now + 1))
        self.assertEqual(self.service.getStatus(near), 'completed')
        self.tm.commit()
        self.assertConsistent()

    def test_processNext_far_in_the_future_fails_no_one(self):
        self.provide()
        jobid = self.service.add('task', 1)
        self.assertTrue(self.service.processNext(10 ** 12))
        self.assertEqual(self.service.getStatus(jobid), 'completed')


class DelayZeroTests(FaultTestBase):
    """Item 9: ``delay=0`` means no delay: the job runs once, at once."""

    def test_delay_zero_runs_once(self):
        task = self.provide()
        jobid = self.service.addCronJob('task', 'x', delay=0)
        self.assertEqual(self.service.getStatus(jobid), 'delayed')
        # The first processNext() schedules it for now + 0, and runs it.
        self.assertTrue(self.service.processNext(100))
        self.assertEqual(self.service.getStatus(jobid), 'completed')
        self.assertFalse(self.service.processNext(10 ** 6))
        self.assertEqual(task.calls, 1)


class UnloadablePayloadTests(FaultTestBase):
    """Item 5: an input or output that no longer loads."""

    def addFragile(self, count=1):
        from z3c.taskqueue.tests._fragile import Fragile
        ids = [self.service.add('task', Fragile('in')) for i in range(count)]
        self.tm.commit()
        return ids

    def breakFragile(self):
        from z3c.taskqueue.tests import _fragile
        _fragile.breakFragile()
        self.reopen()

    def test_the_job_still_loads_and_can_be_cancelled(self):
        self.provide()
        first, second = self.addFragile(2)
        self.breakFragile()
        self.assertEqual(self.service.getStatus(first), 'queued')
        self.assertEqual(self.service.countJobs()['queued'], 2)
        with self.assertRaises(interfaces.PayloadError) as raised:
            self.service.jobs[first].input
        self.assertEqual(
            str(raised.exception), 'the input of job %r cannot be loaded:'
            ' ValueError: Fragile no longer loads (in'
            ' z3c.taskqueue.tests._fragile.Fragile)' % first)
        self.service.cancel(first)
        self.assertEqual(self.service.getStatus(first), 'cancelled')
        self.tm.commit()
        self.service.clean()
        self.assertNotIn(first, self.service.jobs)
        self.tm.commit()

    def test_the_job_ends_in_error_and_the_next_one_runs(self):
        task = self.provide()
        fragile, = self.addFragile()
        after = self.service.add('task', 'after')
        self.tm.commit()
        self.breakFragile()
        self.assertTrue(self.service.processNext())
        self.assertEqual(self.service.getStatus(fragile), 'error')
        self.assertEqual(
            self.service.getError(fragile), 'PayloadError: the input of job'
            ' %r cannot be loaded: ValueError: Fragile no longer loads'
            ' (in z3c.taskqueue.tests._fragile.Fragile)' % fragile)
        self.assertEqual(task.calls, 0)
        self.assertTrue(self.service.processNext())
        self.assertEqual(self.service.getResult(after), 'after')
        self.tm.commit()
        self.service.clean()
        self.assertEqual(len(self.service.jobs), 0)
        self.tm.commit()

    def test_an_input_of_a_removed_class_names_the_class(self):
        from z3c.taskqueue.tests import _fragile
        task = self.provide()
        jobid = self.service.add('task', {'doc': [_fragile.Vanishing('x')]})
        self.tm.commit()
        _fragile.removeVanishing()
        self.reopen()
        self.assertTrue(self.service.processNext())
        self.assertEqual(self.service.getStatus(jobid), 'error')
        self.assertIn('holds an instance of'
                      ' z3c.taskqueue.tests._fragile.Vanishing, a class that'
                      ' cannot be imported', self.service.getError(jobid))
        self.assertEqual(task.calls, 0)

    def test_an_unloadable_cron_output_blocks_no_claim(self):
        from z3c.taskqueue.tests._fragile import Fragile
        self.provide(action=lambda service, jobid, input: Fragile('out'))
        cron = self.service.addCronJob('task', None, minute=())
        self.assertFalse(self.service.processNext(0))      # schedules it
        self.assertTrue(self.service.processNext(60))      # runs it
        self.tm.commit()
        self.breakFragile()
        with self.assertRaises(interfaces.PayloadError):
            self.service.getResult(cron)
        other = self.service.add('task', 'other')
        self.assertTrue(self.service.processNext(61))
        self.assertEqual(self.service.getStatus(other), 'completed')
        # The cron job runs again, and its new output replaces the old
        # one without loading it.
        self.assertTrue(self.service.processNext(120))
        self.assertEqual(self.service.jobs[cron].attempts, 0)
        self.assertEqual(self.service.getStatus(cron), 'cronjob')
        self.tm.commit()
        self.service.clean()
        self.service.cancel(cron)
        self.service.clean()
        self.assertEqual(len(self.service.jobs), 0)
        self.tm.commit()


class UnloadableJobTests(FaultTestBase):
    """Item 5, for jobs stored before payloads had records of their own:
    a job whose own record no longer loads is replaced."""

    def addOldStyleJob(self, value):
        from z3c.taskqueue.model.payload import Payload  # noqa: F401 (loaded)
        jobid = self.service.add('task', None)
        job = self.service.jobs[jobid]
        job.__dict__.pop('_input', None)    # None is not stored
        job.__dict__['input'] = value    # the layout of version 1
        job._p_changed = True
        self.tm.commit()
        return jobid

    def test_an_old_style_input_still_reads(self):
        self.provide()
        jobid = self.addOldStyleJob('old')
        self.reopen()
        self.assertEqual(self.service.jobs[jobid].input, 'old')
        self.assertTrue(self.service.processNext())
        self.assertEqual(self.service.getResult(jobid), 'old')

    def test_a_job_whose_record_does_not_load_is_replaced(self):
        from z3c.taskqueue.tests import _fragile
        self.provide()
        broken = self.addOldStyleJob(_fragile.Fragile('old'))
        after = self.service.add('task', 'after')
        self.tm.commit()
        self.breakFragile()
        self.assertTrue(self.service.processNext())
        self.assertEqual(self.service.getStatus(after), 'completed')
        self.assertEqual(self.service.getStatus(broken), 'error')
        self.assertIn('the record of job %r cannot be loaded' % broken,
                      self.service.getError(broken))
        self.tm.commit()
        self.assertConsistent()
        self.service.clean()
        self.assertEqual(len(self.service.jobs), 0)

    breakFragile = UnloadablePayloadTests.breakFragile


class TaskEndsItsTransactionTests(FaultTestBase):
    """Item 8: a task cannot undo its job's bookkeeping."""

    def test_a_task_that_aborts_completes_once(self):
        def aborting(service, jobid, input):
            service._p_jar.root()['lost'] = 1
            service._p_jar.transaction_manager.abort()
            return 'aborted'
        task = self.provide(action=aborting)
        jobid = self.service.add('task')
        self.tm.commit()
        self.assertTrue(self.service.processNext())
        self.tm.commit()
        self.assertEqual(self.service.getStatus(jobid), 'completed')
        self.assertEqual(self.service.getResult(jobid), 'aborted')
        self.assertEqual(self.service.jobs[jobid].attempts, 1)
        self.assertFalse(self.service.processNext())
        self.assertEqual(task.calls, 1)
        self.assertNotIn('lost', self.root)
        self.assertConsistent()

    def test_a_task_that_aborts_and_raises_fails_once(self):
        def aborting(service, jobid, input):
            service._p_jar.transaction_manager.abort()
            service._p_jar.root()['half'] = 1
            raise RuntimeError('after abort')
        task = self.provide(action=aborting)
        jobid = self.service.add('task')
        self.tm.commit()
        self.assertTrue(self.service.processNext())
        self.tm.commit()
        self.assertEqual(self.service.getStatus(jobid), 'error')
        self.assertEqual(self.service.getError(jobid),
                         'RuntimeError: after abort')
        self.assertNotIn('half', self.root)
        self.assertFalse(self.service.processNext())
        self.assertEqual(task.calls, 1)
        self.assertConsistent()

    def test_a_task_that_commits_in_steps_completes(self):
        def committing(service, jobid, input):
            service._p_jar.root()['step'] = 1
            service._p_jar.transaction_manager.commit()
            service._p_jar.root()['step'] = 2
            return 'done'
        self.provide(action=committing)
        jobid = self.service.add('task')
        self.tm.commit()
        self.assertTrue(self.service.processNext())
        self.tm.commit()
        self.assertEqual(self.service.getStatus(jobid), 'completed')
        self.assertEqual(self.root['step'], 2)
        self.assertFalse(self.service.processNext())
        self.assertConsistent()

    def test_a_task_that_dooms_the_transaction_fails_once(self):
        def dooming(service, jobid, input):
            service._p_jar.transaction_manager.get().doom()
            return 'doomed'
        task = self.provide(action=dooming)
        jobid = self.service.add('task')
        self.tm.commit()
        self.assertTrue(self.service.processNext())
        self.tm.commit()        # the caller's commit works
        self.assertEqual(self.service.getStatus(jobid), 'error')
        self.assertIn('doomed the transaction', self.service.getError(jobid))
        self.assertFalse(self.service.processNext())
        self.assertEqual(task.calls, 1)
        self.assertConsistent()

    def test_an_output_that_cannot_be_stored_fails_the_job(self):
        def locking(service, jobid, input):
            service._p_jar.root()['written'] = 1
            return threading.Lock()
        self.provide(action=locking)
        jobid = self.service.add('task')
        self.tm.commit()
        self.assertTrue(self.service.processNext())
        self.tm.commit()
        self.assertEqual(self.service.getStatus(jobid), 'error')
        self.assertIn("the output of task 'task' cannot be stored in the"
                      " database", self.service.getError(jobid))
        self.assertNotIn('written', self.root)
        self.assertFalse(self.service.processNext())

    def test_a_write_that_cannot_be_stored_fails_the_job(self):
        def writing(service, jobid, input):
            if input is None:
                service._p_jar.root()['lock'] = threading.Lock()
        self.provide(action=writing)
        jobid = self.service.add('task')
        other = self.service.add('task', 'other')
        self.tm.commit()
        self.assertTrue(self.service.processNext())
        self.tm.commit()
        self.assertEqual(self.service.getStatus(jobid), 'error')
        self.assertIn('lock', self.service.getError(jobid))
        self.assertNotIn('lock', self.root)
        self.assertTrue(self.service.processNext())
        self.assertEqual(self.service.getStatus(other), 'completed')


class BadExceptionTests(FaultTestBase):
    """Items 1 and 10: whatever a task raises is the job's error."""

    def test_an_exception_whose_str_raises(self):
        class Unprintable(Exception):
            def __str__(self):
                raise RuntimeError('no')

        def raising(service, jobid, input):
            raise Unprintable()
        task = self.provide(action=raising)
        jobid = self.service.add('task')
        self.assertTrue(self.service.processNext())
        self.assertEqual(self.service.getStatus(jobid), 'error')
        self.assertEqual(self.service.getError(jobid),
                         'Unprintable: <the message cannot be shown: its'
                         ' __str__ failed>')
        self.assertFalse(self.service.processNext())
        self.assertEqual(task.calls, 1)

    def test_base_exceptions_outside_the_main_thread_are_job_errors(self):
        class Custom(BaseException):
            pass
        errors = [SystemExit(2), KeyboardInterrupt(), GeneratorExit(),
                  Custom('mine')]

        def raising(service, jobid, input):
            raise errors[input]
        self.provide(action=raising)
        ids = [self.service.add('task', n) for n in range(len(errors))]
        self.tm.commit()

        def work():
            while self.service.processNext():
                pass
        thread = threading.Thread(target=work)
        thread.start()
        thread.join(30)
        self.assertEqual([self.service.getError(jobid) for jobid in ids],
                         ['SystemExit: 2', 'KeyboardInterrupt',
                          'GeneratorExit', 'Custom: mine'])
        self.assertEqual({self.service.getStatus(jobid) for jobid in ids},
                         {'error'})

    def test_a_stop_request_in_the_main_thread_propagates(self):
        # Ctrl-C while processNext() runs a task: the caller stops, and
        # the job is not failed; aborting leaves it queued.
        def interrupted(service, jobid, input):
            raise KeyboardInterrupt()
        self.provide(action=interrupted)
        jobid = self.service.add('task')
        self.tm.commit()
        with self.assertRaises(KeyboardInterrupt):
            self.service.processNext()
        self.tm.abort()
        self.assertEqual(self.service.getStatus(jobid), 'queued')
        self.assertEqual(self.service.jobs[jobid].attempts, 0)


class OtherDatabaseTests(FaultTestBase):
    """Item 11: an input holding a persistent object of another database
    is refused at add(), not at the caller's commit."""

    def test_an_object_of_another_database_is_refused(self):
        import ZODB
        from persistent.mapping import PersistentMapping
        self.provide()
        other = ZODB.DB(None)
        self.addCleanup(other.close)
        otherTM = transaction.TransactionManager()
        otherConnection = other.open(otherTM)
        self.addCleanup(otherConnection.close)
        foreign = otherConnection.root()['x'] = PersistentMapping()
        otherTM.commit()
        self.root['mine'] = 'kept'
        with self.assertRaises(TypeError) as raised:
            self.service.add('task', {'doc': foreign})
        self.assertIn('stored in another database or through another'
                      ' connection', str(raised.exception))
        self.assertEqual(len(self.service.jobs), 0)
        self.tm.commit()     # the caller's own change is not lost
        self.assertEqual(self.root['mine'], 'kept')
        otherTM.abort()

    def test_an_object_of_this_database_is_taken(self):
        from persistent.mapping import PersistentMapping
        self.provide()
        self.root['doc'] = doc = PersistentMapping()
        self.tm.commit()
        jobid = self.service.add('task', {'doc': doc})
        self.tm.commit()
        self.assertIs(self.service.jobs[jobid].input['doc'], doc)


class DanglingIndexTests(FaultTestBase):
    """Item 13: a job deleted behind the service's back."""

    def test_a_deleted_queued_job_is_skipped(self):
        self.provide()
        gone = self.service.add('task', 'gone')
        kept = self.service.add('task', 'kept')
        self.tm.commit()
        del self.service.jobs[gone]
        self.assertTrue(self.service.processNext())
        self.assertEqual(self.service.getStatus(kept), 'completed')
        self.assertFalse(self.service.processNext())
        self.tm.commit()
        self.assertConsistent()

    def test_deleted_cron_delayed_and_finished_jobs_are_skipped(self):
        self.provide()
        cron = self.service.addCronJob('task', None, minute=(1,))
        delayed = self.service.addCronJob('task', None, delay=5)
        finished = self.service.add('task')
        self.assertTrue(self.service.processNext(0))
        self.tm.commit()
        for jobid in (cron, delayed, finished):
            del self.service.jobs[jobid]
        self.assertEqual(sum(self.service.countJobs().values()), 1)
        self.assertFalse(self.service.processNext(100))
        self.service.clean()
        self.service.recoverExpired()
        self.tm.commit()
        self.assertConsistent()


class RescheduleTests(FaultTestBase):
    """Item 13: reschedule() of a job that is not a cron job."""

    def test_a_processing_job_that_is_no_cron_job_is_refused(self):
        self.provide()
        jobid = self.service.add('task')
        lease, ids = self.service.claimJobs('me', 60)
        with self.assertRaises(ValueError) as raised:
            self.service.reschedule(jobid)
        self.assertIn('only cron and delayed jobs', str(raised.exception))
