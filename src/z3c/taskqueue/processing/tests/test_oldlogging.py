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
"""The ``z3c.taskqueue`` logger says what the old package said, at every
level: the old processor doctest, run with the old tests' handler (which
records every level), and the details that go to a logger of their own.
"""
import doctest
import logging
import unittest

import zope.component.testing

from z3c.taskqueue.tests import _doctests


def setUpEveryLevel(test):
    """The old tests' setup: ``InstalledHandler('z3c.taskqueue')``, which
    records every level."""
    from zope.testing.loggingsupport import InstalledHandler
    _doctests.setUpLegacy(test)
    test.globs['log_info'].uninstall()
    test.globs['log_info'] = InstalledHandler('z3c.taskqueue')


class DetailLoggerTests(unittest.TestCase):
    """Jobs run through processors: the ``z3c.taskqueue`` logger hears
    only what the old package said; the details go to ``z3c_taskqueue``.
    """

    def setUp(self):
        from zope.testing.loggingsupport import InstalledHandler
        from z3c.taskqueue.model.service import TaskService
        from z3c.taskqueue.model.task import SimpleTask
        from z3c.taskqueue.tests._support import openConnection
        from z3c.taskqueue.tests._support import openFileStorageDB
        zope.component.testing.setUp(self)
        self.addCleanup(zope.component.testing.tearDown, self)
        zope.component.provideUtility(SimpleTask(lambda input: input),
                                      name='echo')
        self.old = InstalledHandler('z3c.taskqueue')
        self.addCleanup(self.old.uninstall)
        self.db = openFileStorageDB(self)
        connection, self.tm = openConnection(self, self.db)
        connection.root()['tasks'] = self.service = TaskService()
        self.service.__name__ = 'tasks'
        self.tm.commit()

    def runJobs(self, factory, **arguments):
        import threading
        from zope.testing.wait import wait
        from z3c.taskqueue.processing import processor
        ids = [self.service.add('echo', i) for i in range(3)]
        self.tm.commit()
        proc = getattr(processor, factory)(self.db, ['tasks'],
                                           waitTime=0.01, **arguments)
        thread = threading.Thread(target=proc)
        thread.start()
        try:
            def done():
                self.tm.begin()
                return all(self.service.getStatus(jobid) == 'completed'
                           for jobid in ids)
            wait(done, timeout=30)
        finally:
            proc.stop()
            thread.join(30)
        return ids

    def test_a_simple_processor_adds_nothing_to_the_old_log(self):
        self.runJobs('SimpleProcessor')
        self.assertEqual(self.old.records, [])

    def test_a_multi_processor_adds_nothing_to_the_old_log(self):
        self.runJobs('MultiProcessor', maxThreads=2)
        self.assertEqual(self.old.records, [])

    def test_the_details_reach_the_root_logger_on_a_logger_of_their_own(
            self):
        from zope.testing.loggingsupport import InstalledHandler
        root = InstalledHandler('')     # as an operator's DEBUG logging
        self.addCleanup(root.uninstall)
        ids = self.runJobs('SimpleProcessor')
        completed = [(record.name, record.levelno, record.getMessage())
                     for record in root.records
                     if record.getMessage().endswith(' completed')]
        self.assertEqual(completed, [
            ('z3c_taskqueue', logging.DEBUG,
             "Job %r (task 'echo') completed" % jobid) for jobid in ids])
        self.assertEqual(self.old.records, [])


def test_suite():
    return unittest.TestSuite([
        unittest.defaultTestLoader.loadTestsFromName(__name__),
        doctest.DocFileSuite(
            '../legacy-processor.rst',
            setUp=setUpEveryLevel, tearDown=_doctests.tearDownLegacy,
            optionflags=_doctests.OPTIONFLAGS),
    ])
