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
"""Worker processes on RelStorage and PostgreSQL: exactly once, kill -9."""
import getpass
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import transaction
import zope.component.testing
from zope.testing.wait import wait

from z3c.taskqueue.tests.test_zeo import ProcessLayer


# A PostgreSQL database that the tests may erase, as a libpq connection
# string (a postgresql:// URI works too), for example
#
#     TASKQUEUE_PG_DSN='host=127.0.0.1 port=5432 dbname=taskqueue user=me'
#
# It must name a TCP host: the workers open the database by RelStorage's
# postgres://user@host:port/dbname URI, which cannot name a socket
# directory.  Each test drops RelStorage's tables and starts afresh.
DSN = os.environ.get('TASKQUEUE_PG_DSN', '').strip()
SKIPPED = 'TASKQUEUE_PG_DSN is not set: RelStorage tests SKIPPED'
if not DSN:
    # A skip is easy to miss in a long run: say it where it shows.
    print('WARNING: %s (README.rst, "Development", tells how to run them)'
          % SKIPPED, file=sys.stderr)

JOBS = 600
TIMEOUT = 240   # seconds: only a broken worker takes that long


def relStorageURI(dsn, keepHistory):
    """Return RelStorage's zodburi URI for the database ``dsn`` names."""
    from psycopg2.extensions import parse_dsn
    params = parse_dsn(dsn)
    host = params.get('host', 'localhost')
    if host.startswith('/') or ',' in host:
        raise ValueError(
            'TASKQUEUE_PG_DSN must name one TCP host (host=127.0.0.1), not'
            ' %r: the postgres:// URI cannot name a socket directory' % host)
    # RelStorage's resolver turns what the URI lacks into 'None' in its
    # DSN (user='None'), so spell out libpq's defaults.
    user = params.get('user') or getpass.getuser()
    login = user
    if 'password' in params:
        login += ':' + params['password']
    return 'postgres://%s@%s:%s/%s?keep_history=%s' % (
        login, host, params.get('port', '5432'), params.get('dbname', user),
        'true' if keepHistory else 'false')


@unittest.skipUnless(DSN, SKIPPED)
class RelStorageWorkerTests(unittest.TestCase):
    """Worker processes on one RelStorage database, history free."""

    layer = ProcessLayer
    keepHistory = False

    def setUp(self):
        zope.component.testing.setUp(self)
        self.addCleanup(zope.component.testing.tearDown, self)
        from z3c.taskqueue import testing
        testing.registerTasks()
        self.directory = tempfile.mkdtemp(prefix='z3c.taskqueue-pg-')
        self.addCleanup(shutil.rmtree, self.directory, True)
        self.uri = relStorageURI(DSN, self.keepHistory)
        self.db = self.openDatabase()
        self.addCleanup(self.db.close)
        self.tm = transaction.TransactionManager()
        self.connection = self.db.open(self.tm)
        self.addCleanup(self.connection.close)
        self.addCleanup(self.tm.abort)
        from z3c.taskqueue.service import TaskService
        root = self.connection.root()
        root['tasks'] = self.service = TaskService()
        self.service.__name__ = 'tasks'
        testing.effects(root)
        self.tm.commit()
        self.workers = []
        self.addCleanup(self.stopWorkers)

    def openDatabase(self):
        """Open a fresh RelStorage database: drop what earlier runs left,
        whether history free or not, and let RelStorage create its
        schema again."""
        import ZODB
        from relstorage.adapters.postgresql import PostgreSQLAdapter
        from relstorage.options import Options
        from relstorage.storage import RelStorage
        options = Options(keep_history=self.keepHistory)
        PostgreSQLAdapter(dsn=DSN, options=options).schema.drop_all()
        adapter = PostgreSQLAdapter(dsn=DSN, options=options)
        return ZODB.DB(RelStorage(adapter, options=options))

    def startWorker(self, **kw):
        from z3c.taskqueue import testing
        log = open(os.path.join(self.directory, 'worker-%d.log'
                                % len(self.workers)), 'w')
        self.addCleanup(log.close)
        kw.setdefault('threads', 2)
        worker = testing.startWorker(self.uri, log=log, **kw)
        self.workers.append(worker)
        return worker

    def stopWorkers(self):
        for worker in self.workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
        for worker in self.workers:
            try:
                worker.wait(60)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()

    def workerLogs(self):
        logs = []
        for name in sorted(os.listdir(self.directory)):
            if name.endswith('.log'):
                with open(os.path.join(self.directory, name)) as f:
                    logs.append('--- %s\n%s' % (name, f.read()[-3000:]))
        return '\n'.join(logs)

    def addJobs(self, count, task='record', input=None):
        ids = []
        for start in range(0, count, 500):
            ids += [self.service.add(task, input)
                    for i in range(min(500, count - start))]
            self.tm.commit()
        return ids

    def counts(self):
        self.tm.begin()
        return self.service.countJobs()

    def waitUntilCompleted(self, count):
        try:
            wait(lambda: self.counts()['completed'] >= count,
                 timeout=TIMEOUT, wait=0.2)
        except Exception:
            self.fail('timed out waiting for %d completed jobs; counts %r'
                      '\n%s' % (count, self.counts(), self.workerLogs()))

    def assertExactlyOnce(self, ids):
        from z3c.taskqueue import testing
        self.tm.begin()
        counts = self.service.countJobs()
        self.assertEqual(
            {status: n for status, n in counts.items() if n},
            {'completed': len(ids)})
        effects = testing.effects(self.connection.root())
        runs = {}
        for (jobid, instant), n in effects.items():
            runs[jobid] = runs.get(jobid, 0) + n
        self.assertEqual(runs, dict.fromkeys(ids, 1))

    def test_three_workers_run_each_job_exactly_once(self):
        ids = self.addJobs(JOBS)
        for i in range(3):
            self.startWorker()
        self.waitUntilCompleted(JOBS)
        self.assertExactlyOnce(ids)
        pids = {self.service.getResult(jobid) for jobid in ids}
        self.assertEqual(pids, {worker.pid for worker in self.workers})

    def test_status_command_reads_the_database_by_uri(self):
        from z3c.taskqueue import testing
        self.addJobs(3)
        output = subprocess.run(
            testing.workerCommand() + [
                'status', self.uri, '--service', 'tasks'],
            capture_output=True, text=True, timeout=60)
        self.assertEqual(output.returncode, 0, output.stderr)
        self.assertIn('queued       3\n', output.stdout)

    def test_killed_workers_lose_no_job_and_double_none(self):
        # Jobs take a while, so that kills hit running jobs.
        ids = self.addJobs(300, input=0.1)
        for i in range(3):
            self.startWorker(lease=2)
        rng = random.Random(4)
        kills = 0
        deadline = time.time() + TIMEOUT
        while self.counts()['completed'] < len(ids):
            self.assertLess(time.time(), deadline, self.workerLogs())
            time.sleep(rng.uniform(1.0, 2.0))
            victim = rng.randrange(len(self.workers))
            if self.workers[victim].poll() is None:
                self.workers[victim].kill()     # SIGKILL: no goodbye
                self.workers[victim].wait()
                kills += 1
            self.workers[victim] = self.startWorker(lease=2)
        self.assertGreater(kills, 0)
        self.assertExactlyOnce(ids)
        # Some kills hit claimed jobs, which other workers recovered.
        recovered = [jobid for jobid in ids
                     if self.service.jobs[jobid].attempts > 1]
        self.assertTrue(recovered)


class HistoryPreservingWorkerTests(RelStorageWorkerTests):
    """The same on a history-preserving database, RelStorage's default."""

    keepHistory = True
