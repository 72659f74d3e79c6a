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
"""Faults met by real ``z3c-taskqueue worker`` processes on a real ZEO
server: a task that exits, a SIGKILL, a stop timeout, a full disk.

Each test names the item of the robustness issue (#8) it reproduces.
"""
import os
import signal
import time
import unittest

from z3c.taskqueue.tests._workers import WorkerProcessFixture


class ZEOFaultTests(WorkerProcessFixture, unittest.TestCase):

    def openDatabase(self):
        import ZEO
        from z3c.taskqueue.testing import ZEOServer
        log = open(os.path.join(self.directory, 'server.log'), 'a')
        self.addCleanup(log.close)
        self.server = ZEOServer(
            os.path.join(self.serverDirectory(), 'Data.fs'), log=log).start()
        self.addCleanup(self.server.stop)
        self.uri = 'zeo://%s:%d' % self.server.addr
        return ZEO.DB(self.server.addr)

    def serverDirectory(self):
        return self.directory

    def statuses(self, ids):
        self.tm.begin()
        return [self.service.getStatus(jobid) for jobid in ids]

    def waitFinished(self, ids, timeout=120):
        def finished():
            return all(status in ('completed', 'error', 'cancelled')
                       for status in self.statuses(ids))
        finished.__name__ = 'jobs %r finished' % (ids,)
        self.waitUntil(finished, timeout)

    def waitForLog(self, worker, text, timeout=60):
        def logged():
            return text in self.logOf(worker)
        logged.__name__ = '%r in the log of worker %d' % (text, worker.pid)
        self.waitUntil(logged, timeout)

    def assertStops(self, worker, signum=signal.SIGTERM, timeout=30):
        worker.send_signal(signum)
        try:
            status = worker.wait(timeout)
        except Exception:
            self.fail('the worker did not stop on %s; %s'
                      % (signum, self.describe()))
        self.assertEqual(status, 0, self.logOf(worker))
        self.assertIn('stopped:', self.logOf(worker))

    def pausing(self):
        """Return a marker file: ``pause`` jobs wait while it exists."""
        path = os.path.join(self.directory, 'pause-%d' % time.monotonic_ns())
        open(path, 'w').close()
        return path

    def started(self, pause):
        """Return a condition: a ``pause`` job with ``pause`` started."""
        def started():
            return os.path.exists(pause + '.started')
        started.__name__ = 'the pause job started'
        return started

    def test_a_task_that_calls_sys_exit_fails_alone(self):
        # Item 1.
        ids = [self.service.add('exit', 3), self.service.add('record'),
               self.service.add('exit', None), self.service.add('record')]
        self.tm.commit()
        worker = self.startWorker(threads=1)
        self.waitFinished(ids)
        self.assertEqual(self.statuses(ids),
                         ['error', 'completed', 'error', 'completed'])
        self.assertEqual(self.service.getError(ids[0]), 'SystemExit: 3')
        self.assertEqual(self.service.getError(ids[2]), 'SystemExit')
        self.assertIsNone(worker.poll())
        log = self.logOf(worker)
        self.assertIn('failed: SystemExit: 3', log)
        # The worker goes on, and still stops when asked.
        later = self.addJobs(5)
        self.waitFinished(later)
        self.assertEqual(set(self.statuses(later)), {'completed'})
        self.assertStops(worker)

    def test_sigint_stops_a_worker(self):
        # Item 1: a real signal still stops the process.
        worker = self.startWorker()
        self.waitForLog(worker, 'Worker taskqueue.tasks: 2 threads')
        self.assertStops(worker, signal.SIGINT)

    def test_a_killed_worker_charges_only_the_job_it_was_running(self):
        # Item 3.  The jobs wait in one queue, so that a worker claims
        # them in order, in growing batches; one of them pauses, and the
        # worker is killed while it runs it.
        pause = self.pausing()
        ids = []
        while len(ids) < 61:
            if len(ids) == 40:
                jobid = self.service.add('pause', pause)
            else:
                jobid = self.service.add('record')
            if not ids or jobid % 8 == ids[0] % 8:
                ids.append(jobid)
            else:
                self.service.cancel(jobid)
        self.service.clean()
        self.tm.commit()
        jobid = ids[40]
        self.assertEqual(self.service.jobs[jobid].task, 'pause')

        worker = self.startWorker(threads=1, lease=2)
        self.waitUntil(self.started(pause))
        self.assertEqual(self.statuses([jobid]), ['processing'])
        # The jobs claimed with it that it has not started yet:
        lease = self.service.leaseOf(jobid)
        unstarted = [i for i in ids if i != jobid
                     and self.service.getStatus(i) == 'processing'
                     and self.service.leaseOf(i)._p_oid == lease._p_oid]
        self.assertTrue(unstarted, 'the paused job ended its batch')
        worker.kill()
        worker.wait()
        os.remove(pause)
        second = self.startWorker(threads=1, lease=2)
        everything = ids
        self.waitFinished(everything)
        self.assertEqual(set(self.statuses(everything)), {'completed'})
        attempts = {i: self.service.jobs[i].attempts for i in everything}
        self.assertEqual(attempts.pop(jobid), 2)
        self.assertEqual(set(attempts.values()), {1})
        # The completed job keeps no error: the log of the worker that
        # recovered it says why its run was charged.
        self.assertRegex(self.logOf(second),
                         r'Job %d: the worker \S+ was lost: its lease'
                         r' expired at .*; trying again' % jobid)

    def test_stop_timeout_gives_back_a_job_that_does_not_end(self):
        # Item 4.
        pause = self.pausing()
        jobid = self.service.add('pause', pause)
        self.tm.commit()
        worker = self.startWorker(threads=1, extra=['--stop-timeout', '1'])
        self.waitUntil(self.started(pause))
        started = time.time()
        self.assertStops(worker, timeout=30)
        self.assertLess(time.time() - started, 20)
        log = self.logOf(worker)
        self.assertIn('gave back %d for other workers' % jobid, log)
        self.assertNotIn('ConnectionStateError', log)
        self.assertNotIn('Traceback', log)
        self.assertEqual(self.statuses([jobid]), ['queued'])
        job = self.service.jobs[jobid]
        self.assertEqual(job.attempts, 1)
        self.assertIn('stopped before the job ended', job.error)
        # Another worker takes it at once.
        os.remove(pause)
        self.startWorker(threads=1)
        self.waitFinished([jobid], timeout=30)
        self.assertExactlyOnce([jobid])

    def test_passwords_are_never_shown(self):
        # Item 12.
        worker = self.startWorker(uri=self.uri + '?password=s3cret-pw')
        self.waitForLog(worker, 'Worker taskqueue.tasks: 2 threads')
        self.assertStops(worker)
        log = self.logOf(worker)
        self.assertIn('password=***', log)
        self.assertNotIn('s3cret-pw', log)


class FullDiskTests(ZEOFaultTests):
    """Item 7: the ZEO server's disk fills up while workers run."""

    def serverDirectory(self):
        from z3c.taskqueue.tests._support import mountSmallDisk
        self.disk = mountSmallDisk(self, '8m')
        return self.disk

    def failedTimes(self, worker, count):
        """Return a condition: ``worker`` logged its ``count``-th failure
        in a row."""
        import re

        def failed():
            counts = re.findall(r'could not .* \((\d+) times\)',
                                self.logOf(worker))
            return max(map(int, counts), default=0) >= count
        failed.__name__ = 'worker %d failed %d times' % (worker.pid, count)
        return failed

    def test_a_full_disk_fails_no_job(self):
        from z3c.taskqueue.tests._support import fillDisk
        ids = self.addJobs(100)
        filler = fillDisk(self.disk)
        worker = self.startWorker(threads=2, lease=5, debug=True)
        self.waitForLog(worker, 'No space left on device')
        # The worker keeps trying meanwhile, and says so at DEBUG level:
        # once it has failed three more times, still no job failed.
        self.waitUntil(self.failedTimes(worker, 4))
        self.assertEqual(self.counts()['error'], 0, self.describe())
        os.remove(filler)
        self.waitFinished(ids)
        self.assertExactlyOnce(ids)
        log = self.logOf(worker)
        self.assertIsNone(worker.poll())
        self.assertIn('works again, after', log)
        said = [line for line in log.splitlines()
                if 'ERROR' in line and 'No space left on device' in line]
        self.assertEqual(len(said), 1, log)
        self.assertStops(worker)

    # The other tests need no full disk.
    test_a_task_that_calls_sys_exit_fails_alone = None
    test_sigint_stops_a_worker = None
    test_a_killed_worker_charges_only_the_job_it_was_running = None
    test_stop_timeout_gives_back_a_job_that_does_not_end = None
    test_passwords_are_never_shown = None
