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
"""One ``file://`` database for several local processes (``_sharing``):
a real worker process serves it on a Unix socket beside the file, and
the real commands (``add``, ``jobs``, ``show``, ``cancel``, ``retry``,
``status``, ``dashboard``) use it there while the worker runs."""
import contextlib
import io
import json
import os
import shutil
import signal
import stat
import subprocess
import tempfile
import unittest
import urllib.request

import transaction
import zope.component.testing
from zope.testing.wait import wait

from z3c.taskqueue.tests._workers import ProcessLayer


TIMEOUT = 60


class SharingTests(unittest.TestCase):

    layer = ProcessLayer

    def setUp(self):
        zope.component.testing.setUp(self)
        self.addCleanup(zope.component.testing.tearDown, self)
        self.directory = tempfile.mkdtemp(prefix='tq-')
        self.addCleanup(shutil.rmtree, self.directory, True)
        self.path = os.path.join(self.directory, 'Data.fs')
        self.socket = self.path + '.sock'
        self.uri = 'file://' + self.path
        self.processes = []
        self.addCleanup(self.stopAll)
        self.assertEqual(self.command('init').returncode, 0)

    def command(self, *argv, uri=None):
        """Run a real ``z3c-taskqueue`` command on the database."""
        from z3c.taskqueue.commands.command import workerCommand
        return subprocess.run(
            workerCommand() + [argv[0], uri or self.uri, '--service',
                               'tasks'] + list(argv[1:]),
            capture_output=True, text=True, timeout=TIMEOUT)

    def succeeds(self, *argv):
        result = self.command(*argv)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stderr.count('Traceback'), 0, result.stderr)
        return result.stdout

    def start(self, *argv, name='worker'):
        from z3c.taskqueue.commands.command import workerCommand
        log = open(os.path.join(self.directory, name + '.log'), 'w')
        self.addCleanup(log.close)
        process = subprocess.Popen(
            workerCommand() + [argv[0], self.uri, '--service', 'tasks']
            + list(argv[1:]), stdout=log, stderr=subprocess.STDOUT)
        process.logName = name
        self.processes.append(process)
        return process

    def startWorker(self):
        worker = self.start('worker', '--import', 'z3c.taskqueue.testing',
                            '--wait', '0.05')

        def ready():    # and stopped cleanly by SIGTERM from now on
            return 'threads on' in self.log('worker')
        self.waitFor(ready, worker)
        self.assertTrue(self.served())
        return worker

    def log(self, name):
        with open(os.path.join(self.directory, name + '.log')) as f:
            return f.read()

    def served(self):
        from z3c.taskqueue.database import _sharing
        return _sharing.answers(self.socket)

    def waitFor(self, condition, process=None):
        try:
            wait(condition, timeout=TIMEOUT, wait=0.05)
        except Exception:
            self.fail('timed out waiting for %s; logs:\n%s' % (
                condition.__name__, '\n'.join(
                    self.log(p.logName) for p in self.processes)))

    def stop(self, process):
        process.send_signal(signal.SIGTERM)
        self.assertEqual(process.wait(TIMEOUT), 0, self.log(process.logName))

    def stopAll(self):
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait()

    def statusOf(self, jobid):
        return json.loads(self.succeeds('show', str(jobid), '--json'))

    def test_the_commands_work_while_a_worker_runs(self):
        worker = self.startWorker()
        mode = os.stat(self.socket).st_mode
        self.assertTrue(stat.S_ISSOCK(mode))
        self.assertEqual(stat.S_IMODE(mode), 0o600)

        # add, with the options of a plain job, then of a delayed one.
        out = self.succeeds('add', '--import', 'z3c.taskqueue.testing',
                            'noop', '--queue', 'mail', '--priority', '5',
                            '--key', 'mail:1')
        ran = int(out)
        out = self.succeeds('add', '--import', 'z3c.taskqueue.testing',
                            'noop', '--delay', '3600')
        delayed = int(out)
        out = self.succeeds('add', '--import', 'z3c.taskqueue.testing',
                            'noop', '--start-later')
        later = int(out)

        def ranAlready():
            return self.statusOf(ran)['status'] == 'completed'
        self.waitFor(ranAlready, worker)
        details = self.statusOf(ran)
        self.assertEqual((details['queue'], details['priority'],
                          details['key']), ('mail', 5, 'mail:1'))
        self.assertEqual(self.statusOf(delayed)['status'], 'delayed')

        listed = json.loads(self.succeeds('jobs', '--json'))['jobs']
        self.assertEqual([row['id'] for row in listed],
                         [later, delayed, ran])
        self.assertIn('status:', self.succeeds('show', str(ran)))

        self.assertEqual(self.succeeds('cancel', str(delayed), str(later)),
                         '%d: cancelled\n%d: cancelled\n' % (delayed, later))
        self.assertEqual(self.succeeds('retry', str(later)),
                         '%d: queued again\n' % later)

        def retried():
            return self.statusOf(later)['status'] == 'completed'
        self.waitFor(retried, worker)
        report = json.loads(self.succeeds('status', '--json'))
        self.assertEqual(report['jobs']['completed'], 2)
        self.assertEqual(report['jobs']['cancelled'], 1)

        dashboard = self.dashboardPage()
        self.assertIn('Overview', dashboard)

        self.stop(worker)
        self.assertFalse(os.path.exists(self.socket))
        counts = self.countsInTheFile()
        self.assertEqual(counts['processing'], 0)
        self.assertEqual(counts['completed'], 2)
        self.assertNotIn('Traceback', self.log('worker'))
        self.assertNotIn('ERROR', self.log('worker'))

    def dashboardPage(self):
        """Start the dashboard on the database, fetch its overview, stop
        it; return the page."""
        from z3c.taskqueue.testing import freePort
        port = freePort()
        dashboard = self.start('dashboard', '--bind', '127.0.0.1:%d' % port,
                               name='dashboard')

        def page():
            try:
                with urllib.request.urlopen(
                        'http://127.0.0.1:%d/' % port, timeout=5) as reply:
                    return reply.read().decode()
            except OSError:
                return None
        self.waitFor(page, dashboard)
        body = page()
        self.stop(dashboard)
        return body

    def countsInTheFile(self):
        """Open the file itself (no process holds it): the job counts."""
        from z3c.taskqueue.commands.command import openDatabase
        db = openDatabase(self.uri)
        try:
            connection = db.open()
            counts = connection.root()['tasks'].countJobs()
            connection.close()
        finally:
            db.close()
        return counts

    def test_a_client_takes_over_when_the_server_goes(self):
        worker = self.startWorker()
        from z3c.taskqueue.testing import freePort
        port = freePort()
        dashboard = self.start('dashboard', '--bind', '127.0.0.1:%d' % port,
                               name='dashboard')
        url = 'http://127.0.0.1:%d/jobs' % port

        def answered():
            try:
                with urllib.request.urlopen(url, timeout=5) as reply:
                    return reply.status == 200
            except OSError:
                return False
        self.waitFor(answered, dashboard)
        self.stop(worker)
        # The dashboard serves the file now, at the same socket (it says
        # so once it does).

        def tookOver():
            return 'Took over serving' in self.log('dashboard')
        self.waitFor(tookOver, dashboard)
        self.assertTrue(self.served())
        self.waitFor(answered, dashboard)
        out = self.succeeds('add', '--import', 'z3c.taskqueue.testing',
                            'noop')
        self.assertEqual(self.statusOf(int(out))['status'], 'queued')
        # A worker that starts now uses the dashboard's server.
        worker = self.startWorker()

        def done():
            return self.statusOf(int(out))['status'] == 'completed'
        self.waitFor(done, worker)
        self.assertIn('Using the server of another process',
                      self.log('worker'))
        self.stop(worker)
        self.stop(dashboard)
        self.assertFalse(os.path.exists(self.socket))

    def test_a_pool_serves_its_workers_and_the_commands(self):
        pool = self.start('worker', '--import', 'z3c.taskqueue.testing',
                          '--wait', '0.05', '--processes', '2', name='pool')
        self.waitFor(self.served, pool)
        out = self.succeeds('add', '--import', 'z3c.taskqueue.testing',
                            'noop', '--count', '3')
        ids = [int(line) for line in out.splitlines()]

        def done():
            rows = json.loads(self.succeeds('jobs', '--json'))['jobs']
            return [row['status'] for row in rows] == ['completed'] * 3
        self.waitFor(done, pool)
        self.assertEqual(len(ids), 3)
        self.stop(pool)
        self.assertFalse(os.path.exists(self.socket))
        log = self.log('pool')
        # No INFO line of ZEO's (connections, servers) without -v.
        self.assertNotIn(' INFO ZEO', log)
        self.assertIn('Serving %s to local processes' % self.path, log)

    def test_a_stale_socket_is_replaced(self):
        with open(self.socket, 'w') as f:
            f.write('left by a killed worker')
        worker = self.startWorker()
        self.assertTrue(stat.S_ISSOCK(os.stat(self.socket).st_mode))
        self.stop(worker)
        self.assertFalse(os.path.exists(self.socket))


class HeldFileTests(unittest.TestCase):
    """A file held by a process that does not serve it: the command says
    what to do, in one line."""

    def setUp(self):
        import ZODB
        import ZODB.FileStorage
        from z3c.taskqueue.database import _sharing
        from z3c.taskqueue.model.service import TaskService
        self.directory = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.directory)
        self.path = os.path.join(self.directory, 'Data.fs')
        self.db = ZODB.DB(ZODB.FileStorage.FileStorage(self.path))
        self.addCleanup(self.db.close)
        connection = self.db.open()
        connection.root()['tasks'] = TaskService()
        transaction.commit()
        connection.close()
        wait = _sharing.WAIT
        _sharing.WAIT = 0.3
        self.addCleanup(setattr, _sharing, 'WAIT', wait)

    def test_a_command_says_to_use_a_zeo_server(self):
        from z3c.taskqueue.commands.command import main
        err = io.StringIO()
        with contextlib.redirect_stderr(err), \
                contextlib.redirect_stdout(io.StringIO()):
            status = main(['jobs', 'file://' + self.path, '--service',
                           'tasks'])
        self.assertEqual(status, 2)
        lines = err.getvalue().splitlines()
        self.assertEqual(len(lines), 1, lines)
        self.assertIn('%s is in use by another process, which does not'
                      ' share it (no server answers at %s.sock)'
                      % (self.path, self.path), lines[0])
        self.assertIn('run a ZEO server (runzeo -a 127.0.0.1:8100 -f %s)'
                      ' and use zeo://127.0.0.1:8100' % self.path, lines[0])

    def test_a_worker_says_so_too(self):
        from z3c.taskqueue.database import _sharing
        sharing = _sharing.Sharing('file://' + self.path)
        with self.assertRaises(_sharing.SharingError) as raised:
            sharing.start()
        self.assertIn('is in use by another process', str(raised.exception))
        self.assertFalse(os.path.exists(self.path + '.sock'))

    def test_too_long_a_path_has_no_socket(self):
        from z3c.taskqueue.database import _sharing
        self.assertIsNone(_sharing.socketPath('/' + 'x' * 200))
        self.assertEqual(_sharing.socketPath('/var/Data.fs'),
                         '/var/Data.fs.sock')


class SharingInProcessTests(unittest.TestCase):
    """``Sharing`` in this process: a real ZEO server in a thread, and a
    real client on its socket."""

    def setUp(self):
        from z3c.taskqueue.commands.command import main
        self.directory = tempfile.mkdtemp(prefix='tq-')
        self.addCleanup(shutil.rmtree, self.directory)
        self.uri = 'file://' + os.path.join(self.directory, 'Data.fs')
        with contextlib.redirect_stdout(io.StringIO()):
            self.assertEqual(main(['init', self.uri, '--service', 't']), 0)

    def test_a_restart_serves_a_new_storage_at_the_same_socket(self):
        from z3c.taskqueue.database import _sharing
        from z3c.taskqueue.database import _uri
        sharing = _sharing.Sharing(self.uri)
        served = sharing.start()
        self.addCleanup(sharing.stop)
        self.assertTrue(sharing.serving)
        db = _uri.openDatabase(served)
        self.addCleanup(db.close)
        first = sharing.server
        self.assertEqual(sharing.restart(), served)
        self.assertIsNot(sharing.server, first)
        again = _uri.openDatabase(served)
        self.addCleanup(again.close)
        tm = transaction.TransactionManager()
        connection = again.open(tm)
        connection.root()['x'] = 1
        tm.commit()
        connection.close()
        # The first client reconnects to the new server, and sees it
        # (until it notices that the old one went, it may still try it).
        from ZEO.Exceptions import ClientDisconnected

        def seesIt():
            connection = db.open(transaction.TransactionManager())
            try:
                return connection.root().get('x') == 1
            except ClientDisconnected:
                return False
            finally:
                connection.close()
        wait(seesIt, timeout=TIMEOUT)

    def test_a_socket_that_says_nothing_is_no_server(self):
        import socket
        import threading
        from z3c.taskqueue.database import _sharing
        address = os.path.join(self.directory, 'mute.sock')
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.addCleanup(listener.close)
        listener.bind(address)
        listener.listen(1)

        def hangUp():
            connection, unused = listener.accept()
            connection.close()
        thread = threading.Thread(target=hangUp, daemon=True)
        thread.start()
        self.assertFalse(_sharing.answers(address))
        thread.join(TIMEOUT)
        self.assertFalse(_sharing.answers(os.path.join(self.directory,
                                                       'none.sock')))


def test_suite():
    return unittest.defaultTestLoader.loadTestsFromName(__name__)
