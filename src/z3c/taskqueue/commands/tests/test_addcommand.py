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
"""``z3c-taskqueue add``: the options of ``add()`` and ``addCronJob()``
on the command line, and its output, one id a line."""
import datetime
import json
import os
import unittest

from z3c.taskqueue.commands.tests import test_command


class AddCommandTests(unittest.TestCase):

    run_command = test_command.CommandTests.run_command
    assertFails = test_command.CommandTests.assertFails

    def setUp(self):
        from z3c.taskqueue import testing
        test_command.CommandTests.setUp(self)
        testing.registerTasks()
        self.run_command('init', self.uri, '--service', 'tasks')

    def add(self, *argv):
        status, out, err = self.run_command(
            'add', self.uri, '--service', 'tasks', '--import',
            'z3c.taskqueue.testing', *argv)
        self.assertEqual(status, 0, err)
        return out, err

    def jobs(self, *ids):
        """Return the stored jobs ``ids``, with their statuses."""
        import ZODB
        import ZODB.FileStorage
        db = ZODB.DB(ZODB.FileStorage.FileStorage(
            os.path.join(self.directory, 'Data.fs')))
        try:
            connection = db.open()
            service = connection.root()['tasks']
            found = [(service.jobs[jobid], service.getStatus(jobid))
                     for jobid in ids]
            for job, status in found:
                job._p_activate()
            connection.close()
        finally:
            db.close()
        return found

    def test_one_id_a_line(self):
        out, err = self.add('noop', '--count', '3')
        ids = [int(line) for line in out.splitlines()]
        self.assertEqual(len(set(ids)), 3)
        self.assertEqual(err, "added 3 jobs for task 'noop'\n")
        self.assertEqual([status for job, status in self.jobs(*ids)],
                         ['queued'] * 3)

    def test_json(self):
        out, err = self.add('noop', '[1]', '--json')
        report = json.loads(out)
        self.assertEqual(report['task'], 'noop')
        self.assertEqual(report['ids'], report['added'])
        self.assertEqual(len(report['ids']), 1)

    def test_queue_priority_timeout_expires_and_run_as(self):
        out, err = self.add('noop', '--queue', 'mail', '--priority', '7',
                            '--timeout', '30', '--expires', '600',
                            '--run-as', 'bob')
        (job, status), = self.jobs(int(out))
        self.assertEqual((job.queue, job.priority, job.timeout, job.runAs),
                         ('mail', 7, 30, 'bob'))
        self.assertEqual(status, 'queued')
        self.assertIsNotNone(job.expires)

    def test_expires_at_an_iso_time(self):
        when = datetime.datetime(2099, 1, 2, 3, 4, tzinfo=datetime.timezone(
            datetime.timedelta(hours=2)))
        out, err = self.add('noop', '--expires', when.isoformat())
        (job, status), = self.jobs(int(out))
        self.assertEqual(job.expires, when.timestamp())
        self.assertFails(['add', self.uri, '--service', 'tasks', '--import',
                          'z3c.taskqueue.testing', 'noop', '--expires',
                          '2099-01-02T03:04'],
                         'argument --expires: needs its offset from UTC')

    def test_a_key_adds_once(self):
        first, err = self.add('noop', '--key', 'k', '--start-later')
        self.assertEqual(err, "added 1 job for task 'noop'\n")
        again, err = self.add('noop', '--key', 'k')
        self.assertEqual(first, again)
        self.assertEqual(err, "job %s with the key 'k' waits already:"
                         " added nothing\n" % first.strip())
        (job, status), = self.jobs(int(first))
        self.assertEqual((job.key, status), ('k', 'start later'))

    def test_after(self):
        one, err = self.add('noop')
        two, err = self.add('noop')
        out, err = self.add('noop', '--after', one.strip(), '--after',
                            two.strip())
        (job, status), = self.jobs(int(out))
        self.assertEqual(sorted(job.after), sorted([int(one), int(two)]))
        self.assertEqual(status, 'blocked')
        self.assertFails(['add', self.uri, '--service', 'tasks', '--import',
                          'z3c.taskqueue.testing', 'noop', '--after', 'x'],
                         'argument --after: must be job ids')

    def test_a_delayed_job(self):
        out, err = self.add('noop', '--delay', '90', '--queue', 'later',
                            '--priority', '-3')
        self.assertEqual(err, "added 1 delayed job for task 'noop'\n")
        (job, status), = self.jobs(int(out))
        self.assertEqual((status, job.delay, job.queue, job.priority),
                         ('delayed', 90, 'later', -3))

    def test_a_cron_job_in_a_time_zone(self):
        out, err = self.add('noop', '--cron', '30 8 * * MON-FRI',
                            '--timezone', 'Europe/Berlin', '--misfire',
                            'skip', '--misfire-grace', '600')
        self.assertEqual(err, "added 1 cron job for task 'noop'\n")
        (job, status), = self.jobs(int(out))
        self.assertEqual((status, job.cron, job.timezone, job.misfire,
                          job.misfireGrace),
                         ('cronjob', '30 8 * * MON-FRI', 'Europe/Berlin',
                          'skip', 600))

    def test_a_cron_job_of_the_old_fields(self):
        out, err = self.add('noop', '--minute', '0,30', '--hour', '8',
                            '--day-of-week', '0,1,2,3,4')
        (job, status), = self.jobs(int(out))
        self.assertEqual((job.minute, job.hour, job.dayOfWeek),
                         ((0, 30), (8,), (0, 1, 2, 3, 4)))

    def test_bad_cron_values_are_one_line(self):
        self.assertFails(['add', self.uri, '--service', 'tasks', '--import',
                          'z3c.taskqueue.testing', 'noop', '--cron',
                          '61 * * * *'], 'minute')
        self.assertFails(['add', self.uri, '--service', 'tasks', '--import',
                          'z3c.taskqueue.testing', 'noop', '--cron', '@daily',
                          '--timezone', 'Mars/Olympus'], 'Mars/Olympus')

    def test_options_of_plain_and_cron_jobs_do_not_mix(self):
        self.assertFails(['add', self.uri, '--service', 'tasks', '--import',
                          'z3c.taskqueue.testing', 'noop', '--delay', '5',
                          '--key', 'k', '--timeout', '3'],
                         '--key, --timeout cannot be used with a cron or'
                         ' delayed job')
        self.assertFails(['add', self.uri, '--service', 'tasks', '--import',
                          'z3c.taskqueue.testing', 'noop', '--timezone',
                          'UTC'], '--timezone cannot be used with a plain'
                         ' job')

    def test_numbers_are_checked(self):
        for option, value, message in (
                ('--priority', '11', 'must be an integer from -10 to 10'),
                ('--timeout', '0', 'must be more than 0 seconds'),
                ('--delay', '-1', 'must be a number of seconds'),
                ('--delay', 'nan', 'must be a number of seconds'),
                ('--minute', 'x', 'must be numbers separated by commas')):
            self.assertFails(['add', self.uri, '--service', 'tasks',
                              '--import', 'z3c.taskqueue.testing', 'noop',
                              option, value],
                             'argument %s: %s' % (option, message))


class ExclusiveWorkerTests(unittest.TestCase):
    """``worker --exclusive`` opens a file:// database itself and serves
    it to no other process."""

    run_command = test_command.CommandTests.run_command
    assertFails = test_command.CommandTests.assertFails

    def setUp(self):
        from z3c.taskqueue import testing
        test_command.CommandTests.setUp(self)
        testing.registerTasks()
        self.run_command('init', self.uri, '--service', 'tasks')

    def work(self, *options):
        self.run_command('add', self.uri, '--service', 'tasks', '--import',
                         'z3c.taskqueue.testing', 'noop', '--count', '2')
        with self.assertLogs('z3c_taskqueue', 'INFO') as logs:
            status, out, err = self.run_command(
                'worker', self.uri, '--service', 'tasks', '--import',
                'z3c.taskqueue.testing', '--wait', '0.05',
                '--exit-when-done', *options)
        self.assertEqual(status, 0, err)
        self.assertIn('2 jobs done, 0 to go', err)
        return [record.getMessage() for record in logs.records]

    def test_a_worker_serves_the_file_unless_exclusive(self):
        served = [line for line in self.work()
                  if line.startswith('Serving ')]
        self.assertEqual(len(served), 1)
        self.assertEqual([line for line in self.work('--exclusive')
                          if line.startswith('Serving ')], [])
        self.assertFalse(os.path.exists(self.uri[7:] + '.sock'))

    def test_not_with_a_pool(self):
        self.assertFails(['worker', self.uri, '--service', 'tasks',
                          '--import', 'z3c.taskqueue.testing',
                          '--exclusive', '--processes', '2'],
                         '--exclusive cannot be used with --processes')


def test_suite():
    return unittest.defaultTestLoader.loadTestsFromName(__name__)
