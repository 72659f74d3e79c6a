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
"""Shared commits of batchable jobs, by real processors on FileStorage."""
import os
import shutil
import tempfile
import unittest

import transaction

from z3c.taskqueue import interfaces
from z3c.taskqueue.processing.tests.test_processor import Count
from z3c.taskqueue.processing.tests.test_processor import ProcessorTestBase


class SharedCount(Count):
    batchable = True


class SharedCommitTests(ProcessorTestBase):

    def provideShared(self, name='shared', **kw):
        import zope.component
        task = SharedCount(**kw)
        zope.component.provideUtility(task, name=name)
        return task

    def transactions(self):
        return len(self.db.undoLog(0, 10 ** 6))

    def assertConsistent(self):
        from z3c.taskqueue.tests._support import assertConsistent
        self.refresh()
        assertConsistent(self, self.service)

    def test_batchable_jobs_share_commits(self):
        self.provideShared()
        ids = [self.service.add('shared', n) for n in range(300)]
        self.tm.commit()
        before = self.transactions()
        worker = self.start(batchSize=100)
        self.waitUntilFinished(ids)
        self.assertEqual(self.done(), dict.fromkeys(ids, 1))
        self.assertEqual([self.service.getStatus(i) for i in ids],
                         ['completed'] * 300)
        self.assertEqual([self.service.getResult(i) for i in ids],
                         list(range(300)))
        self.assertEqual({self.service.jobs[i].attempts for i in ids}, {1})
        # 300 jobs in 100-job commits, not 300 (nor 303) commits.
        self.assertLessEqual(self.transactions() - before, 10)
        self.assertEqual(worker.processed, 300)
        self.assertConsistent()

    def test_a_failing_job_rolls_back_alone(self):
        def action(service, jobid, input):
            if input == 5:
                raise ValueError('five is bad')
            return input
        self.provideShared(action=action)
        ids = [self.service.add('shared', n) for n in range(10)]
        self.tm.commit()
        worker = self.start()
        self.waitUntilFinished(ids)
        done = self.done()
        # The failing job's write to 'done' was rolled back; every other
        # job's was committed once.
        self.assertEqual(done, {i: 1 for i in ids if i != ids[5]})
        self.assertEqual(self.service.getStatus(ids[5]), 'error')
        self.assertEqual(self.service.getError(ids[5]),
                         'ValueError: five is bad')
        self.assertIn('five is bad', self.service.jobs[ids[5]].traceback)
        self.assertEqual(self.service.jobs[ids[5]].attempts, 1)
        self.assertEqual(
            [self.service.getStatus(i) for i in ids if i != ids[5]],
            ['completed'] * 9)
        self.assertEqual((worker.processed, worker.failed), (9, 1))
        self.assertConsistent()

    def test_a_conflict_runs_the_batch_again_uncharged(self):
        from persistent.mapping import PersistentMapping
        self.connection.root()['shared'] = PersistentMapping()
        self.tm.commit()
        other, otherTM = self._otherConnection()
        conflicted = []

        def action(service, jobid, input):
            service._p_jar.root()['shared'][jobid] = input
            if not conflicted:
                # Another transaction changes the same object meanwhile:
                # the batch's commit conflicts.
                conflicted.append(jobid)
                otherTM.begin()
                other.root()['shared']['meanwhile'] = 1
                otherTM.commit()
            return input
        self.provideShared(action=action)
        ids = [self.service.add('shared', n) for n in range(5)]
        self.tm.commit()
        worker = self.start()
        self.waitUntilFinished(ids)
        self.assertGreaterEqual(worker.conflicts, 1)
        self.assertEqual({self.service.jobs[i].attempts for i in ids}, {1})
        self.assertEqual(self.done(), dict.fromkeys(ids, 1))
        shared = dict(self.connection.root()['shared'])
        self.assertEqual(shared.pop('meanwhile'), 1)
        self.assertEqual(shared, {i: n for n, i in enumerate(ids)})
        self.assertConsistent()

    def test_conflicts_again_and_again_never_fail_a_job(self):
        # As when several workers keep taking the same jobs: after a few
        # conflicting shared commits the runner claims the job with a
        # lease instead; no conflict is a job's failure.
        from persistent.mapping import PersistentMapping
        from z3c.taskqueue.processing._shared import CONTENDED
        self.connection.root()['shared'] = PersistentMapping()
        self.tm.commit()
        other, otherTM = self._otherConnection()
        runs = []

        def action(service, jobid, input):
            service._p_jar.root()['shared'][jobid] = input
            runs.append(jobid)
            if len(runs) <= CONTENDED + 4:
                otherTM.begin()
                other.root()['shared']['meanwhile'] = len(runs)
                otherTM.commit()
            return input
        self.provideShared(action=action)
        jobid = self.service.add('shared', 1)
        self.tm.commit()
        worker = self.start()
        self.waitUntilFinished([jobid])
        self.assertEqual(self.service.getStatus(jobid), 'completed')
        self.assertEqual(self.service.jobs[jobid].attempts, 1)
        # More than the default conflictRetries (5) in all.
        self.assertEqual(worker.conflicts, CONTENDED + 4)
        self.assertEqual(worker.failed, 0)
        self.assertEqual(self.done(), {jobid: 1})
        self.assertConsistent()

    def test_a_job_whose_changes_the_storage_refuses_fails_alone(self):
        # The storage refuses one record, and only that one, again and
        # again, while it commits everything else: that job fails, after
        # a few tries, and the others of its batch are committed.
        import ZODB
        import ZODB.FileStorage
        from persistent.mapping import PersistentMapping
        from z3c.taskqueue.processing import _committing
        from z3c.taskqueue.tests._support import openConnection

        class Refusing(ZODB.FileStorage.FileStorage):
            def store(self, oid, serial, data, version, transaction):
                if b'refuse me' in data:
                    raise OSError('the storage refuses this record')
                return super().store(oid, serial, data, version,
                                     transaction)
        from BTrees.OOBTree import OOBTree
        from z3c.taskqueue.model.service import TaskService
        directory = tempfile.mkdtemp(prefix='z3c.taskqueue-')
        self.addCleanup(shutil.rmtree, directory)
        self.db = ZODB.DB(Refusing(os.path.join(directory, 'Data.fs')))
        self.addCleanup(self.db.close)
        self.connection, self.tm = openConnection(self, self.db)
        root = self.connection.root()
        root['tasks'] = self.service = TaskService()
        self.service.__name__ = 'tasks'
        root['done'] = OOBTree()
        self.tm.commit()

        def action(service, jobid, input):
            root = service._p_jar.root()
            root['done'][jobid] = PersistentMapping(
                word='refuse me' if input == 2 else 'fine')
            return input
        self.provideShared(action=action)
        ids = [self.service.add('shared', n) for n in range(5)]
        self.tm.commit()
        self.patch(_committing, 'UNAVAILABLE_WAIT', 0.01)
        worker = self.start()
        worker.trouble.maximum = 0.05
        self.waitUntilFinished(ids)
        statuses = [self.service.getStatus(i) for i in ids]
        self.assertEqual(statuses, ['completed', 'completed', 'error',
                                    'completed', 'completed'])
        self.assertIn('cannot be committed', self.service.getError(ids[2]))
        self.assertIn('refuses', self.service.getError(ids[2]))
        self.assertEqual(sorted(self.done()), sorted(ids[:2] + ids[3:]))
        self.assertConsistent()

    def patch(self, obj, name, value):
        old = getattr(obj, name)
        setattr(obj, name, value)
        self.addCleanup(setattr, obj, name, old)

    def _otherConnection(self):
        from z3c.taskqueue.tests._support import openConnection
        return openConnection(self, self.db)

    def test_a_task_that_commits_fails_alone_and_loses_nothing(self):
        def action(service, jobid, input):
            if input == 2:
                transaction.get().commit()
            return input
        self.provideShared(action=action)
        ids = [self.service.add('shared', n) for n in range(6)]
        self.tm.commit()
        self.start()
        self.waitUntilFinished(ids)
        statuses = [self.service.getStatus(i) for i in ids]
        self.assertEqual(statuses.count('error'), 1)
        self.assertEqual(statuses.count('completed'), 5)
        culprit = ids[statuses.index('error')]
        self.assertEqual(self.service.jobs[culprit].input, 2)
        self.assertIn('batchable', self.service.getError(culprit))
        self.assertConsistent()

    def test_a_task_that_aborts_fails_alone(self):
        def action(service, jobid, input):
            if input == 1:
                transaction.get().abort()
            return input
        self.provideShared(action=action)
        ids = [self.service.add('shared', n) for n in range(4)]
        self.tm.commit()
        self.start()
        self.waitUntilFinished(ids)
        statuses = [self.service.getStatus(i) for i in ids]
        self.assertEqual(statuses, ['completed', 'error', 'completed',
                                    'completed'])
        done = self.done()
        self.assertEqual(set(done.values()), {1})
        self.assertNotIn(ids[1], done)
        self.assertConsistent()

    def test_batchable_and_other_jobs_mixed(self):
        self.provideTask()
        self.provideShared()
        ids = [self.service.add('shared' if n % 3 else 'count', n)
               for n in range(60)]
        self.tm.commit()
        self.start(batchSize=10)
        self.waitUntilFinished(ids)
        self.assertEqual(self.done(), dict.fromkeys(ids, 1))
        self.assertEqual({self.service.getStatus(i) for i in ids},
                         {'completed'})
        self.assertConsistent()

    def test_in_a_multiprocessor(self):
        from z3c.taskqueue.model.retry import RetryPolicy
        from z3c.taskqueue.processing.processor import MultiProcessor
        self.provideShared(retryPolicy=RetryPolicy(conflictRetries=50))
        ids = [self.service.add('shared', n) for n in range(500)]
        self.tm.commit()
        self.start(MultiProcessor, maxThreads=3, spread=True)
        self.waitUntilFinished(ids)
        self.assertEqual(self.done(), dict.fromkeys(ids, 1))
        self.assertEqual({self.service.jobs[i].attempts for i in ids}, {1})
        self.assertConsistent()

    def test_a_worker_of_other_queues_leaves_them(self):
        self.provideShared()
        mine = [self.service.add('shared', n, queue='mine')
                for n in range(5)]
        theirs = [self.service.add('shared', n, queue='theirs')
                  for n in range(5)]
        self.tm.commit()
        self.start(queues=['mine'])
        self.waitUntilFinished(mine)
        self.assertEqual(set(self.done()), set(mine))
        self.assertEqual({self.service.getStatus(i) for i in theirs},
                         {interfaces.QUEUED})

    def test_processNext_runs_a_batchable_job_alone(self):
        self.provideShared()
        jobid = self.service.add('shared', 7)
        self.assertTrue(self.service.processNext())
        self.assertEqual(self.service.getResult(jobid), 7)


def test_suite():
    return unittest.defaultTestLoader.loadTestsFromName(__name__)
