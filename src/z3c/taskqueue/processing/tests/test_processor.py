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
"""Processors on a real database: exactly once, nothing lost, never dying."""
import threading
import unittest

import zope.component.testing
import zope.interface
from zope.testing.loggingsupport import InstalledHandler
from zope.testing.wait import wait

from z3c.taskqueue import interfaces
from z3c.taskqueue.tests._support import openConnection
from z3c.taskqueue.tests._support import openFileStorageDB


WAIT = 30   # seconds: only a broken processor takes that long


@zope.interface.implementer(interfaces.ITask)
class Count:
    """Counts its runs of each job in the database, next to the service."""

    inputSchema = outputSchema = None

    def __init__(self, retryPolicy=None, action=None):
        self.retryPolicy = retryPolicy
        self.action = action

    def __call__(self, service, jobid, input):
        done = service._p_jar.root()['done']
        done[jobid] = done.get(jobid, 0) + 1
        if self.action is not None:
            return self.action(service, jobid, input)
        return input


class ProcessorTestBase(unittest.TestCase):

    def setUp(self):
        from BTrees.OOBTree import OOBTree
        from z3c.taskqueue.model.service import TaskService
        zope.component.testing.setUp(self)
        self.addCleanup(zope.component.testing.tearDown, self)
        self.db = openFileStorageDB(self)
        self.connection, self.tm = openConnection(self, self.db)
        root = self.connection.root()
        root['tasks'] = self.service = TaskService()
        self.service.__name__ = 'tasks'
        root['done'] = OOBTree()
        self.tm.commit()

    def provideTask(self, name='count', **kw):
        task = Count(**kw)
        zope.component.provideUtility(task, name=name)
        return task

    def start(self, factory=None, **kw):
        from z3c.taskqueue.processing import processor
        factory = factory or processor.SimpleProcessor
        kw.setdefault('waitTime', 0.05)
        worker = factory(self.db, ['tasks'], **kw)
        thread = threading.Thread(target=worker, name=worker.name)
        thread.start()

        def stop():
            worker.stop()
            thread.join(WAIT)
            self.assertFalse(thread.is_alive(), 'the processor did not stop')
        self.addCleanup(stop)
        return worker

    def refresh(self):
        self.tm.begin()

    def waitUntilFinished(self, ids):
        unfinished = (interfaces.QUEUED, interfaces.PROCESSING)

        def finished():
            self.refresh()
            return all(self.service.getStatus(jobid) not in unfinished
                       for jobid in ids)
        wait(finished, timeout=WAIT)

    def done(self):
        self.refresh()
        return dict(self.connection.root()['done'])


class MultiProcessorTests(ProcessorTestBase):

    def test_a_thousand_jobs_in_five_threads_run_exactly_once(self):
        from z3c.taskqueue.model.retry import RetryPolicy
        from z3c.taskqueue.processing.processor import MultiProcessor
        from z3c.taskqueue.tests._support import assertConsistent
        # The jobs' own writes to one BTree conflict now and then: allow
        # enough retries that none can end a job.
        self.provideTask(retryPolicy=RetryPolicy(conflictRetries=50))
        ids = [self.service.add('count', n) for n in range(1000)]
        self.tm.commit()
        worker = self.start(MultiProcessor, maxThreads=5)
        self.waitUntilFinished(ids)
        statuses = {self.service.getStatus(jobid) for jobid in ids}
        self.assertEqual(statuses, {interfaces.COMPLETED})
        self.assertEqual(self.done(), {jobid: 1 for jobid in ids})
        self.assertEqual([self.service.getResult(jobid) for jobid in ids],
                         list(range(1000)))
        self.assertEqual(worker.processed, 1000)
        assertConsistent(self, self.service)

    def test_each_thread_has_its_own_connection(self):
        from z3c.taskqueue.processing.processor import MultiProcessor
        seen = []
        meeting = threading.Barrier(3, timeout=WAIT)

        def meet(service, jobid, input):
            seen.append(service._p_jar)
            meeting.wait()
        self.provideTask(action=meet)
        ids = [self.service.add('count') for n in range(3)]
        self.tm.commit()
        self.start(MultiProcessor, maxThreads=3)
        self.waitUntilFinished(ids)
        self.assertEqual(len(set(map(id, seen))), 3)
        self.assertNotIn(self.connection, seen)


class SimpleProcessorTests(ProcessorTestBase):

    def test_jobs_run_in_the_order_they_were_queued(self):
        order = []
        self.provideTask(action=lambda s, jobid, input: order.append(input))
        ids = [self.service.add('count', n) for n in range(20)]
        self.tm.commit()
        self.start()
        self.waitUntilFinished(ids)
        self.assertEqual(order, list(range(20)))

    def test_a_job_committed_in_this_process_wakes_an_idle_processor(self):
        # waitTime is far longer than the test waits: only the wake-up
        # after the commit can have started the job.
        self.provideTask()
        worker = self.start(waitTime=3600)
        wait(lambda: worker.idlePolls >= 1, timeout=WAIT)
        jobid = self.service.add('count')
        self.tm.commit()
        self.waitUntilFinished([jobid])
        self.assertEqual(self.service.getStatus(jobid), interfaces.COMPLETED)

    def test_an_idle_processor_writes_nothing(self):
        # Nothing but its heartbeat, which is off here (see test_workers).
        self.provideTask()
        before = self.db.lastTransaction()
        worker = self.start(waitTime=0.01, heartbeat=0)
        wait(lambda: worker.idlePolls >= 30, timeout=WAIT)
        self.assertEqual(self.db.lastTransaction(), before)

    def test_a_conflict_in_the_task_is_retried_not_recorded(self):
        from ZODB.POSException import ConflictError
        failures = [ConflictError(), ConflictError()]

        def conflicting(service, jobid, input):
            if failures:
                raise failures.pop()
            return 'done'
        self.provideTask(action=conflicting)
        jobid = self.service.add('count')
        self.tm.commit()
        self.start()
        self.waitUntilFinished([jobid])
        job = self.service.jobs[jobid]
        self.assertEqual((job.status, job.output, job.error),
                         (interfaces.COMPLETED, 'done', None))
        self.assertEqual(job.attempts, 1)
        # The two aborted runs left nothing behind.
        self.assertEqual(self.done(), {jobid: 1})

    def test_conflicts_give_the_job_back_uncharged(self):
        from ZODB.POSException import ConflictError
        from z3c.taskqueue.model.retry import RetryPolicy
        runs = []

        def conflicting(service, jobid, input):
            # Conflicts on more tries than the policy retries at once.
            runs.append(jobid)
            if len(runs) <= 7:
                raise ConflictError()
            return 'done'
        self.provideTask(action=conflicting,
                         retryPolicy=RetryPolicy(conflictRetries=2))
        log = InstalledHandler('z3c.taskqueue')
        self.addCleanup(log.uninstall)
        jobid = self.service.add('count')
        self.tm.commit()
        self.start()
        self.waitUntilFinished([jobid])
        job = self.service.jobs[jobid]
        self.assertEqual((job.status, job.output, job.error),
                         (interfaces.COMPLETED, 'done', None))
        self.assertEqual(job.attempts, 1)
        self.assertEqual(len(runs), 8)
        # Given back twice (after 3 and 6 conflicts), logged once.
        given = [r.getMessage() for r in log.records
                 if 'given back uncharged' in r.getMessage()]
        self.assertEqual(len(given), 1, given)
        self.assertIn('its commit conflicted 3 times', given[0])
        self.assertIsNone(job._conflictingSince)

    def test_conflicts_on_every_try_for_the_limit_fail_the_job(self):
        from ZODB.POSException import ConflictError
        from z3c.taskqueue.model.retry import RetryPolicy

        def conflicting(service, jobid, input):
            raise ConflictError()
        self.provideTask(action=conflicting,
                         retryPolicy=RetryPolicy(conflictRetries=2))
        jobid = self.service.add('count')
        self.tm.commit()
        from z3c.taskqueue.processing import processor
        limit = processor.SimpleProcessor.conflictLimit
        processor.SimpleProcessor.conflictLimit = 1.0
        self.addCleanup(setattr, processor.SimpleProcessor,
                        'conflictLimit', limit)
        self.start()
        self.waitUntilFinished([jobid])
        job = self.service.jobs[jobid]
        self.assertEqual(job.status, interfaces.ERROR)
        # At least the limit; more on a busy machine.
        self.assertRegex(job.error, r'^gave up after its commit conflicted'
                         r' on every try for [1-9]\d* s \(\d+ conflicts')
        self.assertIn('ConflictError', job.error)
        self.assertEqual(job.attempts, 1)
        self.assertEqual(self.done(), {})

    def test_the_thread_survives_errors_and_goes_on(self):
        def failing(service, jobid, input):
            if input == 'fail':
                raise ZeroDivisionError('division by zero')
            return input
        self.provideTask(action=failing)
        first = self.service.add('count', 'fail')
        second = self.service.add('count', 'fine')
        self.tm.commit()
        self.start()
        self.waitUntilFinished([first, second])
        self.assertEqual(self.service.getStatus(first), interfaces.ERROR)
        self.assertEqual(self.service.getError(first),
                         'ZeroDivisionError: division by zero')
        self.assertIn('ZeroDivisionError',
                      self.service.jobs[first].traceback)
        self.assertEqual(self.service.getStatus(second),
                         interfaces.COMPLETED)
        # The failed run's own write was rolled back.
        self.assertEqual(self.done(), {second: 1})

    def test_a_job_whose_task_is_gone_fails_naming_the_task(self):
        self.provideTask()
        jobid = self.service.add('count')
        self.tm.commit()
        zope.component.getGlobalSiteManager().unregisterUtility(
            provided=interfaces.ITask, name='count')
        self.start()
        self.waitUntilFinished([jobid])
        self.assertEqual(self.service.getStatus(jobid), interfaces.ERROR)
        self.assertIn("'count'", self.service.getError(jobid))

    def test_an_output_the_database_cannot_store_fails_the_job(self):
        self.provideTask(action=lambda s, jobid, input: threading.Lock())
        jobid = self.service.add('count')
        self.tm.commit()
        self.start()
        self.waitUntilFinished([jobid])
        self.assertEqual(self.service.getStatus(jobid), interfaces.ERROR)
        self.assertIn('lock', self.service.getError(jobid))


class LeaseTests(ProcessorTestBase):

    def test_a_lost_workers_job_is_recovered_after_its_lease(self):
        self.provideTask()
        jobid = self.service.add('count')
        self.tm.commit()
        # A worker claims the job and dies before running it.
        lease, ids = self.service.claimJobs('dead-worker', leaseTime=0.2)
        self.tm.commit()
        self.assertEqual(ids, [jobid])
        self.start(leaseTime=0.4)
        self.waitUntilFinished([jobid])
        job = self.service.jobs[jobid]
        self.assertEqual(job.status, interfaces.COMPLETED)
        self.assertEqual(job.attempts, 2)
        self.assertEqual(self.done(), {jobid: 1})

    def test_a_worker_that_lost_its_lease_discards_its_result(self):
        from z3c.taskqueue.processing._worker import Worker
        from z3c.taskqueue.processing.processor import SimpleProcessor
        self.provideTask()
        jobid = self.service.add('count')
        self.tm.commit()
        worker = Worker(SimpleProcessor(self.db, ['tasks']))
        worker.lock.acquire()
        self.addCleanup(worker.lock.release)
        worker.open()
        self.addCleanup(worker.connection.close)
        worker.tm.begin()
        service = worker.service()
        lease, ids = service.claimJobs(worker.owner, 60)
        worker.tm.commit()
        # Meanwhile the lease was declared lost and the job taken over.
        self.refresh()
        self.assertEqual(self.service.recoverExpired(now=2 * 10 ** 9), ids)
        other, taken = self.service.claimJobs('other', 60, now=2 * 10 ** 9)
        self.tm.commit()
        self.assertEqual(taken, [jobid])
        worker.run(jobid, lease)
        worker.tm.abort()
        self.assertEqual(self.done(), {})
        self.assertEqual(self.service.getStatus(jobid),
                         interfaces.PROCESSING)
        self.assertIs(self.service.leaseOf(jobid), other)

    def test_stopping_releases_claimed_jobs_that_did_not_start(self):
        from z3c.taskqueue.processing._worker import Worker
        from z3c.taskqueue.processing.processor import SimpleProcessor
        from z3c.taskqueue.tests._support import assertConsistent
        self.provideTask()
        ids = [self.service.add('count') for n in range(3)]
        self.tm.commit()
        processor = SimpleProcessor(self.db, ['tasks'])
        worker = Worker(processor)
        worker.lock.acquire()
        self.addCleanup(worker.lock.release)
        worker.open()
        self.addCleanup(worker.connection.close)
        worker.tm.begin()
        lease, claimed = worker.service().claimJobs(worker.owner, 60,
                                                    limit=3)
        worker.tm.commit()
        self.assertEqual(claimed, ids)
        processor.stopping.set()
        worker.runBatch(lease, claimed)
        self.refresh()
        self.assertEqual([self.service.getStatus(jobid) for jobid in ids],
                         [interfaces.QUEUED] * 3)
        self.assertEqual([self.service.jobs[jobid].attempts
                          for jobid in ids], [0, 0, 0])
        self.assertEqual(self.done(), {})
        assertConsistent(self, self.service)

    def test_long_jobs_have_their_lease_renewed(self):
        release = threading.Event()
        leases = []

        def long(service, jobid, input):
            leases.append(service.leaseOf(jobid).expires)
            release.wait(WAIT)
        self.provideTask(action=long)
        jobid = self.service.add('count')
        self.tm.commit()
        self.start(leaseTime=0.3)

        def renewed():
            self.refresh()
            lease = self.service.leaseOf(jobid)
            return lease is not None and leases and \
                lease.expires > leases[0]
        wait(renewed, timeout=WAIT)
        release.set()
        self.waitUntilFinished([jobid])
        job = self.service.jobs[jobid]
        self.assertEqual((job.status, job.attempts),
                         (interfaces.COMPLETED, 1))


class CronProcessingTests(ProcessorTestBase):

    def test_each_due_instant_runs_once_across_threads(self):
        from z3c.taskqueue.processing.processor import MultiProcessor
        instants = []
        lock = threading.Lock()

        def record(service, jobid, input):
            with lock:
                instants.append(service.jobs[jobid].scheduledFor)
        self.provideTask(action=record)
        clock = [0.0]
        jobid = self.service.addCronJob('count', None, minute=())
        self.tm.commit()
        self.start(MultiProcessor, maxThreads=4, clock=lambda: clock[0])

        def scheduled():
            self.refresh()
            return self.service.jobs[jobid].scheduledFor is not None
        wait(scheduled, timeout=WAIT)
        for minute in range(1, 11):
            clock[0] = minute * 60 + 1
            wait(lambda: len(instants) >= minute, timeout=WAIT)
        self.assertEqual([instant.timestamp() for instant in instants],
                         [minute * 60.0 for minute in range(1, 11)])
        # The last run appended its instant before its commit.
        wait(lambda: self.done() == {jobid: 10}, timeout=WAIT)


class StartProcessingTests(ProcessorTestBase):

    def test_a_service_not_stored_cannot_start(self):
        from z3c.taskqueue.model.service import TaskService
        with self.assertRaises(ValueError) as raised:
            TaskService().startProcessing()
        self.assertIn('not stored in a database', str(raised.exception))

    def test_start_is_idempotent_and_stop_ends_the_thread(self):
        self.service.processorArguments = {'waitTime': 0.05}
        self.tm.commit()
        self.service.startProcessing()
        self.addCleanup(self.service.stopProcessing)
        self.service.startProcessing()
        names = [t.name for t in threading.enumerate()
                 if t.name == 'taskqueue.tasks']
        self.assertEqual(names, ['taskqueue.tasks'])
        self.assertTrue(self.service.isProcessing())
        self.service.stopProcessing()
        self.assertFalse(self.service.isProcessing())
        self.assertFalse(self.service.isProcessing())
        self.assertNotIn('taskqueue.tasks',
                         [t.name for t in threading.enumerate()])


class ContractTests(unittest.TestCase):

    def test_processors_provide_IProcessor(self):
        from zope.interface.verify import verifyObject
        from z3c.taskqueue.processing.processor import MultiProcessor
        from z3c.taskqueue.processing.processor import SimpleProcessor
        for factory in (SimpleProcessor, MultiProcessor):
            processor = factory(None, ['tasks'])
            self.assertTrue(verifyObject(interfaces.IProcessor, processor))
            self.assertFalse(processor.running)
            self.assertEqual(processor.name, 'taskqueue.tasks')

    def test_lease_retry_policy_and_events_provide_their_interfaces(self):
        from zope.interface.verify import verifyObject
        from z3c.taskqueue import events
        from z3c.taskqueue.model.job import Job
        from z3c.taskqueue.model.lease import Lease
        from z3c.taskqueue.model.retry import RetryPolicy
        self.assertTrue(verifyObject(interfaces.ILease, Lease('me', 1.0)))
        self.assertTrue(verifyObject(interfaces.IRetryPolicy, RetryPolicy()))
        job = Job(1, 'echo', None)
        for event, iface in (
                (events.JobAdded, interfaces.IJobAddedEvent),
                (events.JobStarted, interfaces.IJobStartedEvent),
                (events.JobCompleted, interfaces.IJobCompletedEvent),
                (events.JobFailed, interfaces.IJobFailedEvent),
                (events.JobCancelled, interfaces.IJobCancelledEvent)):
            self.assertTrue(verifyObject(iface, event(job, 'service')))

    def test_a_stored_service_provides_IProcessingService(self):
        from zope.interface.verify import verifyObject
        from z3c.taskqueue.model.service import TaskService
        self.assertTrue(verifyObject(interfaces.IProcessingService,
                                     TaskService()))

    def test_retry_policy_refuses_nonsense(self):
        from z3c.taskqueue.model.retry import RetryPolicy
        with self.assertRaises(ValueError):
            RetryPolicy(maxAttempts=0)
        with self.assertRaises(ValueError):
            RetryPolicy(conflictRetries=-1)

    def test_jittered_backoff_stays_within_its_bounds(self):
        from z3c.taskqueue.model.retry import jitteredBackoff
        delays = [jitteredBackoff(attempt, 0.5, 4.0)
                  for attempt in range(10) for i in range(20)]
        self.assertTrue(all(0 <= delay <= 4.0 for delay in delays))
        self.assertGreater(len(set(delays)), 100)   # jittered, not fixed


class ConnectionPoolTests(ProcessorTestBase):
    """A processor's connections do not crowd the application's pool."""

    def test_a_processor_makes_room_for_its_connections(self):
        import logging
        from zope.testing.loggingsupport import InstalledHandler
        from z3c.taskqueue.processing.processor import MultiProcessor
        self.provideTask()
        log = InstalledHandler('ZODB.DB', level=logging.INFO)
        self.addCleanup(log.uninstall)
        self.db.setPoolSize(3)
        application = [self.db.open() for i in range(2)]   # and ours
        self.addCleanup(lambda: [c.close() for c in application])
        jobid = self.service.add('count')
        self.tm.commit()
        processor = self.start(MultiProcessor, maxThreads=4)
        self.waitUntilFinished([jobid])
        self.assertEqual(self.db.getPoolSize(), 3 + 4 + 3)
        processor.stop()
        wait(lambda: not processor.running, timeout=WAIT)
        self.assertEqual(self.db.getPoolSize(), 3)
        self.assertEqual(
            [record.getMessage() for record in log.records
             if 'open connections with a pool_size' in record.getMessage()],
            [])
