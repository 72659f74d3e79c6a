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
"""Migration of a database of layout version 1.

``tests/fixtures/layout1.fs`` (the package's tests, not this folder's)
was made by ``tests/fixtures/make_layout1.py`` with the code of layout
version 1: a job in every status, one of them claimed by a worker whose
lease has not expired, one waiting to be retried.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import transaction
import ZODB
import ZODB.FileStorage
import zope.component.testing

from z3c.taskqueue import tests
from z3c.taskqueue.model.tests._base import InDatabaseTestBase


FIXTURE = os.path.join(os.path.dirname(tests.__file__), 'fixtures',
                       'layout1.fs')


class MigrationTests(unittest.TestCase):

    def setUp(self):
        from z3c.taskqueue.model.task import SimpleTask
        from zope.testing.loggingsupport import InstalledHandler
        zope.component.testing.setUp(self)
        self.addCleanup(zope.component.testing.tearDown)
        self.log = InstalledHandler('z3c.taskqueue')
        self.addCleanup(self.log.uninstall)
        for name in ('echo', 'fail'):
            zope.component.provideUtility(SimpleTask(lambda input: input),
                                          name=name)
        directory = tempfile.mkdtemp(prefix='z3c.taskqueue-')
        self.addCleanup(shutil.rmtree, directory)
        self.path = os.path.join(directory, 'Data.fs')
        shutil.copy(FIXTURE, self.path)
        self.open()

    def open(self):
        self.db = ZODB.DB(ZODB.FileStorage.FileStorage(self.path))
        self.tm = transaction.TransactionManager()
        self.connection = self.db.open(self.tm)
        self.root = self.connection.root()
        self.service = self.root['service']

    def close(self):
        self.tm.abort()
        self.connection.close()
        self.db.close()

    def tearDown(self):
        self.close()

    def test_the_fixture_is_of_layout_1(self):
        self.service._p_activate()
        state = self.service.__dict__
        self.assertNotIn('_layout', state)
        self.assertIn('_byStatus', state)
        self.assertEqual(self.service._layout, 1)

    def test_first_use_migrates_without_losing_a_job(self):
        from z3c.taskqueue.tests._support import indexProblems
        statuses = dict(self.root['statuses'])
        self.assertEqual({jobid: self.service.getStatus(jobid)
                          for jobid in statuses}, statuses)
        self.assertEqual(self.service._layout, 2)
        self.tm.commit()
        self.close()
        self.open()
        self.assertEqual(self.service._layout, 2)
        self.service._p_activate()
        self.assertNotIn('_byStatus', self.service.__dict__)
        self.assertEqual({jobid: self.service.getStatus(jobid)
                          for jobid in statuses}, statuses)
        self.assertEqual(indexProblems(self.service, True), [])
        self.assertEqual(
            self.service.countJobs(),
            {'queued': 6, 'processing': 1, 'cancelled': 1, 'error': 1,
             'completed': 1, 'delayed': 1, 'cronjob': 2,
             'start later': 1, 'blocked': 0})
        self.assertTrue(any('Migrated task service' in record.getMessage()
                            for record in self.log.records))

    def test_queued_jobs_keep_their_order(self):
        ids = self.root['ids']
        lease, claimed = self.service.claimJobs('new', 60, limit=5)
        self.assertEqual(claimed, ids['queued'])
        self.assertEqual(self.service.getStatus(ids['queued'][0]),
                         'processing')

    def test_every_job_still_runs_or_ends(self):
        ids = self.root['ids']
        ran = []
        while self.service.processNext(2_000_000_100):
            ran.append(1)
        # Five queued, the retried one, the due cron and delayed jobs.
        self.assertEqual(self.service.getStatus(ids['retrying']),
                         'completed')
        self.assertEqual([self.service.getStatus(jobid)
                          for jobid in ids['queued']], ['completed'] * 5)
        self.assertEqual(self.service.getResult(ids['queued'][0]), 'q0')
        self.assertTrue(self.service.startJob(ids['startlater']))
        self.assertTrue(self.service.processNext())
        self.assertEqual(self.service.getResult(ids['startlater']), 'later')
        self.assertEqual(self.service.getResult(ids['completed']), 'DONE')

    def test_the_claimed_job_is_recovered_when_its_lease_expires(self):
        ids = self.root['ids']
        jobid = ids['processing']
        lease = self.service.leaseOf(jobid)
        self.assertEqual(lease.owner, 'lab')
        self.assertEqual(self.service.recoverExpired(lease.expires - 1), [])
        self.assertEqual(self.service.recoverExpired(lease.expires + 1),
                         [jobid])
        self.assertEqual(self.service.getStatus(jobid), 'queued')
        self.assertEqual(self.service.jobs[jobid].attempts, 1)
        self.assertTrue(self.service.processNext(lease.expires + 2, jobid))
        self.assertEqual(self.service.getResult(jobid), 'running')

    def test_clean_removes_the_finished_jobs(self):
        ids = self.root['ids']
        self.service.clean()
        for name in ('completed', 'error', 'cancelled'):
            self.assertNotIn(ids[name], self.service.jobs)
        self.assertEqual(len(self.service.jobs), 11)

    def test_two_connections_migrate_once(self):
        from ZODB.POSException import ConflictError
        otherTM = transaction.TransactionManager()
        other = self.db.open(otherTM)
        try:
            self.service.countJobs()
            other.root()['service'].countJobs()
            self.tm.commit()
            with self.assertRaises(ConflictError):
                otherTM.commit()
            otherTM.abort()
            self.assertEqual(other.root()['service']._layout, 2)
        finally:
            otherTM.abort()
            other.close()

    def migrationsLogged(self):
        return [record.getMessage() for record in self.log.records
                if record.getMessage().startswith('Migrat')]

    def test_only_the_migration_that_commits_is_logged(self):
        from ZODB.POSException import ConflictError
        otherTM = transaction.TransactionManager()
        other = self.db.open(otherTM)
        self.addCleanup(other.close)
        self.addCleanup(otherTM.abort)
        self.service.countJobs()
        other.root()['service'].countJobs()
        # Nothing is said before a commit.
        self.assertEqual(self.migrationsLogged(), [])
        self.tm.commit()
        with self.assertRaises(ConflictError):
            otherTM.commit()
        otherTM.abort()
        self.assertEqual(self.migrationsLogged(), [
            'Migrated task service service from layout version 1 to 2;'
            ' jobs moved to the new indexes: 1'])

    def test_a_migration_rolled_back_is_not_logged(self):
        self.service.countJobs()
        self.tm.abort()
        self.assertEqual(self.migrationsLogged(), [])
        self.assertEqual(self.service._layout, 1)

    def test_the_log_names_the_path_of_a_service_with_one(self):
        self.root['tasks'] = self.service
        self.service.__name__ = 'tasks'
        self.service.countJobs()
        self.tm.commit()
        self.assertEqual(self.migrationsLogged(), [
            'Migrated task service tasks from layout version 1 to 2;'
            ' jobs moved to the new indexes: 1'])

    def test_a_processor_migrates_and_runs_every_job(self):
        import threading
        from zope.testing.wait import wait
        from z3c.taskqueue.processing.processor import SimpleProcessor
        ids = self.root['ids']
        processor = SimpleProcessor(self.db, ['service'], waitTime=0.05,
                                    leaseTime=60)
        thread = threading.Thread(target=processor)
        thread.start()
        try:
            # (The retried job waits until 2033, as the fixture said.)
            queued = ids['queued']

            def done():
                self.tm.begin()
                return all(self.service.getStatus(jobid) == 'completed'
                           for jobid in queued)
            wait(done, timeout=30)
        finally:
            processor.stop()
            thread.join(30)
        self.tm.begin()
        self.service._p_activate()
        self.assertEqual(self.service.__dict__.get('_layout'), 2)
        self.assertEqual([self.service.getResult(jobid)
                          for jobid in ids['queued']],
                         ['q0', 'q1', 'q2', 'q3', 'q4'])
        # Still claimed by the lost worker of the fixture, until its lease
        # expires (in 2033).
        self.assertEqual(self.service.getStatus(ids['processing']),
                         'processing')

    def reopen(self):
        self.tm.commit()
        self.close()
        self.open()

    def oldState(self):
        """Return the state of the service, as layout version 1 left it."""
        self.service._p_activate()
        return self.service.__dict__

    def queueTheOldWay(self, jobid, seconds):
        """Move the queued job ``jobid`` from the schedule, where the
        fixture's queued jobs wait for another attempt, into a queue of
        layout version 1, where its ``add()`` put jobs: keyed by the time
        ``seconds`` they were queued."""
        from z3c.taskqueue.model import _index
        state = self.oldState()
        job = self.service.jobs[jobid]
        del state['_schedule'][job._scheduleKey]
        job._scheduleKey = None
        job._queueKey = _index.timeKey(seconds, 0)
        queues = state['_queues']
        queues[jobid % len(queues)][job._queueKey] = jobid

    def breakRecordOf(self, jobid):
        """Make the record of job ``jobid`` stop loading, as a class
        that changed since layout version 1 kept an input in the job's
        own record; reopen the database."""
        from z3c.taskqueue.tests import _fragile
        self.addCleanup(_fragile.restore)
        self.service.jobs[jobid].oldInput = _fragile.Fragile('old')
        self.tm.commit()
        _fragile.breakFragile()
        self.reopen()

    def test_jobs_of_the_old_queues_are_claimed_in_their_old_order(self):
        from z3c.taskqueue.tests._support import indexProblems
        queued = self.root['ids']['queued']
        # Queued the other way round from their ids.
        for seconds, jobid in enumerate(reversed(queued)):
            self.queueTheOldWay(jobid, 1000 + seconds)
        # (The due cron and delayed jobs are claimed first.)
        lease, claimed = self.service.claimJobs('new', 60, limit=10)
        self.assertEqual([jobid for jobid in claimed if jobid in queued],
                         list(reversed(queued)))
        self.assertEqual(indexProblems(self.service, True), [])
        self.tm.commit()
        self.assertEqual(self.migrationsLogged(), [
            'Migrated task service service from layout version 1 to 2;'
            ' jobs moved to the new indexes: 6'])

    def test_an_old_queue_entry_whose_job_is_gone_is_dropped(self):
        from z3c.taskqueue.model import _index
        from z3c.taskqueue.tests._support import indexProblems
        first = self.root['ids']['queued'][0]
        self.queueTheOldWay(first, 1000)
        self.oldState()['_queues'][0][_index.timeKey(999, 0)] = 12345
        self.assertEqual(self.service.countJobs()['queued'], 6)
        self.assertEqual(list(self.service._queues.ids()), [first])
        self.assertEqual(indexProblems(self.service, True), [])

    def test_an_old_queued_job_whose_record_does_not_load_ends_in_error(self):
        # As the service does with any index entry of such a job: else it
        # would be in no index, never counted, run or cleaned.
        from z3c.taskqueue.tests._support import indexProblems
        broken, other = self.root['ids']['queued'][:2]
        self.queueTheOldWay(broken, 1000)
        self.queueTheOldWay(other, 1001)
        self.breakRecordOf(broken)
        counts = self.service.countJobs()
        self.assertEqual((counts['queued'], counts['error']), (5, 2))
        self.assertEqual(self.service.getStatus(broken), 'error')
        self.assertIn('the record of job %r cannot be loaded' % broken,
                      self.service.getError(broken))
        self.assertEqual(indexProblems(self.service, True), [])
        self.assertEqual(list(self.service._queues.ids()), [other])

    def test_a_claimed_job_whose_record_does_not_load_ends_in_error(self):
        from z3c.taskqueue.tests._support import indexProblems
        jobid = self.root['ids']['processing']
        self.breakRecordOf(jobid)
        self.assertEqual(self.service.countJobs()['processing'], 0)
        self.assertEqual(self.service.getStatus(jobid), 'error')
        self.assertIn('the record of job %r cannot be loaded' % jobid,
                      self.service.getError(jobid))
        self.assertEqual(indexProblems(self.service), [])

    def test_a_processing_entry_whose_job_is_gone_is_dropped(self):
        from z3c.taskqueue.model import _index
        from z3c.taskqueue.tests._support import indexProblems
        sets = self.oldState()['_byStatus']['processing']
        _index.addId(sets[12345 % len(sets)], 12345)
        self.assertEqual(self.service.countJobs()['processing'], 1)
        self.assertEqual(indexProblems(self.service, True), [])

    def test_a_job_claimed_without_a_lease_stays_processing(self):
        # The old API's claimNextJob() claims a job without a lease.
        from z3c.taskqueue.tests._support import indexProblems
        jobid = self.root['ids']['processing']
        job = self.service.jobs[jobid]
        job._p_activate()
        del job.__dict__['lease']
        job._p_changed = True
        self.assertEqual(self.service.getStatus(jobid), 'processing')
        self.assertIsNone(self.service.leaseOf(jobid))
        self.assertEqual(self.service.countJobs()['processing'], 1)
        self.assertEqual(self.service.recoverExpired(2 ** 32), [])
        self.assertEqual(indexProblems(self.service, True), [])

    def storeWhereNoPathFindsIt(self):
        """Move the service from the database root into a container."""
        import persistent.mapping
        self.root['folder'] = persistent.mapping.PersistentMapping(
            tasks=self.root.pop('service'))
        self.service = self.root['folder']['tasks']

    def migrationLogged(self):
        """Migrate in a commit; return what the log says of it."""
        self.service.countJobs()
        self.tm.commit()
        logged, = self.migrationsLogged()
        return logged

    def test_the_log_names_a_service_outside_the_root_by_its_name(self):
        self.storeWhereNoPathFindsIt()
        self.service.__name__ = 'tasks'
        self.assertTrue(self.migrationLogged().startswith(
            'Migrated task service tasks from layout version 1 to 2;'))

    def test_the_log_names_a_service_with_no_name_by_its_oid(self):
        self.storeWhereNoPathFindsIt()
        oid = int.from_bytes(self.service._p_oid, 'big')
        self.assertTrue(self.migrationLogged().startswith(
            'Migrated task service of oid 0x%x from layout version 1'
            % oid))

    def test_a_service_that_is_not_stored_is_logged_at_once(self):
        # A copy, say: there is no commit to wait for.
        from z3c.taskqueue.model._migration import migrate
        from z3c.taskqueue.model.service import TaskService
        copy = TaskService.__new__(TaskService)
        copy.__setstate__(self.service.__getstate__())
        self.assertEqual(migrate(copy), 1)
        self.assertEqual(copy._layout, 2)
        self.assertEqual(self.migrationsLogged(), [
            'Migrated task service with no name from layout version 1 to'
            ' 2; jobs moved to the new indexes: 1'])

    def migrateCommand(self):
        """Run ``z3c-taskqueue migrate`` on the closed database."""
        self.close()
        try:
            return subprocess.run(
                [sys.executable, '-m', 'z3c.taskqueue.commands.command',
                 'migrate', 'file://' + self.path, '--service', 'service'],
                capture_output=True, text=True, timeout=120)
        finally:
            self.open()

    def test_the_migrate_command(self):
        result = self.migrateCommand()
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn('layout version 1 to 2', result.stdout)
        self.service._p_activate()
        self.assertEqual(self.service.__dict__.get('_layout'), 2)
        again = self.migrateCommand()
        self.assertEqual(again.returncode, 0, again.stderr)
        self.assertIn('already', again.stdout)


class CurrentLayoutTests(InDatabaseTestBase):
    """``migrate()`` on a service of the current layout, or of one it
    does not know."""

    def test_a_current_service_is_left_as_it_is(self):
        from z3c.taskqueue.model._migration import migrate
        self.service.add('echo')
        self._assertWritesNothing(
            lambda: self.assertEqual(migrate(self.service), 0))
        self.assertEqual(self.service._layout, 2)

    def test_an_unknown_layout_is_refused_and_nothing_changes(self):
        # A database written by a later version of the package.
        jobid = self.service.add('echo')
        self.service._layout = 3
        with self.assertRaises(ValueError) as raised:
            self.service.countJobs()
        self.assertIn('has the unknown layout version 3',
                      str(raised.exception))
        self.assertEqual(self.service._layout, 3)
        self.assertEqual(self.service.jobs[jobid].status, 'queued')


def test_suite():
    return unittest.defaultTestLoader.loadTestsFromName(__name__)
