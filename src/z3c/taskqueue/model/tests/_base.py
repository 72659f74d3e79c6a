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
"""Base classes and helpers for the tests of the task service."""
import datetime
import random
import unittest
from unittest import mock


MINUTE = 60
HOUR = 60 * MINUTE


def echo(input):
    return input


def utcdatetime(timestamp):
    return datetime.datetime.fromtimestamp(timestamp, datetime.timezone.utc)


def frozenClock(now):
    """Stand-in for the service's ``time`` module: a clock that stands."""
    clock = mock.Mock()
    clock.time.return_value = now
    return clock


class ServiceTestBase(unittest.TestCase):
    """An unstored ``TaskService`` and the tasks its tests register."""

    def setUp(self):
        import zope.component.testing
        from zope.testing.loggingsupport import InstalledHandler
        zope.component.testing.setUp(self)
        self.addCleanup(random.setstate, random.getstate())
        # Keeps the service's log out of the test output, and shows it to
        # the tests that look.
        self.log = InstalledHandler('z3c.taskqueue')
        self.addCleanup(self.log.uninstall)

    def tearDown(self):
        import transaction
        import zope.component.testing
        # An unstored service uses the thread's transaction manager.
        transaction.abort()
        zope.component.testing.tearDown(self)

    def _getTargetClass(self):
        from z3c.taskqueue.model.service import TaskService
        return TaskService

    def _makeOne(self):
        return self._getTargetClass()()

    def _registerTask(self, name='echo', func=echo):
        import zope.component

        from z3c.taskqueue.model.task import SimpleTask
        task = SimpleTask(func)
        zope.component.provideUtility(task, name=name)
        return task

    def _unregisterTask(self, name, task):
        import zope.component

        from z3c.taskqueue.interfaces import ITask
        self.assertTrue(zope.component.getGlobalSiteManager()
                        .unregisterUtility(task, ITask, name))

    def _registerRecorder(self, name='record'):
        """Register a task that records the ids of the jobs it runs."""
        import zope.component
        import zope.interface

        from z3c.taskqueue.interfaces import ITask
        ran = []

        @zope.interface.implementer(ITask)
        class Recorder:
            inputSchema = outputSchema = retryPolicy = None

            def __call__(self, service, jobid, input):
                ran.append(jobid)
                return input

        zope.component.provideUtility(Recorder(), name=name)
        return ran

    def _registerFailing(self, name='fail', error=None):
        def fail(input):
            raise (error if error is not None else ValueError('bad input'))
        return self._registerTask(name, fail)

    def _registerFlaky(self, name, *errors):
        """Register a task whose runs raise ``errors``, one a run, and
        then return ``'ok'``."""
        outcomes = list(errors)

        def flaky(input):
            if outcomes:
                raise outcomes.pop(0)
            return 'ok'
        return self._registerTask(name, flaky)

    def assertConsistent(self, service):
        from z3c.taskqueue.tests._support import assertConsistent
        assertConsistent(self, service)

    def assertNothingStored(self, service):
        self.assertEqual(len(service.jobs), 0)
        self.assertConsistent(service)
        from z3c.taskqueue.model._index import size
        from z3c.taskqueue.tests._support import indexTrees
        for name, tree in indexTrees(service).items():
            self.assertEqual(size(tree), 0, name)


class RecordingTestBase(ServiceTestBase):
    """A service with the task ``record``: ``self.ran`` lists the ids of
    the jobs it ran."""

    def _makeOne(self):
        self.ran = self._registerRecorder('record')
        return super()._makeOne()


class InDatabaseTestBase(ServiceTestBase):
    """The service stored in a real database."""

    def setUp(self):
        super().setUp()
        from z3c.taskqueue.tests._support import openConnection
        from z3c.taskqueue.tests._support import openFileStorageDB
        self._registerTask('echo')
        self.db = openFileStorageDB(self)
        self.conn, self.tm = openConnection(self, self.db)
        self.root = self.conn.root()
        self.root['service'] = self._makeOne()
        self.tm.commit()
        self.service = self.root['service']

    def _reopen(self):
        """Return the root as a new connection sees it."""
        from z3c.taskqueue.tests._support import openConnection
        conn, tm = openConnection(self, self.db)
        return conn.root()

    def _assertWritesNothing(self, call):
        self.tm.commit()
        self.tm.begin()
        last = self.db.lastTransaction()
        call()
        self.assertEqual(self.conn._registered_objects, [])
        self.tm.commit()
        self.assertEqual(self.db.lastTransaction(), last)
