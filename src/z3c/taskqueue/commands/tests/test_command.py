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
        from z3c.taskqueue.commands import demo
        demo.registerSampleTasks()

    def run_command(self, *argv):
        from z3c.taskqueue.commands.command import main
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
            'z3c.taskqueue.commands.demo', 'sum', '[1, 2, 3]', '--count', '5')
        self.assertEqual(status, 0, err)
        self.assertEqual(len(out.split()), 5, out)
        self.assertEqual(err, "added 5 jobs for task 'sum'\n")
        status, out, err = self.run_command('status', self.uri,
                                            '--service', 'tasks')
        self.assertIn('queued       5\n', out)
        status, out, err = self.run_command(
            'worker', self.uri, '--service', 'tasks', '--import',
            'z3c.taskqueue.commands.demo', '--wait', '0.05',
            '--exit-when-done')
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
                         "no task service at 'nosuch' (create one with:")

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
                          'z3c.taskqueue.commands.demo', 'nosuchtask'],
                         "no task is registered under the name 'nosuchtask'")

    def test_input_that_is_not_json(self):
        self.assertFails(['add', self.uri, '--service', 'tasks', '--import',
                          'z3c.taskqueue.commands.demo', 'sum', '[1, 2'],
                         'the input is not JSON')

    def test_bad_zcml_file(self):
        self.assertFails(['worker', self.uri, '--service', 'tasks',
                          '--zcml', os.path.join(self.directory, 'no.zcml')],
                         'cannot load ZCML file')

    def test_init_in_a_directory_that_is_not_there(self):
        missing = os.path.join(self.directory, 'var')
        self.assertFails(['init', 'file://%s/Data.fs' % missing,
                          '--service', 'tasks'],
                         "there is no directory %r for the database (mkdir"
                         " -p %s)" % (missing, missing))

    def test_init_needs_a_root_key(self):
        self.assertFails(['init', self.uri, '--service', 'a/b'],
                         'init creates a service under a key')

    def test_unknown_database_keyword_is_not_an_unknown_scheme(self):
        self.run_command('init', self.uri, '--service', 'tasks')
        self.assertFails(['status', self.uri + '?bogus=1', '--service', 't'],
                         "bad storage URI")

    def test_passwords_are_not_shown(self):
        from z3c.taskqueue.commands.command import redact
        self.assertEqual(redact('postgres://bob:s3cret@127.0.0.1:1/db'),
                         'postgres://bob:***@127.0.0.1:1/db')
        self.assertEqual(redact('zeo://127.0.0.1:8100'),
                         'zeo://127.0.0.1:8100')
        status, out, err = self.run_command(
            'status', 'nosuch://bob:s3cret@host/db', '--service', 'tasks')
        self.assertNotIn('s3cret', err)

    # Robustness (issue #8, items 6, 12 and 13)

    def test_numeric_options_are_checked(self):
        self.run_command('init', self.uri, '--service', 'tasks')
        for option, value in [('--lease', '0'), ('--lease', '-5'),
                              ('--lease', 'inf'), ('--lease', 'nan'),
                              ('--wait', '0'), ('--wait', '-1'),
                              ('--wait', 'nan'), ('--wait', 'inf'),
                              ('--stop-timeout', 'nan'),
                              ('--stop-timeout', '-1'),
                              ('--threads', '0'), ('--threads', 'two'),
                              ('--batch-size', '0'),
                              ('--batch-size', '1001'),
                              ('--batch-time', '0'),
                              ('--batch-time', 'nan')]:
            self.assertFails(
                ['worker', self.uri, '--service', 'tasks', '--import',
                 'z3c.taskqueue.testing', option, value],
                'argument %s: must be' % option)

    def test_queue_names_are_checked(self):
        self.run_command('init', self.uri, '--service', 'tasks')
        for name in ('', ' padded', 'x' * 101):
            self.assertFails(
                ['worker', self.uri, '--service', 'tasks', '--import',
                 'z3c.taskqueue.testing', '--queue', name],
                'argument --queue: a queue name must be')

    def test_a_worker_serves_only_its_queues(self):
        from z3c.taskqueue import testing
        from z3c.taskqueue.commands.command import openDatabase
        testing.registerTasks()
        self.run_command('init', self.uri, '--service', 'tasks')
        db = openDatabase(self.uri)
        try:
            connection = db.open()
            service = connection.root()['tasks']
            mine = [service.add('noop', queue='mine') for i in range(3)]
            theirs = [service.add('noop', queue='theirs') for i in range(2)]
            connection.transaction_manager.commit()
            connection.close()
        finally:
            db.close()
        status, out, err = self.run_command('status', self.uri,
                                            '--service', 'tasks')
        self.assertIn('queued jobs by queue:\n', out)
        self.assertRegex(out, r'  mine +3\n  theirs +2\n')
        status, out, err = self.run_command(
            'worker', self.uri, '--service', 'tasks', '--import',
            'z3c.taskqueue.testing', '--wait', '0.05', '--queue', 'mine',
            '--exit-when-done')
        self.assertEqual(status, 0, err)
        status, out, err = self.run_command('status', self.uri,
                                            '--service', 'tasks')
        self.assertIn('completed    3\n', out)
        self.assertIn('queued       2\n', out)
        db = openDatabase(self.uri)
        try:
            connection = db.open()
            service = connection.root()['tasks']
            self.assertEqual([service.getStatus(i) for i in mine + theirs],
                             ['completed'] * 3 + ['queued'] * 2)
            connection.close()
        finally:
            db.close()

    def test_add_count_is_checked(self):
        self.run_command('init', self.uri, '--service', 'tasks')
        for count in ('0', '-5', 'many'):
            self.assertFails(
                ['add', self.uri, '--service', 'tasks', '--import',
                 'z3c.taskqueue.testing', 'noop', '--count', count],
                'argument --count: must be an integer from 1')

    def test_a_module_that_exits_while_imported(self):
        import sys
        self.addCleanup(sys.path.remove, self.directory)
        sys.path.insert(0, self.directory)
        for name, body, message in [
                ('exits_softly', 'import sys\nsys.exit(3)\n',
                 "module 'exits_softly' called sys.exit(3)"),
                ('exits_hard', 'import os\nos._exit(0)\n',
                 "module 'exits_hard' called os._exit(0)")]:
            with open(os.path.join(self.directory, name + '.py'), 'w') as f:
                f.write(body)
            self.addCleanup(sys.modules.pop, name, None)
            self.assertFails(['worker', self.uri, '--service', 'tasks',
                              '--import', name], message)

    def test_init_on_a_key_that_holds_something_else(self):
        import transaction
        import ZODB
        import ZODB.FileStorage
        db = ZODB.DB(ZODB.FileStorage.FileStorage(self.uri[7:]))
        connection = db.open()
        connection.root()['tasks'] = {'not': 'a service'}
        transaction.commit()
        connection.close()
        db.close()
        self.assertFails(['init', self.uri, '--service', 'tasks'],
                         "the root key 'tasks' holds {'not': 'a service'},"
                         " not a task service")

    def test_a_mistyped_path_creates_no_database(self):
        # The worker loads its tasks first: there must be some.
        from z3c.taskqueue import testing
        testing.registerTasks()
        missing = 'file://' + os.path.join(self.directory, 'Dtaa.fs')
        for argv in (['status', missing, '--service', 'tasks'],
                     ['worker', missing, '--service', 'tasks', '--import',
                      'z3c.taskqueue.testing'],
                     ['add', missing, '--service', 'tasks', '--import',
                      'z3c.taskqueue.testing', 'noop']):
            self.assertFails(argv, 'there is no database at')
        self.assertEqual(os.listdir(self.directory), [])

    def test_passwords_in_the_query_are_not_shown(self):
        from z3c.taskqueue.commands.command import redact
        from z3c.taskqueue.testing import freePort
        self.assertEqual(redact('zeo://127.0.0.1:1?password=s3cret&x=1'),
                         'zeo://127.0.0.1:1?password=***&x=1')
        self.assertEqual(redact('oracle://?user=u&dsn=u/s3cret@db'),
                         'oracle://?user=u&dsn=***')
        status, out, err = self.run_command(
            'status', 'zeo://127.0.0.1:%d?password=s3cret&wait_timeout=1'
            % freePort(), '--service', 'tasks')
        self.assertEqual(status, 2)
        self.assertIn('password=***', err)
        self.assertNotIn('s3cret', err)

    def test_a_products_zcml_with_relative_names_loads(self):
        # A product's configure.zcml names its handlers relative to its
        # package, and need not include z3c.taskqueue's meta.zcml.
        import sys
        package = os.path.join(self.directory, 'myproduct')
        os.mkdir(package)
        with open(os.path.join(package, '__init__.py'), 'w') as f:
            f.write('')
        with open(os.path.join(package, 'tasks.py'), 'w') as f:
            f.write('def shout(input):\n    return input.upper()\n')
        with open(os.path.join(package, 'configure.zcml'), 'w') as f:
            f.write('<configure xmlns:taskqueue='
                    '"http://namespaces.zope.org/taskqueue">\n'
                    '  <taskqueue:task name="shout"'
                    ' handler=".tasks.shout" />\n'
                    '</configure>\n')
        sys.path.insert(0, self.directory)
        self.addCleanup(sys.path.remove, self.directory)
        self.addCleanup(sys.modules.pop, 'myproduct', None)
        self.addCleanup(sys.modules.pop, 'myproduct.tasks', None)
        from z3c.taskqueue.commands.command import loadTasks
        self.assertEqual(
            loadTasks([], [os.path.join(package, 'configure.zcml')]),
            ['shout'])

    def test_worker_needs_a_uri_or_a_zope_conf(self):
        self.assertFails(['worker', '--service', 'tasks', '--import',
                          'z3c.taskqueue.testing'],
                         'worker needs a database URI or --zope-conf')
        self.assertFails(['worker', '--zope-conf',
                          os.path.join(self.directory, 'zope.conf'),
                          '--service', 'site1@tasks'],
                         'there is no Zope configuration file')

    def test_python_command_runs_a_module_with_this_path(self):
        # What workers are started with where no z3c-taskqueue script
        # lies next to the interpreter, as under buildout.
        import subprocess
        from z3c.taskqueue.commands.command import pythonCommand
        result = subprocess.run(
            pythonCommand('z3c.taskqueue.commands.command') + ['--help'],
            capture_output=True, text=True, timeout=60,
            env=dict(os.environ, PYTHONPATH=''))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn('usage: z3c-taskqueue', result.stdout)
