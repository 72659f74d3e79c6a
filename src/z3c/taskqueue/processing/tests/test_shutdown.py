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
"""Processors stop with their process: at a normal exit and on SIGTERM.

A real process starts processing with ``startProcessing()``, as Zope does
at startup, while a job runs that does not end in time.
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import transaction

from z3c.taskqueue.tests._workers import ProcessLayer


SCRIPT = '''
import logging, os, signal, sys, time
logging.basicConfig(level=logging.INFO, stream=sys.stdout,
                    format='%(levelname)s %(message)s')
import ZODB, ZODB.FileStorage
from z3c.taskqueue import testing          # registers the tasks
db = ZODB.DB(ZODB.FileStorage.FileStorage(sys.argv[1]))
connection = db.open()
connection.root()['tasks'].startProcessing()
print('started', flush=True)
deadline = time.time() + 60
while not os.path.exists(sys.argv[2] + '.started'):
    assert time.time() < deadline
    time.sleep(0.02)
print('running', flush=True)
if sys.argv[3] == 'serve':
    while True:
        time.sleep(1)       # a server, until a signal ends it
connection.close()          # and the script ends; the job still runs
'''


class ShutdownTests(unittest.TestCase):

    layer = ProcessLayer

    def setUp(self):
        import ZODB
        import ZODB.FileStorage
        import zope.component.testing
        from z3c.taskqueue import testing
        from z3c.taskqueue.model.service import TaskService
        zope.component.testing.setUp(self)
        self.addCleanup(zope.component.testing.tearDown, self)
        testing.registerTasks()
        self.directory = tempfile.mkdtemp(prefix='z3c.taskqueue-exit-')
        self.addCleanup(shutil.rmtree, self.directory, True)
        self.path = os.path.join(self.directory, 'Data.fs')
        self.pause = os.path.join(self.directory, 'pause')
        open(self.pause, 'w').close()
        db = ZODB.DB(ZODB.FileStorage.FileStorage(self.path))
        tm = transaction.TransactionManager()
        connection = db.open(tm)
        root = connection.root()
        root['tasks'] = service = TaskService()
        service.__name__ = 'tasks'
        service.processorArguments = {'waitTime': 0.05, 'stopTimeout': 1.0}
        self.jobid = service.add('pause', self.pause)
        tm.commit()
        connection.close()
        db.close()

    def run_script(self, mode):
        script = os.path.join(self.directory, 'app.py')
        with open(script, 'w') as f:
            f.write('import sys; sys.path[0:0] = %r\n' % (sys.path,))
            f.write(SCRIPT)
        self.log = os.path.join(self.directory, 'app.log')
        with open(self.log, 'w') as out:
            process = subprocess.Popen(
                [sys.executable, script, self.path, self.pause, mode],
                stdout=out, stderr=subprocess.STDOUT)
        self.addCleanup(self.kill, process)
        return process

    def kill(self, process):
        if process.poll() is None:
            process.kill()
            process.wait()

    def waitForLog(self, text, process, timeout=60):
        deadline = time.time() + timeout
        while text not in self.output():
            if process.poll() is not None or time.time() > deadline:
                self.fail('%r not in the log:\n%s' % (text, self.output()))
            time.sleep(0.05)

    def output(self):
        with open(self.log) as f:
            return f.read()

    def job(self):
        import ZODB
        import ZODB.FileStorage
        db = ZODB.DB(ZODB.FileStorage.FileStorage(self.path,
                                                  read_only=True))
        try:
            connection = db.open()
            job = connection.root()['tasks'].jobs[self.jobid]
            return job.status, job.attempts, job.error
        finally:
            db.close()

    def assertGivenBack(self):
        status, attempts, error = self.job()
        self.assertEqual((status, attempts), ('queued', 1), self.output())
        self.assertIn('stopped before the job ended', error)
        log = self.output()
        self.assertIn('gave back %d for other workers' % self.jobid, log)
        self.assertIn('Processor taskqueue.tasks stopped', log)
        self.assertNotIn('Traceback', log)

    def test_sigterm_stops_the_processors_then_ends_the_process(self):
        process = self.run_script('serve')
        self.waitForLog('running', process)
        started = time.time()
        process.send_signal(signal.SIGTERM)
        status = process.wait(60)
        self.assertEqual(status, -signal.SIGTERM, self.output())
        self.assertLess(time.time() - started, 30)
        self.assertIn('SIGTERM received: stopping', self.output())
        self.assertGivenBack()

    def test_a_normal_exit_stops_the_processors(self):
        process = self.run_script('exit')
        status = process.wait(60)
        self.assertEqual(status, 0, self.output())
        self.assertGivenBack()
