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
"""The demo behind ``make demo`` runs its jobs for real."""
import io
import os
import shutil
import tempfile
import unittest

import zope.component.testing


class DemoTests(unittest.TestCase):

    def setUp(self):
        zope.component.testing.setUp(self)
        self.addCleanup(zope.component.testing.tearDown, self)
        directory = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, directory)
        self.path = os.path.join(directory, 'var', 'demo.fs')

    def run_demo(self):
        from z3c.taskqueue.commands.demo import run
        out = io.StringIO()
        with tempfile.TemporaryFile('w+') as log:
            run(self.path, out, workerLog=log)
            log.seek(0)
            self.assertIn('no job left to do', log.read())
        return out.getvalue()

    def test_every_job_finishes_with_the_expected_result(self):
        output = self.run_demo()
        self.assertIn('200 completed, 1 cronjob, 1 error', output)
        self.assertIn('$ z3c-taskqueue worker file://', output)
        lines = output.splitlines()
        results = [line.split(None, 3)[1:] for line in lines
                   if len(line.split()) >= 4
                   and line.split()[1] in ('echo', 'sum', 'divide')]
        self.assertEqual(results, [
            ['echo', 'completed', "{'greeting': 'hello'}"],
            ['sum', 'completed', '10'],
            ['divide', 'error', "'cannot divide 1 by zero'"],
            ['divide', 'completed', '3.142857142857143'],
            ['echo', 'completed', "'two seconds later'"],
            ['sum', 'cronjob', 'None']])
        self.assertRegex(output, r'cron job \d+ \(\*/30 \* \* \* \* in'
                         r' Europe/Berlin\) waits for \d\d:[03]0 CES?T')

    def test_a_second_run_cleans_up_the_first(self):
        self.run_demo()
        output = self.run_demo()
        # The 200 jobs and the delayed job of this run, and its cancelled
        # cron job; the first run's finished jobs were cleaned away.
        self.assertIn('202 jobs stored in %s' % self.path, output)
