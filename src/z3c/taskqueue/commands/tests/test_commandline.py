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
"""The real ``z3c-taskqueue`` command, as a person runs it: in a project's
directory, on a ZEO server, into a pipe that closes early, without an
extra."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import unittest

import transaction

from z3c.taskqueue.tests._workers import ProcessLayer


TIMEOUT = 120


class CommandLineTests(unittest.TestCase):

    layer = ProcessLayer

    def setUp(self):
        self.directory = tempfile.mkdtemp(prefix='tq-')
        self.addCleanup(shutil.rmtree, self.directory, True)
        # Nothing of the project's on the path but what the command adds.
        self.env = {name: value for name, value in os.environ.items()
                    if name != 'PYTHONPATH'}

    def run_command(self, *argv, cwd=None):
        from z3c.taskqueue.commands.command import workerCommand
        return subprocess.run(workerCommand() + list(argv),
                              capture_output=True, text=True,
                              timeout=TIMEOUT, cwd=cwd or self.directory,
                              env=self.env)

    def succeeds(self, *argv, **kw):
        result = self.run_command(*argv, **kw)
        self.assertEqual(result.returncode, 0, result.stderr)
        return result

    def test_import_and_zcml_find_the_project_in_the_current_directory(self):
        package = os.path.join(self.directory, 'myapp')
        os.mkdir(package)
        files = {
            '__init__.py': '',
            'tasks.py': '''\
                import zope.component
                from z3c.taskqueue.model.task import SimpleTask

                def shout(input):
                    return input.upper()

                def whisper(input):
                    return input.lower()

                zope.component.provideUtility(SimpleTask(shout),
                                              name='shout')
                ''',
            'configure.zcml': '''\
                <configure
                    xmlns:taskqueue="http://namespaces.zope.org/taskqueue">
                  <taskqueue:task name="whisper" handler=".tasks.whisper" />
                </configure>
                '''}
        for name, text in files.items():
            with open(os.path.join(package, name), 'w') as f:
                f.write(textwrap.dedent(text))
        uri = 'file://var/Data.fs'
        os.mkdir(os.path.join(self.directory, 'var'))
        self.succeeds('init', uri, '--service', 'tasks')
        loud = self.succeeds('add', uri, '--service', 'tasks', '--import',
                             'myapp.tasks', 'shout', '"hi"').stdout
        self.succeeds('worker', uri, '--service', 'tasks', '--import',
                      'myapp.tasks', '--wait', '0.05', '--exit-when-done')
        quiet = self.succeeds('add', uri, '--service', 'tasks', '--zcml',
                              'myapp/configure.zcml', 'whisper',
                              '"HO"').stdout
        self.succeeds('worker', uri, '--service', 'tasks', '--zcml',
                      'myapp/configure.zcml', '--wait', '0.05',
                      '--exit-when-done')
        for jobid, output in ((loud, "'HI'"), (quiet, "'ho'")):
            details = json.loads(self.succeeds(
                'show', uri, '--service', 'tasks', jobid.strip(),
                '--json').stdout)
            self.assertEqual((details['status'], details['output']),
                             ('completed', output))

    def test_zeo_says_nothing_unless_verbose(self):
        from z3c.taskqueue.testing import ZEOServer
        server = ZEOServer(os.path.join(self.directory, 'Data.fs')).start()
        self.addCleanup(server.stop)
        uri = 'zeo://127.0.0.1:%d' % server.port
        result = self.succeeds('init', uri, '--service', 'tasks')
        self.assertEqual(result.stderr, '')
        result = self.succeeds('status', uri, '--service', 'tasks')
        self.assertEqual(result.stderr, '')
        result = self.succeeds('-v', 'status', uri, '--service', 'tasks')
        self.assertIn('INFO ZEO.ClientStorage', result.stderr)

    def test_a_pipe_closed_early_ends_quietly(self):
        import ZODB
        import ZODB.FileStorage
        from z3c.taskqueue import testing
        from z3c.taskqueue.model.service import TaskService
        testing.registerTasks()
        path = os.path.join(self.directory, 'Data.fs')
        db = ZODB.DB(ZODB.FileStorage.FileStorage(path))
        try:
            connection = db.open()
            service = connection.root()['tasks'] = TaskService()
            for number in range(1000):
                service.add('noop', 'x' * 100)
            transaction.commit()
            connection.close()
        finally:
            db.close()
        from z3c.taskqueue.commands.command import workerCommand
        reader = subprocess.Popen(
            workerCommand() + ['jobs', 'file://' + path, '--service',
                               'tasks', '--json', '--limit', '1000'],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=self.env)
        # Far less than the output, which is more than a pipe holds.
        self.assertEqual(len(reader.stdout.read(100)), 100)
        reader.stdout.close()
        self.assertEqual(reader.wait(TIMEOUT), 141)
        self.assertEqual(reader.stderr.read(), b'')
        reader.stderr.close()

    def test_the_dashboard_without_its_extra_says_what_to_install(self):
        uri = 'file://' + os.path.join(self.directory, 'Data.fs')
        self.succeeds('init', uri, '--service', 'tasks')
        result = subprocess.run(
            [sys.executable, '-c',
             'import sys; sys.path[0:0] = %r;'
             ' sys.modules["chameleon"] = None;'
             ' from z3c.taskqueue.commands.command import main;'
             ' sys.exit(main(["dashboard", %r, "--service", "tasks"]))'
             % (sys.path, uri)],
            capture_output=True, text=True, timeout=TIMEOUT, env=self.env)
        self.assertEqual(result.returncode, 2)
        self.assertEqual(
            result.stderr,
            "z3c-taskqueue: error: the dashboard needs the extra 'dashboard'"
            " (there is no module 'chameleon'): pip install -e"
            " '.[dashboard]' in a checkout, or pip install"
            " 'z3c.taskqueue[dashboard]>=1.0.dev0'\n")


def test_suite():
    return unittest.defaultTestLoader.loadTestsFromName(__name__)
