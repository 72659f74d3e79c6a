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
"""Worker processes on a real ZEO server: exactly once, through faults."""
import os
import time
import unittest

from z3c.taskqueue.tests._workers import JOBS
from z3c.taskqueue.tests._workers import WorkerProcessTests


class ZEOWorkerTests(WorkerProcessTests, unittest.TestCase):
    """Worker processes on a real ZEO server."""

    def openDatabase(self):
        import ZEO
        from z3c.taskqueue.testing import ZEOServer
        log = open(os.path.join(self.directory, 'server.log'), 'a')
        self.addCleanup(log.close)
        self.server = ZEOServer(os.path.join(self.directory, 'Data.fs'),
                                log=log).start()
        self.addCleanup(self.server.stop)
        self.uri = 'zeo://%s:%d' % self.server.addr
        return ZEO.DB(self.server.addr)

    def test_workers_survive_a_server_restart(self):
        ids = self.addJobs(JOBS, input=0.002)
        for i in range(3):
            self.startWorker(lease=5)
        self.waitUntil(self.allCompleted(JOBS // 4))
        self.connection.close()
        self.server.stop()
        time.sleep(1)
        self.server.start()
        self.connection = self.db.open(self.tm)
        self.service = self.connection.root()['tasks']
        self.waitUntil(self.allCompleted(JOBS))
        self.assertExactlyOnce(ids)
        self.assertTrue(all(worker.poll() is None
                            for worker in self.workers))

    def test_due_cron_and_delayed_jobs_run_once_across_workers(self):
        from z3c.taskqueue import testing
        delayed = [self.service.addCronJob('record', delay=1 + i % 3)
                   for i in range(200)]
        cron = [self.service.addCronJob('record', None)   # every minute
                for i in range(20)]
        self.tm.commit()
        for i in range(3):
            self.startWorker()

        def eachCronJobRan():
            self.tm.begin()
            done = testing.effects(self.connection.root())
            ran = {jobid for jobid, instant in done.keys()}
            return ran.issuperset(cron) and ran.issuperset(delayed)
        self.waitUntil(eachCronJobRan, timeout=150)
        self.stopWorkers()
        self.tm.begin()
        done = testing.effects(self.connection.root())
        self.assertEqual(set(done.values()), {1})
        self.assertEqual(
            {self.service.getStatus(jobid) for jobid in delayed},
            {'completed'})
        # Each cron job ran once for each instant it ran for (the counts
        # above, by job and instant), and only at whole minutes.
        instants = {instant for jobid, instant in done.keys()
                    if jobid in cron}
        self.assertEqual({instant % 60 for instant in instants}, {0})
