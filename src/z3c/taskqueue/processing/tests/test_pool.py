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
"""The process pool (``z3c-taskqueue worker --processes N``): real worker
processes under a real supervisor, on a real FileStorage (served to the
workers by the supervisor's ZEO server) and on a real ZEO server."""
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

import transaction
import zope.component.testing

from z3c.taskqueue.tests._workers import ProcessLayer


TIMEOUT = 120


def ended(pid):
    """Tell whether process ``pid`` ended: a worker whose pool died is
    no child of ours, and it stays a zombie where no one reaps it."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().rsplit(')', 1)[1].split()[0] == 'Z'
    except OSError:
        return False


class PoolTestBase(unittest.TestCase):

    layer = ProcessLayer

    def setUp(self):
        from z3c.taskqueue import testing
        zope.component.testing.setUp(self)
        self.addCleanup(zope.component.testing.tearDown, self)
        testing.registerTasks()
        self.directory = tempfile.mkdtemp(prefix='z3c.taskqueue-pool-')
        self.addCleanup(shutil.rmtree, self.directory, True)
        self.path = os.path.join(self.directory, 'Data.fs')
        self.logPath = os.path.join(self.directory, 'pool.log')

    def openFileStorage(self):
        import ZODB
        import ZODB.FileStorage
        db = ZODB.DB(ZODB.FileStorage.FileStorage(self.path))
        tm = transaction.TransactionManager()
        return db, tm, db.open(tm)

    def makeService(self, connection, tm):
        from z3c.taskqueue import testing
        from z3c.taskqueue.model.service import TaskService
        root = connection.root()
        root['tasks'] = service = TaskService()
        service.__name__ = 'tasks'
        testing.effects(root)
        tm.commit()
        return service

    def startPool(self, uri, *options):
        from z3c.taskqueue.commands.command import workerCommand
        log = open(self.logPath, 'a')
        self.addCleanup(log.close)
        pool = subprocess.Popen(
            workerCommand() + [
                'worker', uri, '--service', 'tasks', '--wait', '0.1',
                '--import', 'z3c.taskqueue.testing'] + list(options),
            stdout=log, stderr=subprocess.STDOUT)
        self.addCleanup(self.stopPool, pool)
        return pool

    def stopPool(self, pool):
        if pool.poll() is None:
            pool.kill()
            pool.wait()
        for pid in self.workerPids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def log(self):
        with open(self.logPath) as f:
            return f.read()

    def workerPids(self):
        return [int(pid) for pid in re.findall(r'started worker \d+ \(pid'
                                               r' (\d+)\)', self.log())]

    def waitFor(self, condition, what):
        deadline = time.monotonic() + TIMEOUT
        while not condition():
            if time.monotonic() > deadline:
                self.fail('timed out waiting for %s; log:\n%s'
                          % (what, self.log()[-5000:]))
            time.sleep(0.1)


class FileStoragePoolTests(PoolTestBase):

    def test_a_hanging_job_is_killed_and_the_other_jobs_go_on(self):
        from z3c.taskqueue import testing
        db, tm, connection = self.openFileStorage()
        service = self.makeService(connection, tm)
        hanging = service.add('hang', 600, timeout=1)
        ids = [service.add('record', 0.05) for i in range(40)]
        tm.commit()
        connection.close()
        db.close()
        pool = self.startPool('file://' + self.path, '--processes', '2',
                              '--kill-grace', '1', '--exit-when-done')
        try:
            pool.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            self.fail('the pool did not finish; log:\n' + self.log())
        self.assertEqual(pool.returncode, 0, self.log())
        log = self.log()
        self.assertIn('Serving %s to local processes at zeo://%s.sock'
                      % (self.path, self.path), log)
        self.assertRegex(log, r'job %d of worker \d \(pid \d+\) ran \d s,'
                         r' past its limit of 1 s and the grace of 1 s:'
                         r' killing the worker' % hanging)
        # Two workers, and the one killed started again.
        self.assertEqual(len(self.workerPids()), 3, log)
        db, tm, connection = self.openFileStorage()
        self.addCleanup(db.close)
        service = connection.root()['tasks']
        self.assertEqual(service.getStatus(hanging), 'error')
        self.assertRegex(service.getError(hanging), r'^killed after \d s$')
        self.assertEqual(service.jobs[hanging].attempts, 1)
        self.assertEqual({service.getStatus(jobid) for jobid in ids},
                         {'completed'})
        runs = {}
        for (jobid, instant), n in testing.effects(
                connection.root()).items():
            runs[jobid] = runs.get(jobid, 0) + n
        self.assertEqual(runs, dict.fromkeys(ids, 1))
        # The killed worker's other claims were given back at once, not
        # after their lease: nothing is left claimed.
        self.assertEqual(service._claims.size(), 0)
        connection.close()

    def test_workers_exit_soon_when_the_pool_and_its_server_die(self):
        db, tm, connection = self.openFileStorage()
        service = self.makeService(connection, tm)
        controls = [os.path.join(self.directory, 'hold%d' % i)
                    for i in range(2)]
        for control in controls:
            open(control, 'w').close()
            service.add('pause', control)
        tm.commit()
        connection.close()
        db.close()
        pool = self.startPool('file://' + self.path, '--processes', '2')
        # A job runs in each worker, waiting for the database to record
        # its end.
        self.waitFor(lambda: all(os.path.exists(control + '.started')
                                 for control in controls),
                     'a job to start in each worker')
        pids = self.workerPids()
        self.assertEqual(len(pids), 2)
        pool.kill()
        pool.wait()
        deadline = time.monotonic() + 10
        while (not all(map(ended, pids))
               and time.monotonic() < deadline):
            time.sleep(0.1)
        self.assertEqual([pid for pid in pids if not ended(pid)], [],
                         self.log())
        self.assertEqual(self.log().count(
            'the database went with the pool: exiting without waiting'), 2)

    def test_bad_pool_options_are_refused(self):
        import contextlib
        import io
        from z3c.taskqueue.commands.command import main
        for options, error in (
                (['--processes', '0'], "--processes: must be an integer"
                 " from 1 to 64, not '0'"),
                (['--processes', 'x'], "not 'x'"),
                (['--processes', '65'], "not '65'"),
                (['--processes', '2', '--kill-grace', '-1'],
                 "--kill-grace: must be a number of seconds from 0 to"
                 " 3600, not '-1'")):
            stderr = io.StringIO()
            with contextlib.redirect_stderr(stderr):
                self.assertEqual(main(['worker', 'file://' + self.path,
                                       '--service', 'tasks'] + options), 2)
            self.assertIn(error, stderr.getvalue())


class ZEOPoolTests(PoolTestBase):

    def setUp(self):
        super().setUp()
        import ZEO
        from z3c.taskqueue.testing import ZEOServer
        log = open(os.path.join(self.directory, 'server.log'), 'a')
        self.addCleanup(log.close)
        self.server = ZEOServer(self.path, log=log).start()
        self.addCleanup(self.server.stop)
        self.uri = 'zeo://%s:%d' % self.server.addr
        self.db = ZEO.DB(self.server.addr)
        self.addCleanup(self.db.close)
        self.tm = transaction.TransactionManager()
        self.connection = self.db.open(self.tm)
        self.addCleanup(self.connection.close)
        self.addCleanup(self.tm.abort)
        self.service = self.makeService(self.connection, self.tm)

    def test_sigterm_drains_every_worker_within_the_stop_timeout(self):
        control = os.path.join(self.directory, 'hold')
        open(control, 'w').close()
        held = self.service.add('pause', control)
        self.tm.commit()
        pool = self.startPool(self.uri, '--processes', '2',
                              '--stop-timeout', '2')
        self.waitFor(lambda: os.path.exists(control + '.started'),
                     'the job to start')
        pids = self.workerPids()
        self.assertEqual(len(pids), 2)
        started = time.monotonic()
        pool.send_signal(signal.SIGTERM)
        pool.wait(TIMEOUT)
        self.assertLess(time.monotonic() - started, 2 + 10, self.log())
        self.assertEqual(pool.returncode, 0, self.log())
        for pid in pids:
            with self.assertRaises(ProcessLookupError):
                os.kill(pid, 0)
        self.tm.begin()
        # Given back at once, charged for the run it did not finish.
        self.assertEqual(self.service.getStatus(held), 'queued')
        self.assertEqual(self.service.jobs[held].attempts, 1)

    def test_a_worker_that_dies_is_restarted_and_its_jobs_given_back(self):
        control = os.path.join(self.directory, 'hold')
        open(control, 'w').close()
        held = self.service.add('pause', control)
        self.tm.commit()
        self.startPool(self.uri, '--processes', '1')
        self.waitFor(lambda: os.path.exists(control + '.started'),
                     'the job to start')
        os.kill(self.workerPids()[0], signal.SIGKILL)
        os.remove(control)
        os.remove(control + '.started')

        def completed():
            self.tm.begin()
            return self.service.getStatus(held) == 'completed'
        self.waitFor(completed, 'the job to run again')
        self.assertEqual(len(self.workerPids()), 2)
        self.assertEqual(self.service.jobs[held].attempts, 2)
        self.assertIn('ended with status -9; starting it again', self.log())

    def test_a_kill_for_one_job_charges_no_other_job(self):
        from z3c.taskqueue import testing
        control = os.path.join(self.directory, 'hold')
        open(control, 'w').close()
        hanging = self.service.add('hang', 600, timeout=1)
        healthy = self.service.add('pause', control)
        self.tm.commit()
        self.startPool(self.uri, '--processes', '1', '--threads', '2',
                       '--kill-grace', '1')
        # The healthy job runs in the other thread of the process that is
        # killed for the hanging one.
        self.waitFor(lambda: os.path.exists(control + '.started'),
                     'the healthy job to start')

        def givenBack():
            self.tm.begin()
            return self.service.getStatus(hanging) == 'error'
        self.waitFor(givenBack, 'the hanging job to be killed')
        self.assertRegex(self.log(), r'job %d of worker 1 \(pid \d+\) ran'
                         r' \d+ s, past its limit' % hanging)
        # Given back uncharged (the restarted worker may have claimed it
        # again already: a claim charges nothing).
        self.assertIn(self.service.getStatus(healthy),
                      ('queued', 'processing'))
        self.assertEqual(self.service.jobs[healthy].attempts, 0)
        self.assertIsNone(self.service.getError(healthy))
        os.remove(control)

        def completed():
            self.tm.begin()
            return self.service.getStatus(healthy) == 'completed'
        self.waitFor(completed, 'the healthy job to run again')
        self.assertEqual(self.service.jobs[healthy].attempts, 1)
        self.assertEqual(self.service.getStatus(hanging), 'error')
        self.assertRegex(self.service.getError(hanging),
                         r'^killed after \d+ s$')
        self.assertEqual(self.service.jobs[hanging].attempts, 1)
        runs = [n for (jobid, instant), n in testing.effects(
            self.connection.root()).items() if jobid == healthy]
        self.assertEqual(runs, [1])
        self.assertRegex(self.log(), r'Job %d: the worker process \d+ was'
                         r' killed after its job ran past its limit \(job'
                         r' %d\); given back uncharged' % (healthy, hanging))


class RecoverProcessTests(unittest.TestCase):
    """``recoverProcess()``, which the supervisor calls for a worker
    process that ended: two runner threads, a lease each."""

    def setUp(self):
        from z3c.taskqueue import testing
        from z3c.taskqueue.model.service import TaskService
        from z3c.taskqueue.tests._support import openConnection
        from z3c.taskqueue.tests._support import openFileStorageDB
        zope.component.testing.setUp(self)
        self.addCleanup(zope.component.testing.tearDown, self)
        testing.registerTasks()
        connection, self.tm = openConnection(self, openFileStorageDB(self))
        connection.root()['tasks'] = self.service = TaskService()
        self.tm.commit()

    def claimTwoThreads(self):
        """Two threads of process 7 each run a job of a batch of two;
        return the ids: (running, running, waiting)."""
        service = self.service
        for i in range(4):
            service.add('noop')
        one, first = service.claimJobs('host:7:thread.1', 60, limit=2)
        two, second = service.claimJobs('host:7:thread.2', 60, limit=2)
        self.tm.commit()
        return first[0], second[0], first[1:] + second[1:]

    def test_a_kill_for_one_job_charges_only_that_job(self):
        hung, bystander, waiting = self.claimTwoThreads()
        ids = self.service.recoverProcess(
            'host:7:', 'the worker process 7 was killed', {hung: 'killed'})
        self.assertEqual(sorted(ids), sorted([hung, bystander] + waiting))
        jobs = self.service.jobs
        self.assertEqual(self.service.getStatus(hung), 'error')
        self.assertEqual(jobs[hung].error, 'killed')
        self.assertEqual(jobs[hung].attempts, 1)
        for jobid in [bystander] + waiting:
            self.assertEqual(self.service.getStatus(jobid), 'queued')
            self.assertEqual(jobs[jobid].attempts, 0)
            self.assertIsNone(jobs[jobid].error)
        self.assertEqual(self.service._claims.size(), 0)

    def test_a_worker_that_died_on_its_own_is_charged_as_ever(self):
        first, second, waiting = self.claimTwoThreads()
        self.service.recoverProcess('host:7:', 'the worker process 7'
                                    ' ended with status -9')
        jobs = self.service.jobs
        for jobid in (first, second):
            self.assertEqual(jobs[jobid].attempts, 1)
            self.assertEqual(jobs[jobid].error,
                             'the worker process 7 ended with status -9')
        for jobid in waiting:
            self.assertEqual(jobs[jobid].attempts, 0)
            self.assertIsNone(jobs[jobid].error)
        self.assertEqual({self.service.getStatus(jobid)
                          for jobid in [first, second] + waiting},
                         {'queued'})


class SupervisorRecoveryTests(unittest.TestCase):
    """The supervisor's own recovery of a worker that ended
    (``ProcessPool.recover``), on a real FileStorage."""

    def setUp(self):
        import socket
        import sys
        import ZODB
        import ZODB.FileStorage
        from z3c.taskqueue import testing
        from z3c.taskqueue.model.service import TaskService
        zope.component.testing.setUp(self)
        self.addCleanup(zope.component.testing.tearDown, self)
        testing.registerTasks()
        directory = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, directory)
        self.path = os.path.join(directory, 'Data.fs')
        db = ZODB.DB(ZODB.FileStorage.FileStorage(self.path))
        with db.transaction() as connection:
            service = connection.root()['tasks'] = TaskService()
            self.jobs = [service.add('noop') for i in range(2)]
        # The process of a worker that ended.
        self.process = subprocess.Popen([sys.executable, '-c', 'pass'])
        self.process.wait()
        with db.transaction() as connection:
            service = connection.root()['tasks']
            owner = '%s:%d:thread.1' % (socket.gethostname(),
                                        self.process.pid)
            service.claimJobs(owner, 60, limit=2)
        db.close()

    def test_it_gives_the_jobs_back_and_closes_the_database(self):
        import ZODB
        import ZODB.FileStorage
        from z3c.taskqueue.processing._pool import Child
        from z3c.taskqueue.processing._pool import ProcessPool
        pool = ProcessPool([], 1, 'file://' + self.path, ('tasks',), 5, 5)
        child = Child(1)
        child.process = self.process
        pool.recover(child, 'the worker process ended with status 0')
        self.assertIsNone(pool.db)
        # A FileStorage opens in one process at a time: the supervisor
        # let it go.
        db = ZODB.DB(ZODB.FileStorage.FileStorage(self.path))
        self.addCleanup(db.close)
        service = db.open().root()['tasks']
        self.assertEqual({service.getStatus(jobid) for jobid in self.jobs},
                         {'queued'})
        # The thread ran the first job of its batch: that one is charged.
        self.assertEqual([service.jobs[jobid].attempts
                          for jobid in self.jobs], [1, 0])


def test_suite():
    return unittest.defaultTestLoader.loadTestsFromName(__name__)
