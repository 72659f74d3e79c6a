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
"""The z3c-taskqueue command: its subcommands and its one-line errors."""
import contextlib
import io
import os
import shutil
import tempfile
import unittest

import zope.component.testing


class CommandTests(unittest.TestCase):

    def setUp(self):
        zope.component.testing.setUp(self)
        self.addCleanup(zope.component.testing.tearDown, self)
        self.directory = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.directory)
        self.uri = 'file://' + os.path.join(self.directory, 'Data.fs')

    def registerDemoTasks(self):
        # --import registers the demo's tasks when it first imports the
        # module; this process may have imported it before.
        from z3c.taskqueue import demo
        demo.registerSampleTasks()

    def run_command(self, *argv):
        from z3c.taskqueue.command import main
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = main(list(argv))
        return status, out.getvalue(), err.getvalue()

    def assertFails(self, argv, message):
        status, out, err = self.run_command(*argv)
        self.assertEqual(status, 2)
        lines = err.strip().splitlines()
        self.assertEqual(len(lines), 1, err)
        self.assertTrue(lines[0].startswith('z3c-taskqueue: error: '), err)
        self.assertIn(message, lines[0])
        self.assertNotIn('Traceback', err)

    def test_init_then_status(self):
        status, out, err = self.run_command('init', self.uri,
                                            '--service', 'tasks')
        self.assertEqual((status, out), (0, "created a task service at"
                                            " 'tasks'\n"))
        status, out, err = self.run_command('init', self.uri,
                                            '--service', 'tasks')
        self.assertIn('exists at', out)
        status, out, err = self.run_command('status', self.uri,
                                            '--service', 'tasks')
        self.assertEqual(status, 0)
        self.assertIn('queued       0\n', out)
        self.assertIn('oldest queued job: none', out)

    def test_add_then_work_until_done(self):
        self.registerDemoTasks()
        self.run_command('init', self.uri, '--service', 'tasks')
        status, out, err = self.run_command(
            'add', self.uri, '--service', 'tasks', '--import',
            'z3c.taskqueue.demo', 'sum', '[1, 2, 3]', '--count', '5')
        self.assertEqual(status, 0, err)
        self.assertIn("added 5 job(s) for task 'sum'", out)
        status, out, err = self.run_command('status', self.uri,
                                            '--service', 'tasks')
        self.assertIn('queued       5\n', out)
        status, out, err = self.run_command(
            'worker', self.uri, '--service', 'tasks', '--import',
            'z3c.taskqueue.demo', '--wait', '0.05', '--exit-when-done')
        self.assertEqual(status, 0, err)
        self.assertIn('5 jobs done, 0 to go', err)
        status, out, err = self.run_command('status', self.uri,
                                            '--service', 'tasks')
        self.assertIn('completed    5\n', out)
        self.assertIn('queued       0\n', out)

    def test_unknown_uri_scheme(self):
        self.assertFails(['status', 'nosuch://x', '--service', 'tasks'],
                         "unknown storage URI scheme in 'nosuch://x'")

    def test_unreachable_zeo_server(self):
        from z3c.taskqueue.testing import freePort
        self.assertFails(
            ['status', 'zeo://127.0.0.1:%d?wait_timeout=1' % freePort(),
             '--service', 'tasks'], 'cannot open the storage')

    def test_missing_service(self):
        self.run_command('init', self.uri, '--service', 'tasks')
        self.assertFails(['status', self.uri, '--service', 'nosuch'],
                         "no task service at ['nosuch']")

    def test_module_that_does_not_import(self):
        self.assertFails(['worker', self.uri, '--service', 'tasks',
                          '--import', 'no.such.module'],
                         "cannot import module 'no.such.module'")

    def test_worker_without_tasks(self):
        self.assertFails(['worker', self.uri, '--service', 'tasks'],
                         'no task is registered')

    def test_task_name_with_no_task(self):
        self.registerDemoTasks()
        self.run_command('init', self.uri, '--service', 'tasks')
        self.assertFails(['add', self.uri, '--service', 'tasks', '--import',
                          'z3c.taskqueue.demo', 'nosuchtask'],
                         "no task is registered under the name 'nosuchtask'")

    def test_input_that_is_not_json(self):
        self.assertFails(['add', self.uri, '--service', 'tasks', '--import',
                          'z3c.taskqueue.demo', 'sum', '[1, 2'],
                         'the input is not JSON')

    def test_bad_zcml_file(self):
        self.assertFails(['worker', self.uri, '--service', 'tasks',
                          '--zcml', os.path.join(self.directory, 'no.zcml')],
                         'cannot load ZCML file')

    def test_init_needs_a_root_key(self):
        self.assertFails(['init', self.uri, '--service', 'a/b'],
                         'init creates a service under a key')

    def test_unknown_database_keyword_is_not_an_unknown_scheme(self):
        self.run_command('init', self.uri, '--service', 'tasks')
        self.assertFails(['status', self.uri + '?bogus=1', '--service', 't'],
                         "bad storage URI")

    def test_passwords_are_not_shown(self):
        from z3c.taskqueue.command import redact
        self.assertEqual(redact('postgres://bob:s3cret@127.0.0.1:1/db'),
                         'postgres://bob:***@127.0.0.1:1/db')
        self.assertEqual(redact('zeo://127.0.0.1:8100'),
                         'zeo://127.0.0.1:8100')
        status, out, err = self.run_command(
            'status', 'nosuch://bob:s3cret@host/db', '--service', 'tasks')
        self.assertNotIn('s3cret', err)

    def test_python_command_runs_a_module_with_this_path(self):
        # What workers are started with where no z3c-taskqueue script
        # lies next to the interpreter, as under buildout.
        import subprocess
        from z3c.taskqueue.command import pythonCommand
        result = subprocess.run(
            pythonCommand('z3c.taskqueue.command') + ['--help'],
            capture_output=True, text=True, timeout=60,
            env=dict(os.environ, PYTHONPATH=''))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn('usage: z3c-taskqueue', result.stdout)
