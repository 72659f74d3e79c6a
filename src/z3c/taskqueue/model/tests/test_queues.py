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
"""Named queues and priorities, on a real FileStorage."""
import unittest


class _Base(unittest.TestCase):

    def setUp(self):
        import zope.component.testing
        from zope.testing.loggingsupport import InstalledHandler

        from z3c.taskqueue.model.service import TaskService
        from z3c.taskqueue.tests._support import openConnection
        from z3c.taskqueue.tests._support import openFileStorageDB
        zope.component.testing.setUp(self)
        self.addCleanup(zope.component.testing.tearDown)
        self.log = InstalledHandler('z3c.taskqueue')
        self.addCleanup(self.log.uninstall)
        self.ran = []
        self.register('echo')
        self.db = openFileStorageDB(self)
        self.connection, self.tm = openConnection(self, self.db)
        root = self.connection.root()
        root['tasks'] = self.service = TaskService()
        self.tm.commit()

    def register(self, name, **kw):
        import zope.component

        from z3c.taskqueue.model.task import SimpleTask

        def run(input):
            self.ran.append(input)
            return input
        zope.component.provideUtility(SimpleTask(run, **kw), name=name)

    def assertConsistent(self, processing_allowed=False):
        from z3c.taskqueue.tests._support import assertConsistent
        assertConsistent(self, self.service, processing_allowed)

    def claim(self, limit=100, **kw):
        lease, ids = self.service.claimJobs('me', 60, limit=limit, **kw)
        return ids


class QueueTests(_Base):

    def test_a_job_goes_to_the_default_queue(self):
        jobid = self.service.add('echo', 1)
        self.assertEqual(self.service.jobs[jobid].queue, 'default')
        self.assertEqual(self.service.countQueued(), {'default': 1})

    def test_add_names_the_queue(self):
        jobid = self.service.add('echo', 1, queue='reports')
        self.assertEqual(self.service.jobs[jobid].queue, 'reports')
        self.assertEqual(self.service.countQueued(), {'reports': 1})
        self.assertConsistent()

    def test_the_task_names_the_default(self):
        self.register('report', queue='reports')
        jobid = self.service.add('report')
        other = self.service.add('report', queue='urgent')
        self.assertEqual(self.service.jobs[jobid].queue, 'reports')
        self.assertEqual(self.service.jobs[other].queue, 'urgent')

    def test_a_worker_claims_only_the_queues_it_serves(self):
        mine = [self.service.add('echo', i, queue='mine') for i in range(3)]
        theirs = [self.service.add('echo', i, queue='theirs')
                  for i in range(3)]
        self.assertEqual(self.claim(queues=['mine']), mine)
        self.assertEqual(self.claim(queues=['mine']), [])
        self.assertFalse(self.service.hasJobsWaiting(queues=['mine']))
        self.assertTrue(self.service.hasJobsWaiting(queues=['theirs']))
        self.assertEqual(self.claim(queues=['other', 'theirs']), theirs)

    def test_all_queues_by_default(self):
        ids = [self.service.add('echo', i, queue=name)
               for i, name in enumerate(['a', 'b', 'a', 'c'])]
        self.assertEqual(sorted(self.claim()), sorted(ids))

    def test_a_due_cron_job_waits_in_its_queue(self):
        jobid = self.service.addCronJob('echo', delay=10, queue='slow')
        self.service.claimJobs('me', 60, now=1000, queues=['slow'])
        self.assertEqual(self.claim(queues=['fast'], now=1010), [])
        self.assertEqual(self.service.countQueued(), {'slow': 1})
        self.assertEqual(self.claim(queues=['slow'], now=1010), [jobid])

    def test_bad_queue_names_are_refused_and_nothing_is_stored(self):
        for name in ('', ' x', 'x\n', 7, 'x' * 101, b'x'):
            with self.assertRaises(ValueError) as raised:
                self.service.add('echo', queue=name)
            self.assertIn('queue name', str(raised.exception))
            with self.assertRaises(ValueError):
                self.service.addCronJob('echo', delay=1, queue=name)
        self.assertEqual(len(self.service.jobs), 0)

    def test_a_processor_refuses_bad_queues(self):
        from z3c.taskqueue.processing.processor import SimpleProcessor
        for queues in ('reports', [], [''], 5):
            with self.assertRaises(ValueError) as raised:
                SimpleProcessor(self.db, ['tasks'], queues=queues)
            self.assertIn('queue', str(raised.exception))


class PriorityTests(_Base):

    def test_higher_priority_first_fifo_within(self):
        low = [self.service.add('echo', i, priority=-5) for i in range(3)]
        normal = [self.service.add('echo', i) for i in range(3)]
        high = [self.service.add('echo', i, priority=9) for i in range(3)]
        self.assertEqual(self.claim(), high + normal + low)

    def test_an_urgent_job_overtakes_a_backlog(self):
        backlog = [self.service.add('echo', i, priority=-1)
                   for i in range(200)]
        self.assertEqual(self.claim(limit=5), backlog[:5])
        urgent = self.service.add('echo', 'now', priority=1)
        self.assertEqual(self.claim(limit=1), [urgent])

    def test_priorities_span_queues(self):
        a = self.service.add('echo', 1, queue='a')
        b = self.service.add('echo', 2, queue='b', priority=3)
        self.assertEqual(self.claim(limit=1), [b])
        self.assertEqual(self.claim(limit=1), [a])

    def test_a_worker_starting_at_a_shard_keeps_the_priority(self):
        low = [self.service.add('echo', i) for i in range(20)]
        high = self.service.add('echo', 'x', priority=2)
        self.tm.commit()
        for start in range(8):
            self.assertEqual(self.service.claimNextJob(queue=start), high)
            self.service.cancel(high)   # processing: left as it is
            self.tm.abort()
        # The aborts left every job waiting; with the urgent one gone,
        # the others come in their order.
        self.assertEqual(self.service.getStatus(high), 'queued')
        self.assertEqual({self.service.getStatus(j) for j in low},
                         {'queued'})
        self.service.cancel(high)
        self.assertEqual(self.claim(limit=20), low)

    def test_a_cron_job_gets_its_priority_when_due(self):
        plain = [self.service.add('echo', i) for i in range(3)]
        cron = self.service.addCronJob('echo', delay=5, priority=4)
        # The first claim schedules it, for 1005.
        self.assertEqual(self.claim(limit=1, now=1000), plain[:1])
        self.assertEqual(self.claim(limit=1, now=1004), plain[1:2])
        self.assertEqual(self.claim(limit=1, now=1005), [cron])
        self.assertEqual(self.claim(now=1005), plain[2:])

    def test_bad_priorities_are_refused(self):
        for priority in (11, -11, 1.5, '1', True, None):
            with self.assertRaises(ValueError) as raised:
                self.service.add('echo', priority=priority)
            self.assertIn('priority', str(raised.exception))
        self.assertEqual(len(self.service.jobs), 0)

    def test_oldest_queued_age_looks_at_every_priority(self):
        self.service.add('echo', 1, priority=-3)
        self.service.add('echo', 2, priority=5)
        import time
        age = self.service.oldestQueuedAge(time.time() + 100)
        self.assertGreater(age, 99)
        self.assertLess(age, 200)


class ClaimWritesTests(_Base):
    """A claim writes no job; the outcome's commit writes the job alone."""

    def written(self):
        """Return the classes of the objects the next commit writes."""
        return sorted(type(obj).__name__
                      for obj in self.connection._registered_objects)

    def test_claim_and_complete(self):
        ids = [self.service.add('echo', i) for i in range(20)]
        self.tm.commit()
        lease, claimed = self.service.claimJobs('me', 60, limit=20)
        self.assertEqual(claimed, ids)
        self.assertNotIn('Job', self.written())
        self.tm.commit()
        self.assertEqual(self.service.getStatus(ids[0]), 'processing')
        self.assertIs(self.service.leaseOf(ids[0]), lease)
        self.assertTrue(self.service.completeJob(ids[0], lease, None))
        self.assertEqual(self.written(), ['Job'])
        self.tm.commit()
        self.assertEqual(self.service.getStatus(ids[0]), 'completed')
        self.assertIsNone(self.service.leaseOf(ids[0]))
        counts = self.service.countJobs()
        self.assertEqual((counts['completed'], counts['processing']),
                         (1, 19))

    def test_retirement_indexes_the_finished_jobs(self):
        ids = [self.service.add('echo', i) for i in range(5)]
        lease, claimed = self.service.claimJobs('me', 60, limit=5)
        for jobid in claimed:
            self.service.completeJob(jobid, lease, 'done')
        self.tm.commit()
        self.assertEqual(self.service._claims.size(), 5)
        self.assertConsistent()
        self.service.claimJobs('me', 60, retire=[lease])
        self.assertEqual(self.service._claims.size(), 0)
        self.assertEqual(sorted(self.service._statuses.ids('completed')),
                         sorted(ids))
        self.assertConsistent()

    def test_clean_retires_settled_leases_first(self):
        ids = [self.service.add('echo', i) for i in range(3)]
        lease, claimed = self.service.claimJobs('me', 60, limit=3)
        for jobid in claimed[:2]:
            self.service.completeJob(jobid, lease, 'done')
        self.service.clean()
        # The lease still holds a job: nothing of it is retired yet.
        self.assertEqual(len(self.service.jobs), 3)
        self.service.completeJob(ids[2], lease, 'done')
        self.service.clean()
        self.assertEqual(len(self.service.jobs), 0)
        self.assertConsistent()

    def test_a_retired_lease_leaves_a_job_claimed_again_alone(self):
        jobid = self.service.add('echo', 1)
        first, ids = self.service.claimJobs('one', 60, now=1000)
        self.service.releaseJob(jobid, first, now=1000)
        second, ids = self.service.claimJobs('two', 60, now=1001)
        self.assertEqual(ids, [jobid])
        self.service.retireLease(first)
        self.assertIs(self.service.leaseOf(jobid), second)
        self.assertTrue(self.service.completeJob(jobid, second, 'x'))
        self.service.retireLease(second)
        self.assertEqual(self.service.getStatus(jobid), 'completed')
        self.assertConsistent()


def test_suite():
    return unittest.defaultTestLoader.loadTestsFromName(__name__)
