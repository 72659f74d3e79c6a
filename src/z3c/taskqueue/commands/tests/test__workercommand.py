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
"""``--exit-when-done``'s count of the jobs left (``Progress``)."""
import io
import unittest

import transaction
import zope.component
import zope.component.testing


class Clock:
    """A monotonic clock that a test moves; a count of the jobs moves it
    by ``countCost`` seconds, as a count of many jobs takes time."""

    def __init__(self):
        self.now = 1000.0
        self.countCost = 0.0

    def __call__(self):
        return self.now


class ProgressTests(unittest.TestCase):

    def setUp(self):
        from z3c.taskqueue.model.service import TaskService
        from z3c.taskqueue.model.task import SimpleTask
        from z3c.taskqueue.tests._support import openFileStorageDB
        zope.component.testing.setUp(self)
        self.addCleanup(zope.component.testing.tearDown, self)
        zope.component.provideUtility(SimpleTask(lambda input: input),
                                      name='echo')
        self.db = openFileStorageDB(self)
        connection = self.db.open()
        self.service = connection.root()['tasks'] = TaskService()
        self.service.add('echo', 1)
        transaction.commit()
        connection.close()
        self.clock = Clock()

    def makeProgress(self):
        from unittest import mock
        from z3c.taskqueue.commands._workercommand import Progress
        from z3c.taskqueue.model.service import TaskService
        count = TaskService.countJobs
        self.counts = 0

        def countJobs(service):
            # The real count, which costs the clock's time.
            self.counts += 1
            self.clock.now += self.clock.countCost
            return count(service)
        patcher = mock.patch.object(TaskService, 'countJobs', countJobs)
        patcher.start()
        self.addCleanup(patcher.stop)
        out = io.StringIO()
        progress = Progress(self.db, ('tasks',), out=out, clock=self.clock)
        self.addCleanup(progress.connection.close)
        self.counts = 0     # not the first count, Progress's own
        return progress, out

    def test_a_cheap_count_is_made_at_every_look(self):
        progress, out = self.makeProgress()
        self.assertFalse(progress.show())
        self.assertFalse(progress.show())
        self.assertEqual(self.counts, 2)
        self.assertEqual(out.getvalue(), '0 jobs done, 1 to go\n')

    def test_a_costly_count_waits_ten_times_as_long(self):
        progress, out = self.makeProgress()
        self.clock.countCost = 0.2
        progress.show()
        self.clock.now += 1.99      # after the count ended
        progress.show()
        self.assertEqual(self.counts, 1)
        self.clock.now += 0.02
        progress.show()
        self.assertEqual(self.counts, 2)

    def test_the_pause_is_at_most_max_pause(self):
        progress, out = self.makeProgress()
        self.clock.countCost = 60.0
        progress.show()
        self.clock.now += progress.MAX_PAUSE - 0.01
        progress.show()
        self.assertEqual(self.counts, 1)
        self.clock.now += 0.01
        progress.show()
        self.assertEqual(self.counts, 2)

    def test_it_is_done_once_the_last_job_finished(self):
        progress, out = self.makeProgress()
        self.assertFalse(progress.show())
        connection = self.db.open()
        service = connection.root()['tasks']
        self.assertTrue(service.processNext())
        transaction.commit()
        connection.close()
        self.assertTrue(progress.show())
        self.assertEqual(out.getvalue(), '0 jobs done, 1 to go\n'
                                         '1 jobs done, 0 to go\n')
