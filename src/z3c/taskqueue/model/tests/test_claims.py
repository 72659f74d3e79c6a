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
"""Claims: whether a job waits (``hasJobsWaiting``) and taking the next
(``claimNextJob``); and the methods of ``IProcessingService`` that
workers and supervisors call, each on its own, on a real FileStorage:
``releaseJob``, ``renewLease``, ``abandonLease``, ``recoverProcess``,
``startProcessingAt``; and ``oldestQueuedAge``."""
import time
import unittest

import transaction
import zope.component
import zope.component.testing
from zope.testing.loggingsupport import InstalledHandler
from zope.testing.wait import wait

from z3c.taskqueue import interfaces
from z3c.taskqueue.model.tests._base import MINUTE
from z3c.taskqueue.model.tests._base import InDatabaseTestBase
from z3c.taskqueue.model.tests._base import RecordingTestBase
from z3c.taskqueue.model.tests._base import ServiceTestBase


WAIT = 30


class _Base(unittest.TestCase):

    def setUp(self):
        from z3c.taskqueue.model.service import TaskService
        from z3c.taskqueue.tests._support import openConnection
        from z3c.taskqueue.tests._support import openFileStorageDB
        zope.component.testing.setUp(self)
        self.addCleanup(zope.component.testing.tearDown, self)
        self.log = InstalledHandler('z3c.taskqueue')
        self.addCleanup(self.log.uninstall)
        self.ran = []
        self.register('echo')
        self.db = openFileStorageDB(self)
        self.connection, self.tm = openConnection(self, self.db)
        self.root = self.connection.root()
        self.root['tasks'] = self.service = TaskService()
        self.service.__name__ = 'tasks'
        self.tm.commit()

    def register(self, name, **kw):
        from z3c.taskqueue.model.task import SimpleTask

        def run(input):
            self.ran.append(input)
            return input
        zope.component.provideUtility(SimpleTask(run, **kw), name=name)

    def assertConsistent(self):
        from z3c.taskqueue.tests._support import assertConsistent
        assertConsistent(self, self.service)

    def claim(self, owner='w', now=1000, limit=10, lease=60, **kw):
        return self.service.claimJobs(owner, lease, now=now, limit=limit,
                                      **kw)

    def otherView(self):
        """The service as another connection sees what was committed."""
        tm = transaction.TransactionManager()
        connection = self.db.open(tm)
        self.addCleanup(connection.close)
        self.addCleanup(tm.abort)
        return connection.root()['tasks']


class HasJobsWaitingTests(ServiceTestBase):

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


class HasJobsWaitingInDatabaseTests(InDatabaseTestBase):

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


class ClaimNextJobTests(RecordingTestBase):

    def test_claimNextJob_marks_the_job_processing(self):
        service = self._makeOne()
        jobid = service.add('record')
        self.assertEqual(service.claimNextJob(0), jobid)
        self.assertEqual(service.getStatus(jobid), 'processing')
        self.assertIsNone(service.claimNextJob(0))
        self.assertEqual(self.ran, [])


class ReleaseJobTests(_Base):

    def test_a_released_job_waits_again_uncharged(self):
        jobid = self.service.add('echo', 1)
        lease, ids = self.claim(now=1000)
        self.assertEqual(ids, [jobid])
        self.assertTrue(self.service.releaseJob(jobid, lease, now=1000))
        self.tm.commit()
        job = self.service.jobs[jobid]
        self.assertEqual(self.service.getStatus(jobid), 'queued')
        self.assertEqual(job.attempts, 0)
        self.assertIsNone(job.error)
        self.assertIsNone(self.service.leaseOf(jobid))
        # Another worker takes it at once.
        other, ids = self.claim('other', now=1000)
        self.assertEqual(ids, [jobid])
        self.assertIs(self.service.leaseOf(jobid), other)
        self.assertTrue(self.service.completeJob(jobid, other, 'done'))
        self.service.retireLease(other)
        self.service.retireLease(lease)
        self.assertEqual(self.service.getResult(jobid), 'done')
        self.assertConsistent()

    def test_it_waits_until_now(self):
        jobid = self.service.add('echo', 1)
        lease, ids = self.claim(now=1000)
        self.service.releaseJob(jobid, lease, now=1500)
        self.assertEqual(self.claim(now=1499), (None, []))
        self.assertEqual(self.claim(now=1500)[1], [jobid])

    def test_the_other_jobs_of_the_lease_stay_claimed(self):
        ids = [self.service.add('echo', i) for i in range(3)]
        lease, claimed = self.claim()
        self.assertEqual(claimed, ids)
        self.service.releaseJob(ids[2], lease, now=1000)
        self.assertEqual([self.service.getStatus(i) for i in ids],
                         ['processing', 'processing', 'queued'])
        self.assertIs(self.service.leaseOf(ids[0]), lease)

    def test_a_released_delayed_job_stays_delayed(self):
        jobid = self.service.addCronJob('echo', delay=10)
        self.claim(now=1000)                     # schedules it for 1010
        lease, ids = self.claim(now=1010)
        self.assertEqual(ids, [jobid])
        self.assertTrue(self.service.releaseJob(jobid, lease, now=1010))
        self.assertEqual(self.service.getStatus(jobid), 'delayed')
        self.assertEqual(self.service.jobs[jobid].attempts, 0)
        self.assertEqual(self.claim(now=1010)[1], [jobid])

    def test_a_lease_that_no_longer_holds_the_job_changes_nothing(self):
        jobid = self.service.add('echo', 1)
        old, ids = self.claim('old', now=1000, lease=10)
        self.assertEqual(self.service.recoverExpired(now=1011), [jobid])
        new, ids = self.claim('new', now=1011)
        self.assertEqual(ids, [jobid])
        self.assertFalse(self.service.releaseJob(jobid, old, now=1012))
        self.assertIs(self.service.leaseOf(jobid), new)
        self.assertEqual(self.service.getStatus(jobid), 'processing')
        self.assertEqual(self.service.jobs[jobid].attempts, 1)


class RenewLeaseTests(_Base):

    def test_renewal_moves_the_expiry(self):
        jobid = self.service.add('echo', 1)
        lease, ids = self.claim(now=1000, lease=60)
        self.assertEqual(lease.expires, 1060)
        self.service.renewLease(lease, 60, now=1050)
        self.assertEqual(lease.expires, 1110)
        self.tm.commit()
        self.assertEqual(self.otherView().leaseOf(jobid).expires, 1110)
        # Not recovered at the old expiry; at the new one it is.
        self.assertEqual(self.service.recoverExpired(now=1061), [])
        self.assertEqual(self.service.getStatus(jobid), 'processing')
        self.assertEqual(self.service.recoverExpired(now=1111), [jobid])
        self.assertEqual(self.service.getStatus(jobid), 'queued')

    def test_a_renewal_can_shorten_the_lease(self):
        jobid = self.service.add('echo', 1)
        lease, ids = self.claim(now=1000, lease=600)
        self.service.renewLease(lease, 5, now=1000)
        self.assertEqual(self.service.recoverExpired(now=1006), [jobid])

    def test_now_defaults_to_the_clock(self):
        self.service.add('echo', 1)
        lease, ids = self.service.claimJobs('w', 60)
        before = time.time()
        self.service.renewLease(lease, 300)
        after = time.time()
        self.assertGreaterEqual(lease.expires, before + 300)
        self.assertLessEqual(lease.expires, after + 300)


class AbandonLeaseTests(_Base):

    def claimThree(self):
        """A lease of three jobs: the first ran, the second runs, the
        third has not started."""
        ids = [self.service.add('echo', i) for i in range(3)]
        lease, claimed = self.claim('host:1:thread', now=1000)
        self.assertEqual(claimed, ids)
        self.assertTrue(self.service.completeJob(ids[0], lease, 'done',
                                                 now=1001))
        self.tm.commit()
        return lease, ids

    def test_the_running_job_is_charged_and_the_others_wait_again(self):
        lease, (done, running, waiting) = self.claimThree()
        recovered = self.service.abandonLease(lease, now=1002)
        self.assertEqual(recovered, [running, waiting])
        jobs = self.service.jobs
        self.assertEqual(self.service.getStatus(done), 'completed')
        self.assertEqual(self.service.getStatus(running), 'queued')
        self.assertEqual(jobs[running].attempts, 1)
        self.assertEqual(jobs[running].error, 'the worker host:1:thread'
                         ' stopped before the job ended')
        self.assertEqual(self.service.getStatus(waiting), 'queued')
        self.assertEqual(jobs[waiting].attempts, 0)
        self.assertIsNone(jobs[waiting].error)
        # The lease is retired: no claim is left, the finished job is in
        # the status index, and both others can be claimed at once.
        self.assertEqual(self.service._claims.size(), 0)
        self.assertEqual(list(self.service._statuses.ids('completed')),
                         [done])
        self.assertEqual(self.claim('other', now=1002)[1],
                         [running, waiting])
        self.assertIn('Job %d: the worker host:1:thread stopped before the'
                      ' job ended; trying again' % running, str(self.log))

    def test_a_job_out_of_attempts_ends_in_error(self):
        jobid = self.service.add('echo', 1)
        self.service.jobs[jobid].attempts = 2    # of the default 3
        lease, ids = self.claim(now=1000)
        self.assertEqual(self.service.abandonLease(lease, now=1001), [jobid])
        self.assertEqual(self.service.getStatus(jobid), 'error')
        self.assertEqual(self.service.getError(jobid),
                         'the worker w stopped before the job ended; gave'
                         ' up after 3 attempts')
        self.assertConsistent()

    def test_a_lease_whose_jobs_all_ended_recovers_nothing(self):
        jobid = self.service.add('echo', 1)
        lease, ids = self.claim(now=1000)
        self.service.completeJob(jobid, lease, 'done', now=1001)
        self.assertEqual(self.service.abandonLease(lease, now=1002), [])
        self.assertEqual(self.service.getStatus(jobid), 'completed')
        self.assertEqual(self.service.jobs[jobid].attempts, 1)
        self.assertConsistent()


class RecoverProcessTests(_Base):
    """``recoverProcess()`` picks leases by their owner's prefix."""

    def test_only_the_leases_of_that_process_are_recovered(self):
        mine = self.service.add('echo', 1)
        other = self.service.add('echo', 2)
        longer = self.service.add('echo', 3)
        self.claim('host:7:thread.1', limit=1)
        self.claim('host:8:thread.1', limit=1)
        self.claim('host:70:thread.1', limit=1)    # not process 7
        self.tm.commit()
        recovered = self.service.recoverProcess(
            'host:7:', 'the worker process 7 ended with status -9', now=1001)
        self.assertEqual(recovered, [mine])
        self.assertEqual(self.service.getStatus(mine), 'queued')
        self.assertEqual(self.service.jobs[mine].error,
                         'the worker process 7 ended with status -9')
        self.assertEqual(self.service.jobs[mine].attempts, 1)
        for jobid in (other, longer):
            self.assertEqual(self.service.getStatus(jobid), 'processing')
            self.assertIsNotNone(self.service.leaseOf(jobid))

    def test_a_process_without_leases_recovers_nothing(self):
        jobid = self.service.add('echo', 1)
        self.claim('host:8:thread.1')
        self.assertEqual(self.service.recoverProcess('host:7:', 'gone'), [])
        self.assertEqual(self.service.getStatus(jobid), 'processing')

    def test_a_killed_job_ends_in_error_whatever_its_policy(self):
        from z3c.taskqueue.model.retry import RetryPolicy
        self.register('retried', retryPolicy=RetryPolicy(maxAttempts=5))
        jobid = self.service.add('retried', 1)
        self.claim('host:7:thread.1')
        self.service.recoverProcess('host:7:', 'killed',
                                    {jobid: 'killed after 2 s'})
        self.assertEqual(self.service.getStatus(jobid), 'error')
        self.assertEqual(self.service.getError(jobid), 'killed after 2 s')
        self.assertEqual(self.service.jobs[jobid].attempts, 1)
        self.assertConsistent()


class OldestQueuedAgeTests(_Base):

    def test_none_when_nothing_is_queued(self):
        self.assertIsNone(self.service.oldestQueuedAge(now=1000))
        self.service.add('echo', startLater=True)
        self.service.addCronJob('echo', delay=60)
        self.service.addCronJob('echo', minute=(5,))
        self.assertIsNone(self.service.oldestQueuedAge(now=1000))

    def test_the_age_of_the_oldest_at_now(self):
        before = time.time()
        first = self.service.add('echo', 1)
        after = time.time()
        second = self.service.add('echo', 2, queue='other', priority=3)
        age = self.service.oldestQueuedAge(now=after + 100)
        # Queue keys keep the time to the millisecond, rounded up.
        self.assertGreaterEqual(age, 100 - 0.001)
        self.assertLessEqual(age, 100 + after - before)
        # Without now, the clock's (a job just queued may be up to a
        # millisecond younger than nothing: its key was rounded up).
        self.assertGreaterEqual(self.service.oldestQueuedAge(), 0.0)
        self.assertLess(self.service.oldestQueuedAge(), 100)
        # Once both are claimed, none is queued.
        self.assertEqual(self.claim(now=after)[1], [second, first])
        self.assertIsNone(self.service.oldestQueuedAge(now=after + 100))

    def test_a_due_job_counts_from_its_due_time(self):
        self.service.addCronJob('echo', delay=10, queue='slow')
        self.claim(now=1000, queues=['fast'])      # schedules it for 1010
        self.assertIsNone(self.service.oldestQueuedAge(now=1005))
        self.claim(now=1010, queues=['fast'])      # queues it, in 'slow'
        self.assertEqual(self.service.countQueued(), {'slow': 1})
        self.assertEqual(self.service.oldestQueuedAge(now=1040), 30)

    def test_a_released_job_counts_from_its_release(self):
        jobid = self.service.add('echo', 1)
        lease, ids = self.claim(now=time.time())
        self.assertIsNone(self.service.oldestQueuedAge(now=5000))
        self.service.releaseJob(jobid, lease, now=2000)
        self.claim(now=2000, queues=['none'])      # queues it again
        self.assertEqual(self.service.oldestQueuedAge(now=2040), 40)


class StartProcessingAtTests(_Base):

    def setUp(self):
        super().setUp()
        from z3c.taskqueue.processing import processor
        self.addCleanup(processor.stopAll)
        self.service.processorArguments = {'waitTime': 0.05}
        self.tm.commit()

    def test_starts_a_processor_for_the_path_once(self):
        import logging
        log = InstalledHandler('z3c.taskqueue', level=logging.INFO)
        self.addCleanup(log.uninstall)
        jobid = self.service.add('echo', 'x')
        self.tm.commit()
        self.assertFalse(self.service.isProcessing())
        self.assertTrue(self.service.startProcessingAt(['tasks']))
        self.assertTrue(self.service.isProcessing())
        self.assertIn('starting service tasks', str(log))
        self.assertFalse(self.service.startProcessingAt(['tasks']))

        def ran():
            self.tm.begin()
            return self.service.getStatus(jobid) == 'completed'
        wait(ran, timeout=WAIT)
        self.assertEqual(self.ran, ['x'])
        self.service.stopProcessing(timeout=WAIT)
        self.assertFalse(self.service.isProcessing())
        # Once stopped, it starts again.
        self.assertTrue(self.service.startProcessingAt(['tasks']))
        self.assertTrue(self.service.isProcessing())

    def test_an_unstored_service_is_refused(self):
        from z3c.taskqueue.model.service import TaskService
        with self.assertRaises(ValueError) as raised:
            TaskService().startProcessingAt(['tasks'])
        self.assertEqual(str(raised.exception),
                         'the task service is not stored in a database')

    def test_it_provides_the_interface(self):
        from zope.interface.verify import verifyObject
        self.assertTrue(verifyObject(interfaces.IProcessingService,
                                     self.service))


def test_suite():
    return unittest.defaultTestLoader.loadTestsFromName(__name__)
