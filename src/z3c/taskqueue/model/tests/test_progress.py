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
"""Progress reports on a real FileStorage: what is committed, when, and
what happens to a report that cannot be committed."""
from unittest import mock

from z3c.taskqueue.model.tests._base import InDatabaseTestBase
from z3c.taskqueue.model.tests._base import ServiceTestBase


def interval(test, seconds):
    """Commit a job's progress at most every ``seconds`` during ``test``.
    """
    from z3c.taskqueue.model import progress
    patcher = mock.patch.object(progress, 'INTERVAL', seconds)
    patcher.start()
    test.addCleanup(patcher.stop)


def warnings(test):
    return [record.getMessage() for record in test.log.records
            if record.levelname == 'WARNING']


class ProgressTestBase(InDatabaseTestBase):

    def setUp(self):
        super().setUp()
        self.jobid = self.service.add('echo')
        self.tm.commit()

    def seen(self, jobid=None):
        """Return the progress as a new connection sees it."""
        return self._reopen()['service'].getProgress(jobid or self.jobid)


class ProgressTests(ProgressTestBase):

    def test_the_repr_shows_the_percentage_and_the_message(self):
        from z3c.taskqueue.model.progress import Progress
        self.assertEqual(repr(Progress(0.5, 'half way', 0)),
                         "<Progress 50% 'half way'>")

    def test_an_unstored_service_keeps_the_progress_itself(self):
        service = self._makeOne()
        jobid = service.add('echo')
        service.setProgress(jobid, 0.25, 'a quarter')
        self.assertEqual(service.getProgress(jobid), (0.25, 'a quarter'))

    def test_a_report_of_the_stored_progress_writes_nothing(self):
        interval(self, 0)
        self.service.setProgress(self.jobid, 0.5, 'half way')
        last = self.db.lastTransaction()
        self.service.setProgress(self.jobid, 0.5, 'half way')
        self.assertEqual(self.db.lastTransaction(), last)
        self.assertEqual(self.seen(), (0.5, 'half way'))

    def test_only_so_many_jobs_wait_out_the_interval(self):
        # Jobs run outside a worker are never flushed: the times of the
        # last commits of a bounded number of them are kept.
        from z3c.taskqueue.model import progress
        interval(self, 3600)
        ids = [self.service.add('echo') for i in range(3)]
        self.tm.commit()
        with mock.patch.object(progress, '_REMEMBERED', 2):
            for jobid in ids:
                self.service.setProgress(jobid, 0.1)
            for jobid in (ids[0], ids[2]):
                self.service.setProgress(jobid, 0.9)
        # The first was forgotten: committed at once.
        self.assertEqual(self.seen(ids[0]), (0.9, None))
        self.assertEqual(self.seen(ids[2]), (0.1, None))

    def test_a_report_committed_by_another_thread_meanwhile_is_not_again(self):
        # A task's thread reports while the job ends: the flush at the
        # end commits the report before the thread does.
        from z3c.taskqueue.model import progress
        interval(self, 0)
        self.service.setProgress(self.jobid, 0.5)
        last = self.db.lastTransaction()
        key = (id(self.db), self.service._p_oid, self.jobid)
        progress._commit(self.db, self.service._p_oid, self.jobid, key, None)
        self.assertEqual(self.db.lastTransaction(), last)
        self.assertEqual(warnings(self), [])

    def test_the_last_report_of_a_job_removed_meanwhile_is_dropped(self):
        from z3c.taskqueue.model import progress
        interval(self, 3600)
        self.service.setProgress(self.jobid, 0.1)
        self.service.setProgress(self.jobid, 0.9)       # not committed yet
        self.tm.begin()     # sees the first report
        self.service.cancel(self.jobid)
        self.service.clean()
        self.tm.commit()
        progress.flush(self.db, self.service._p_oid, self.jobid)
        self.assertEqual(
            self._reopen()['service']._progressRecords().size(), 0)
        self.assertEqual(warnings(self), [])


class ConflictTests(ProgressTestBase):
    """Another transaction changes a job's progress record while a
    report commits (the record is the job's alone: in practice, a
    second thread of its task)."""

    def setUp(self):
        super().setUp()
        interval(self, 0)
        self.service.setProgress(self.jobid, 0.5, 'before')

    def competeTimes(self, times):
        """Let the next ``times`` reports find the record changed by
        another transaction when they commit."""
        from z3c.taskqueue.model.progress import ProgressRecords
        original = ProgressRecords.set
        left = [times]

        def set(records, jobid, *values):
            if left[0]:
                left[0] -= 1
                self.tm.begin()
                self.service._progress.get(jobid).message = 'other'
                self.tm.commit()
            return original(records, jobid, *values)
        patcher = mock.patch.object(ProgressRecords, 'set', set)
        patcher.start()
        self.addCleanup(patcher.stop)

    def test_a_report_that_conflicts_is_committed_again(self):
        self.competeTimes(1)
        self.service.setProgress(self.jobid, 0.75, 'mine')
        self.assertEqual(self.seen(), (0.75, 'mine'))
        self.assertEqual(warnings(self), [])

    def test_a_report_that_keeps_conflicting_is_dropped_saying_so(self):
        self.competeTimes(3)
        self.service.setProgress(self.jobid, 0.75, 'mine')
        self.assertEqual(self.seen(), (0.5, 'other'))
        self.assertEqual(warnings(self), [
            'Job %r: could not commit its progress after 3 conflicts;'
            ' dropped' % self.jobid])


class FullDiskTests(ServiceTestBase):
    """The database is on a small file system (a real tmpfs), and the
    disk fills up while a job reports its progress."""

    def setUp(self):
        import os
        import ZODB
        import ZODB.FileStorage
        from z3c.taskqueue.tests._support import mountSmallDisk
        from z3c.taskqueue.tests._support import openConnection
        super().setUp()
        self._registerTask('echo')
        self.disk = mountSmallDisk(self)
        self.db = ZODB.DB(ZODB.FileStorage.FileStorage(
            os.path.join(self.disk, 'Data.fs')))
        self.addCleanup(self.db.close)
        connection, self.tm = openConnection(self, self.db)
        connection.root()['service'] = self.service = self._makeOne()
        self.jobid = self.service.add('echo')
        self.tm.commit()
        interval(self, 0)

    def test_a_report_that_cannot_be_written_is_dropped_saying_so(self):
        import os
        from z3c.taskqueue.tests._support import fillDisk
        filler = fillDisk(self.disk)
        # The last page of the file may have room for a few.
        for step in range(10):
            self.service.setProgress(self.jobid, step / 10, 'x' * 999)
        self.assertEqual(set(warnings(self)), {
            'Job %r: could not commit its progress: [Errno 28] No space'
            ' left on device' % self.jobid})
        os.remove(filler)
        self.service.setProgress(self.jobid, 0.75)
        self.tm.begin()
        self.assertEqual(self.service.getProgress(self.jobid), (0.75, None))
