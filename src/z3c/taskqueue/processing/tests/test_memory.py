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
"""A worker's memory does not grow with the jobs it runs.

ZODB keeps, for every connection of a database, open or waiting in its
pool, the oid of each object committed since the connection's last
transaction began: its next transaction drops from its cache what
changed.  A connection of a worker that never begins one keeps them
all, one or more for every job any worker runs.  These tests count what
the processor's connections keep, not the process's memory
(``benchmarks/bench_soak.py`` measures that).
"""
import threading
import unittest

import zope.component.testing
import zope.interface
from zope.testing.wait import wait

from z3c.taskqueue import interfaces
from z3c.taskqueue.tests._support import openConnection
from z3c.taskqueue.tests._support import openFileStorageDB


#: Jobs (or commits) a test makes, and how many oids a connection may
#: keep once the processor is idle: a few commits' worth, not a job's.
JOBS = 300
FEW = 50
WAIT = 30   # seconds: only a broken processor takes that long
#: How long a connection may keep what changed: the processor's
#: connections begin anew every second or so.
SETTLE = 10


@zope.interface.implementer(interfaces.ITask)
class Task:
    """Does nothing; with ``report``, reports progress first."""

    inputSchema = outputSchema = None
    retryPolicy = None

    def __init__(self, report=False, until=None):
        self.report = report
        self.until = until

    def __call__(self, service, jobid, input):
        if self.report:
            service.setProgress(jobid, 0.5, 'half way')
        if self.until is not None:
            self.until.wait(WAIT)


def kept(connection):
    """Return how many oids ZODB keeps for ``connection`` to invalidate
    at its next transaction (an implementation detail of ZODB's MVCC
    adapter, which is what these tests are about)."""
    return len(getattr(connection._storage, '_invalidations', None) or ())


class MemoryTests(unittest.TestCase):

    def setUp(self):
        from z3c.taskqueue.model.service import TaskService
        zope.component.testing.setUp(self)
        self.addCleanup(zope.component.testing.tearDown, self)
        zope.component.provideUtility(Task(), name='noop')
        zope.component.provideUtility(Task(report=True), name='report')
        self.db = openFileStorageDB(self)
        self.connection, self.tm = openConnection(self, self.db)
        root = self.connection.root()
        root['tasks'] = self.service = TaskService()
        self.service.__name__ = 'tasks'
        self.tm.commit()

    def start(self, factory=None, **kw):
        from z3c.taskqueue.processing import processor
        factory = factory or processor.SimpleProcessor
        worker = factory(self.db, ['tasks'], waitTime=0.05, **kw)
        thread = threading.Thread(target=worker, name=worker.name)
        thread.start()

        def stop():
            worker.stop()
            thread.join(WAIT)
            self.assertFalse(thread.is_alive(), 'the processor did not stop')
        self.addCleanup(stop)
        return worker

    def addJobs(self, task, count):
        ids = [self.service.add(task) for number in range(count)]
        self.tm.commit()
        return ids

    def waitUntilFinished(self, ids):
        def finished():
            self.tm.begin()
            return all(self.service.getStatus(jobid) in interfaces.FINISHED
                       for jobid in ids)
        wait(finished, timeout=WAIT)

    def keptByOthers(self):
        """Return what the connections but the test's own keep, most
        first: those of the processor, open or in the pool."""
        return sorted((kept(connection) for connection in self.db.pool.all
                       if connection is not self.connection), reverse=True)

    def assertForgotten(self, busy=0):
        """Wait until no connection of the processor keeps more than a
        few oids, but for those of ``busy`` runners, which run a job:
        the transaction of a job sees the database as it began."""
        try:
            wait(lambda: self.keptByOthers()[busy] <= FEW, timeout=SETTLE)
        except wait.TimeOutWaitingFor:
            self.fail('after %d s the connections keep %s oids, not at most'
                      ' %d each' % (SETTLE, self.keptByOthers(), FEW))

    def test_a_worker_keeps_nothing_of_the_jobs_it_ran(self):
        # The lease keeper's connection begins a transaction only to
        # renew leases, which quick jobs never need.
        self.start()
        self.waitUntilFinished(self.addJobs('noop', JOBS))
        self.assertForgotten()

    def test_a_worker_of_many_threads_keeps_nothing_of_its_jobs(self):
        from z3c.taskqueue.processing.processor import MultiProcessor
        self.start(MultiProcessor, maxThreads=3)
        self.waitUntilFinished(self.addJobs('noop', JOBS))
        self.assertForgotten()

    def test_idle_runners_keep_nothing_of_what_others_commit(self):
        # A runner waits for its next batch as long as no job is due,
        # while the application changes the database.
        from persistent.mapping import PersistentMapping
        from z3c.taskqueue.processing.processor import MultiProcessor
        self.start(MultiProcessor, maxThreads=3)
        root = self.connection.root()
        for number in range(JOBS):
            root['other'] = PersistentMapping(number=number)
            self.tm.commit()
        self.assertForgotten()

    def test_a_dispatcher_keeps_nothing_while_its_runners_are_busy(self):
        # It claims nothing until a runner is free.
        from persistent.mapping import PersistentMapping
        from z3c.taskqueue.processing.processor import MultiProcessor
        until = threading.Event()
        zope.component.provideUtility(Task(until=until), name='long')
        self.addJobs('long', 1)
        self.start(MultiProcessor, maxThreads=1)
        self.addCleanup(until.set)      # before the processor stops
        wait(lambda: self.tm.begin() or self.service.countJobs()[
            interfaces.PROCESSING], timeout=WAIT)
        root = self.connection.root()
        for number in range(JOBS):
            root['other'] = PersistentMapping(number=number)
            self.tm.commit()
        self.assertForgotten(busy=1)

    def test_a_worker_keeps_nothing_after_a_job_reported_progress(self):
        # A progress report commits in a connection of its own, which
        # then waits in the pool until the next report.
        first = self.addJobs('report', 1)
        self.start()
        self.waitUntilFinished(first + self.addJobs('noop', JOBS))
        self.tm.begin()
        self.assertEqual(self.service.getProgress(first[0]),
                         (0.5, 'half way'))
        self.assertForgotten()


def test_suite():
    return unittest.defaultTestLoader.loadTestsFromName(__name__)
