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
"""Job controls on a real FileStorage: unique keys, dependencies, start
deadlines, run-time limits, progress and result expiry."""
import datetime
import threading
import time
import unittest

import transaction
from ZODB.POSException import ConflictError

from z3c.taskqueue import interfaces
from z3c.taskqueue.model.tests.test_faults import FaultTestBase


WAIT = 30


def fail(service, jobid, input):
    raise interfaces.TaskError('it broke')


class ControlTestBase(FaultTestBase):

    def setUp(self):
        super().setUp()
        self.provide('echo')
        self.provide('fail', fail)

    def otherConnection(self):
        tm = transaction.TransactionManager()
        connection = self.db.open(tm)
        self.addCleanup(connection.close)
        self.addCleanup(tm.abort)
        return tm, connection.root()['tasks']

    def startProcessor(self):
        """Run a ``SimpleProcessor`` on the test's database, in a thread
        stopped after the test; return the processor and the thread."""
        from z3c.taskqueue.processing.processor import SimpleProcessor
        processor = SimpleProcessor(self.db, ['tasks'], waitTime=0.05)
        thread = threading.Thread(target=processor)
        thread.start()
        self.addCleanup(thread.join, WAIT)
        self.addCleanup(processor.stop)
        return processor, thread

    def waitUntil(self, condition):
        """Wait until ``condition()``, as the test's connection sees the
        database anew; fail after ``WAIT`` seconds."""
        deadline = time.monotonic() + WAIT
        while not condition():
            self.assertLess(time.monotonic(), deadline)
            self.tm.abort()
            time.sleep(0.05)

    def assertRefused(self, message, **kw):
        before = len(self.service.jobs)
        with self.assertRaises(ValueError) as raised:
            self.service.add('echo', **kw)
        self.assertIn(message, str(raised.exception))
        self.assertEqual(len(self.service.jobs), before)
        return raised.exception


class UniqueKeyTests(ControlTestBase):

    def test_a_second_add_with_the_key_returns_the_first_job(self):
        first = self.service.add('echo', 1, key='reindex:/plone/doc')
        self.tm.commit()
        again = self.service.add('echo', 2, key='reindex:/plone/doc')
        self.assertEqual(again, first)
        self.assertEqual(len(self.service.jobs), 1)
        self.assertEqual(self.service.jobs[first].input, 1)
        self.assertEqual(self.service.jobs[first].key, 'reindex:/plone/doc')
        self.assertNotEqual(self.service.add('echo', 3, key='other'), first)

    def test_start_later_and_retried_jobs_count_as_waiting(self):
        later = self.service.add('echo', startLater=True, key='a')
        self.assertEqual(self.service.add('echo', key='a'), later)
        from z3c.taskqueue.model.retry import RetryPolicy
        self.provide('flaky', fail).retryPolicy = RetryPolicy(
            maxAttempts=3, retryOn=(interfaces.TaskError,))
        flaky = self.service.add('flaky', key='b')
        lease, ids = self.service.claimJobs('w', 60)
        self.service.failJob(flaky, lease, interfaces.TaskError('it broke'))
        self.assertEqual(self.service.getStatus(flaky), 'queued')
        self.assertEqual(self.service.jobs[flaky].attempts, 1)
        self.assertEqual(self.service.add('flaky', key='b'), flaky)

    def test_once_the_job_ran_a_new_one_can_be_added(self):
        first = self.service.add('echo', key='k')
        self.assertTrue(self.service.processNext())
        second = self.service.add('echo', key='k')
        self.assertNotEqual(second, first)
        self.assertEqual(self.service.add('echo', key='k'), second)
        self.assertConsistent()

    def test_a_claimed_job_no_longer_holds_its_key(self):
        first = self.service.add('echo', key='k')
        self.tm.commit()
        self.service.claimJobs('w', 60)
        self.assertEqual(self.service.getStatus(first), 'processing')
        self.assertNotEqual(self.service.add('echo', key='k'), first)

    def test_bad_keys_are_refused_and_nothing_is_stored(self):
        self.assertRefused('a job key must be a string, not 42', key=42)
        self.assertRefused('a job key must be a string', key=b'bytes')
        self.assertRefused('must be 1 to 500 characters long, not 0',
                           key='')
        self.assertRefused('not 501', key='x' * 501)

    def test_clean_forgets_the_key(self):
        jobid = self.service.add('echo', key='k')
        self.service.processNext()
        self.service.clean()
        self.assertNotIn(jobid, self.service.jobs)
        self.assertIsNone(self.service._keys.get('k'))
        self.assertConsistent()

    def test_concurrent_adds_of_one_key_conflict_and_the_retry_finds_the_first(
            self):
        self.service.add('echo', key='warm')    # the key index exists
        self.tm.commit()
        tm2, other = self.otherConnection()
        first = self.service.add('echo', 1, key='k')
        other.add('echo', 2, key='k')
        self.tm.commit()
        with self.assertRaises(ConflictError):
            tm2.commit()
        tm2.abort()
        self.assertEqual(other.add('echo', 3, key='k'), first)
        tm2.commit()
        self.assertEqual(len(other.jobs), 2)

    def test_concurrent_adds_of_different_keys_both_commit(self):
        self.service.add('echo', key='warm')
        self.tm.commit()
        tm2, other = self.otherConnection()
        self.service.add('echo', key='a')
        other.add('echo', key='b')
        self.tm.commit()
        tm2.commit()
        self.tm.begin()
        self.assertEqual(len(self.service.jobs), 3)


class DependencyTests(ControlTestBase):

    def test_a_job_waits_until_all_it_depends_on_completed(self):
        a = self.service.add('echo', 'a')
        b = self.service.add('echo', 'b')
        c = self.service.add('echo', 'c', after=[a, b])
        self.assertEqual(self.service.getStatus(c), 'blocked')
        self.assertEqual(self.service.jobs[c].after, (a, b))
        self.assertEqual(self.service.countJobs()['blocked'], 1)
        self.assertTrue(self.service.processNext(jobid=a))
        self.assertEqual(self.service.getStatus(c), 'blocked')
        self.assertEqual(self.service.jobs[c]._waitingFor, (b,))
        self.assertTrue(self.service.processNext(jobid=b))
        self.assertEqual(self.service.getStatus(c), 'queued')
        self.assertEqual(self.service.countJobs()['blocked'], 0)
        self.assertTrue(self.service.processNext())
        self.assertEqual(self.service.getResult(c), 'c')
        self.assertConsistent()

    def test_a_blocked_job_is_never_claimed(self):
        a = self.service.add('echo', startLater=True)
        c = self.service.add('echo', after=[a])
        self.assertFalse(self.service.processNext())
        self.assertEqual(self.service.claimJobs('w', 60), (None, []))
        self.assertEqual(self.service.getStatus(c), 'blocked')

    def test_a_failed_dependency_cancels_the_chain_naming_it(self):
        a = self.service.add('fail')
        b = self.service.add('echo', after=[a])
        c = self.service.add('echo', after=[b])
        d = self.service.add('echo', after=[c, a])
        self.assertTrue(self.service.processNext(jobid=a))
        for jobid in (b, c, d):
            self.assertEqual(self.service.getStatus(jobid), 'cancelled')
        self.assertEqual(
            self.service.getError(b),
            'job %d, which it waited for, ended error: it broke' % a)
        self.assertIn('job %d, which it waited for, ended cancelled' % b,
                      self.service.getError(c))
        self.assertFalse(self.service.processNext())
        self.assertConsistent()

    def test_cancelling_a_dependency_cancels_its_dependants(self):
        a = self.service.add('echo')
        b = self.service.add('echo', after=[a])
        self.service.cancel(a)
        self.assertEqual(self.service.getStatus(b), 'cancelled')
        self.assertConsistent()

    def test_cancelling_a_blocked_job_leaves_its_dependency_alone(self):
        a = self.service.add('echo')
        b = self.service.add('echo', after=[a])
        self.service.cancel(b)
        self.assertEqual(self.service.getStatus(b), 'cancelled')
        self.assertFalse(self.service._dependencies.hasDependants(a))
        self.assertTrue(self.service.processNext())
        self.assertEqual(self.service.getStatus(a), 'completed')
        self.assertConsistent()

    def test_removing_a_dependency_cancels_its_dependants(self):
        a = self.service.add('echo', startLater=True)
        b = self.service.add('echo', after=[a])
        self.service.clean('start later')
        self.assertEqual(self.service.getError(b),
                         'job %d, which it waited for, was removed' % a)

    def test_jobs_that_ended_already_count_at_once(self):
        done = self.service.add('echo')
        failed = self.service.add('fail')
        self.service.processNext(jobid=done)
        self.service.processNext(jobid=failed)
        self.assertEqual(self.service.getStatus(
            self.service.add('echo', after=[done])), 'queued')
        late = self.service.add('echo', after=[done, failed])
        self.assertEqual(self.service.getStatus(late), 'cancelled')
        self.assertIn('job %d, which it waited for, ended error' % failed,
                      self.service.getError(late))
        self.assertConsistent()

    def test_bad_dependencies_are_refused_and_nothing_is_stored(self):
        cron = self.service.addCronJob('echo', minute=(5,))
        self.assertRefused('after names job 12345, which does not exist',
                           after=[12345])
        self.assertRefused('a cron job: it never completes', after=[cron])
        self.assertRefused('after must be a list of job ids, not 5',
                           after=5)
        self.assertRefused("after must list job ids (integers), not '1'",
                           after=['1'])
        queued = self.service.add('echo')
        self.assertRefused('cannot both start later and wait',
                           after=[queued], startLater=True)

    def test_concurrent_completions_release_the_dependant_once(self):
        a = self.service.add('echo')
        b = self.service.add('echo')
        c = self.service.add('echo', after=[a, b])
        self.tm.commit()
        lease1, ids1 = self.service.claimJobs('w1', 60, limit=1)
        lease2, ids2 = self.service.claimJobs('w2', 60, limit=1)
        self.tm.commit()
        tm2, other = self.otherConnection()
        self.assertTrue(self.service.completeJob(ids1[0], lease1, 'x'))
        self.assertTrue(other.completeJob(
            ids2[0], other._p_jar.get(lease2._p_oid), 'y'))
        self.tm.commit()
        with self.assertRaises(ConflictError):
            tm2.commit()
        tm2.abort()
        self.assertTrue(other.completeJob(
            ids2[0], other._p_jar.get(lease2._p_oid), 'y'))
        tm2.commit()
        self.tm.begin()
        self.assertEqual(self.service.getStatus(c), 'queued')
        self.assertEqual(self.service._queues.size(), 1)


class ExpiresTests(ControlTestBase):

    def test_a_job_not_started_by_its_deadline_never_runs(self):
        task = self.provide('counted')
        jobid = self.service.add('counted', expires=10)
        expires = self.service.jobs[jobid].expires
        self.assertAlmostEqual(expires, time.time() + 10, delta=5)
        self.assertFalse(self.service.processNext(expires + 1))
        self.assertEqual(task.calls, 0)
        self.assertEqual(self.service.getStatus(jobid), 'cancelled')
        self.assertIn('expired: not started by', self.service.getError(jobid))
        self.assertConsistent()

    def test_a_job_started_in_time_runs(self):
        jobid = self.service.add('echo', 'x', expires=60)
        self.assertTrue(self.service.processNext())
        self.assertEqual(self.service.getResult(jobid), 'x')

    def test_an_aware_datetime_is_a_deadline(self):
        at = datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc)
        jobid = self.service.add('echo', expires=at)
        self.assertEqual(self.service.jobs[jobid].expires, at.timestamp())
        self.assertFalse(self.service.processNext(jobid=jobid,
                                                  now=at.timestamp() + 1))
        self.assertEqual(self.service.getStatus(jobid), 'cancelled')

    def test_a_retried_job_is_not_expired(self):
        from z3c.taskqueue.model.retry import RetryPolicy
        self.provide('flaky', fail).retryPolicy = RetryPolicy(
            maxAttempts=2, retryOn=(interfaces.TaskError,), backoff=0)
        jobid = self.service.add('flaky', expires=1)
        now = time.time()
        lease, ids = self.service.claimJobs('w', 60, now)
        self.service.failJob(jobid, lease, interfaces.TaskError('it broke'),
                             now=now)
        self.assertEqual(self.service.getStatus(jobid), 'queued')
        self.assertTrue(self.service.processNext(now + 100))
        self.assertEqual(self.service.jobs[jobid].attempts, 2)
        self.assertEqual(self.service.getError(jobid), 'it broke')

    def test_bad_deadlines_are_refused(self):
        for bad in (-1, float('nan'), float('inf'), 'soon', True):
            self.assertRefused('expires must be a number of seconds',
                               expires=bad)
        self.assertRefused('expires must be an aware datetime',
                           expires=datetime.datetime(2030, 1, 1))

    def test_an_expired_dependency_cancels_its_dependants(self):
        a = self.service.add('echo', expires=1)
        b = self.service.add('echo', after=[a])
        self.assertFalse(self.service.processNext(time.time() + 10))
        self.assertEqual(self.service.getStatus(b), 'cancelled')


def sleeper(service, jobid, input):
    deadline = time.monotonic() + input
    while time.monotonic() < deadline:
        time.sleep(0.01)
    return 'woke up'


def swallower(service, jobid, input):
    try:
        sleeper(service, jobid, input)
    except BaseException:
        return 'swallowed'


class TimeoutTests(ControlTestBase):

    def test_an_overrunning_job_times_out_and_its_writes_are_undone(self):
        def writeThenSleep(service, jobid, input):
            service._p_jar.root()['written'] = True
            return sleeper(service, jobid, input)
        self.provide('slow', writeThenSleep)
        jobid = self.service.add('slow', 30, timeout=0.2)
        started = time.monotonic()
        self.assertTrue(self.service.processNext())
        self.assertLess(time.monotonic() - started, 10)
        self.assertEqual(self.service.getStatus(jobid), 'error')
        self.assertEqual(self.service.getError(jobid),
                         'timed out after 0.2 s')
        self.assertNotIn('written', self.root)
        self.tm.commit()

    def test_a_task_that_swallows_the_timeout_still_times_out(self):
        self.provide('swallow', swallower)
        jobid = self.service.add('swallow', 30, timeout=0.1)
        self.service.processNext()
        self.assertEqual(self.service.getError(jobid),
                         'timed out after 0.1 s')

    def test_the_task_timeout_applies_unless_the_job_has_its_own(self):
        from z3c.taskqueue.model.task import SimpleTask
        import zope.component
        zope.component.provideUtility(
            SimpleTask(lambda seconds: sleeper(None, None, seconds),
                       timeout=0.1), interfaces.ITask, name='limited')
        short = self.service.add('limited', 30)
        longer = self.service.add('limited', 0.3, timeout=20)
        self.service.processNext(jobid=short)
        self.service.processNext(jobid=longer)
        self.assertEqual(self.service.getError(short),
                         'timed out after 0.1 s')
        self.assertEqual(self.service.getResult(longer), 'woke up')

    def test_in_a_processor_thread_the_retry_policy_applies(self):
        from z3c.taskqueue.model.retry import RetryPolicy
        self.provide('slow', sleeper).retryPolicy = RetryPolicy(
            maxAttempts=2, retryOn=(interfaces.JobTimeout,), backoff=0)
        slow = self.service.add('slow', 30, timeout=0.2)
        quick = self.service.add('echo', 'x')
        self.tm.commit()
        processor, thread = self.startProcessor()
        self.waitUntil(lambda: self.service.getStatus(slow) == 'error')
        self.assertEqual(self.service.jobs[slow].attempts, 2)
        self.assertEqual(self.service.getError(slow),
                         'timed out after 0.2 s')
        self.assertEqual(self.service.getResult(quick), 'x')
        self.assertTrue(thread.is_alive())

    def test_a_quick_job_is_not_interrupted_later(self):
        from z3c.taskqueue.model import _timelimit
        jobid = self.service.add('echo', 'x', timeout=0.05)
        self.service.processNext()
        # The watchdog ends once it has no armed alarm left: at once if
        # the job's alarm was disarmed; else when it has fired it, in
        # this thread (the JobTimeout would be raised here).
        _timelimit._watchdog.join(WAIT)
        self.assertIsNone(_timelimit._watchdog.thread)
        self.assertEqual(self.service.getResult(jobid), 'x')

    def test_bad_timeouts_are_refused(self):
        for bad in (0, -1, float('nan'), float('inf'), 8 * 24 * 3600, '1'):
            self.assertRefused('timeout must be None or a number of seconds',
                               timeout=bad)
        from z3c.taskqueue.model.task import SimpleTask
        with self.assertRaises(ValueError):
            SimpleTask(print, timeout=-1)
        with self.assertRaises(ValueError):
            SimpleTask(print, resultTTL=float('nan'))


class StuckProcessorTests(ControlTestBase):
    """A thread processor whose job will not end: a C call that no
    ``JobTimeout`` interrupts."""

    def test_stop_reports_the_job_and_no_second_processor_starts(self):
        from z3c.taskqueue.tests._support import untraced
        untraced(self)
        release = threading.Event()
        started = threading.Event()

        def stuck(service, jobid, input):
            started.set()
            release.wait()      # one C call: not interrupted
            return 'freed'
        self.provide('stuck', stuck)
        jobid = self.service.add('stuck', timeout=0.1)
        self.service.processorArguments = {'waitTime': 0.05}
        self.tm.commit()
        self.addCleanup(self.service.stopProcessing, WAIT)
        self.addCleanup(release.set)
        self.service.startProcessing()
        self.assertTrue(started.wait(WAIT))
        self.service.stopProcessing(0.2)
        self.assertTrue(self.service.isProcessing())
        warnings = [record.getMessage() for record in self.log.records
                    if 'did not stop within' in record.getMessage()]
        self.assertEqual(warnings, [
            'Processor taskqueue.tasks did not stop within 0.2 s: job %d is'
            ' still running; it stops in the background when it ends, and'
            ' no other processor of this service starts until then'
            % jobid])
        # Not even under another name.
        self.service.processorArguments = {'waitTime': 0.05,
                                           'name': 'other'}
        self.service.startProcessing()
        self.assertEqual([thread.name for thread in threading.enumerate()
                          if thread.name in ('taskqueue.tasks', 'other')],
                         ['taskqueue.tasks'])
        release.set()
        deadline = time.monotonic() + WAIT
        while self.service.isProcessing():
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.01)
        self.tm.abort()
        # It ran past its limit: the late result is a timeout.
        self.assertEqual(self.service.getError(jobid),
                         'timed out after 0.1 s')
        # Once it has stopped, a processor starts again.
        self.service.startProcessing()
        self.assertTrue(self.service.isProcessing())


class ProgressTests(ControlTestBase):

    def test_progress_is_visible_from_another_connection_while_it_runs(self):
        reported = threading.Event()
        release = threading.Event()

        def task(service, jobid, input):
            service.setProgress(jobid, 0.5, 'half way')
            reported.set()
            release.wait(WAIT)
            service.setProgress(jobid, 1.0, 'done')
            return 'ok'
        self.provide('long', task)
        jobid = self.service.add('long')
        self.tm.commit()
        self.startProcessor()
        self.addCleanup(release.set)
        self.assertTrue(reported.wait(WAIT))
        tm2, other = self.otherConnection()
        deadline = time.monotonic() + WAIT
        while other.getProgress(jobid) is None:
            self.assertLess(time.monotonic(), deadline)
            tm2.abort()
            time.sleep(0.01)
        self.assertEqual(other.getProgress(jobid), (0.5, 'half way'))
        self.assertEqual(other.getStatus(jobid), 'processing')
        release.set()
        while other.getStatus(jobid) != 'completed':
            self.assertLess(time.monotonic(), deadline)
            tm2.abort()
            time.sleep(0.01)
        # Reported within a second of the first: committed at the end.
        self.assertEqual(other.getProgress(jobid), (1.0, 'done'))

    def test_reports_are_committed_at_most_once_a_second(self):
        def chatty(service, jobid, input):
            for step in range(200):
                service.setProgress(jobid, step / 199, 'step %d' % step)
            return 'ok'
        self.provide('chatty', chatty)
        jobid = self.service.add('chatty')
        self.tm.commit()
        before = len(list(self.db.storage.iterator()))
        self.service.processNext()
        self.tm.commit()
        commits = len(list(self.db.storage.iterator())) - before
        # The first report, the last one (flushed), the job's own.
        self.assertLessEqual(commits, 3)
        self.assertEqual(self.service.getProgress(jobid),
                         (1.0, 'step 199'))

    def test_a_job_added_in_this_transaction_gets_progress_here(self):
        def task(service, jobid, input):
            service.setProgress(jobid, 0.25)
        self.provide('new', task)
        jobid = self.service.add('new')
        self.service.processNext(jobid=jobid)
        self.assertEqual(self.service.getProgress(jobid), (0.25, None))

    def test_bad_progress_is_refused(self):
        jobid = self.service.add('echo')
        for bad in (-0.1, 1.5, float('nan'), '1', None):
            with self.assertRaises(ValueError):
                self.service.setProgress(jobid, bad)
        with self.assertRaises(ValueError):
            self.service.setProgress(jobid, 0.5, 'x' * 1001)
        with self.assertRaises(ValueError):
            self.service.setProgress(jobid, 0.5, 42)
        with self.assertRaises(KeyError):
            self.service.setProgress(999, 0.5)
        with self.assertRaises(KeyError):
            self.service.getProgress(999)
        self.assertIsNone(self.service.getProgress(jobid))

    def test_clean_forgets_the_progress(self):
        def task(service, jobid, input):
            service.setProgress(jobid, 0.5)
        self.provide('p', task)
        jobid = self.service.add('p')
        self.tm.commit()
        self.service.processNext()
        self.tm.commit()
        self.assertIsNotNone(self.service.getProgress(jobid))
        self.service.clean()
        self.assertEqual(self.service._progress.size(), 0)


class ResultExpiryTests(ControlTestBase):

    def test_finished_jobs_expire_after_the_service_ttl(self):
        self.service.resultTTL = 60
        done = self.service.add('echo')
        failed = self.service.add('fail')
        waiting = self.service.add('echo', startLater=True)
        blocked = self.service.add('echo', after=[waiting])
        self.service.processNext(jobid=done)
        self.service.processNext(jobid=failed)
        now = time.time()
        self.assertEqual(self.service.expireResults(now), 0)
        self.assertEqual(self.service.expireResults(now + 61), 2)
        self.assertEqual(sorted(self.service.jobs), sorted([waiting,
                                                            blocked]))
        self.assertConsistent()

    def test_a_task_ttl_comes_first(self):
        from z3c.taskqueue.model.task import SimpleTask
        import zope.component
        zope.component.provideUtility(SimpleTask(str, resultTTL=1),
                                      interfaces.ITask, name='short')
        self.service.resultTTL = 3600
        short = self.service.add('short')
        kept = self.service.add('echo')
        self.service.processNext(jobid=short)
        self.service.processNext(jobid=kept)
        self.assertEqual(self.service.expireResults(time.time() + 10), 1)
        self.assertEqual(list(self.service.jobs), [kept])

    def test_expiry_is_bounded_per_call(self):
        self.service.resultTTL = 0
        for number in range(250):
            self.service.add('echo')
        while self.service.processNext():
            pass
        self.tm.commit()
        later = time.time() + 1
        self.assertEqual(self.service.expireResults(later), 100)
        self.assertEqual(self.service.expireResults(later, limit=30), 30)
        self.assertEqual(self.service.expireResults(later), 100)
        self.assertEqual(self.service.expireResults(later), 20)
        self.assertEqual(len(self.service.jobs), 0)
        self.tm.commit()

    def test_without_a_ttl_nothing_expires(self):
        self.service.add('echo')
        self.service.processNext()
        self.assertEqual(self.service.expireResults(time.time() + 10 ** 6),
                         0)
        self.assertEqual(len(self.service.jobs), 1)

    def test_workers_remove_expired_results_without_touching_live_jobs(self):
        self.service.resultTTL = 0.2
        ids = [self.service.add('echo', number) for number in range(20)]
        later = self.service.add('echo', startLater=True)
        self.tm.commit()
        processor, thread = self.startProcessor()
        self.waitUntil(lambda: not any(jobid in self.service.jobs
                                       for jobid in ids))
        self.assertEqual(list(self.service.jobs), [later])
        self.assertEqual(self.service.getStatus(later), 'start later')
        self.assertEqual(processor.processed, 20)
        self.assertConsistent()

    def test_a_bad_service_ttl_is_refused(self):
        for bad in (-5, float('nan'), float('inf'), '1', True):
            with self.assertRaises(ValueError) as raised:
                self.service.resultTTL = bad
            self.assertIn('resultTTL must be None or a number of seconds',
                          str(raised.exception))
        self.assertIsNone(self.service.resultTTL)


def test_suite():
    return unittest.defaultTestLoader.loadTestsFromName(__name__)
