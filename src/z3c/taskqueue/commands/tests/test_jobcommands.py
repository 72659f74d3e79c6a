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
"""The job commands: ``jobs``, ``show``, ``cancel``, ``retry``,
``clean``, ``cron`` and ``status``, on a real FileStorage."""
import json
import os
import re
import time
import unittest

import transaction

from z3c.taskqueue.commands.tests import test_command


class JobCommandTests(unittest.TestCase):

    # The helpers of the command tests, not their tests.
    run_command = test_command.CommandTests.run_command
    assertFails = test_command.CommandTests.assertFails
    registerDemoTasks = test_command.CommandTests.registerDemoTasks

    def setUp(self):
        test_command.CommandTests.setUp(self)
        self.registerDemoTasks()
        self.run_command('init', self.uri, '--service', 'tasks')
        self.db = None

    def service(self):
        """Open the database; return the service (closed at cleanup, or
        by ``close()`` before a command runs)."""
        import ZODB
        import ZODB.FileStorage
        self.db = ZODB.DB(ZODB.FileStorage.FileStorage(
            os.path.join(self.directory, 'Data.fs')))
        self.tm = transaction.TransactionManager()
        self.connection = self.db.open(self.tm)
        self.addCleanup(self.close)
        return self.connection.root()['tasks']

    def close(self):
        if self.db is not None:
            self.tm.abort()
            self.connection.close()
            self.db.close()
            self.db = None

    def prepare(self):
        """Store a completed, a failed, a queued and a cron job."""
        service = self.service()
        self.done = service.add('sum', [1, 2])
        self.failed = service.add('sum', 'oops')
        service.processNext(jobid=self.done)
        service.processNext(jobid=self.failed)
        time.sleep(0.002)
        self.queued = service.add('sum', [3], queue='other')
        self.cron = service.addCronJob('sum', [4], cron='30 6 * * 1-5',
                                       timezone='Europe/Berlin')
        self.tm.commit()
        self.close()

    def command(self, *argv):
        status, out, err = self.run_command(argv[0], self.uri, '--service',
                                            'tasks', *argv[1:])
        self.assertEqual(status, 0, err)
        return out

    def test_jobs_lists_newest_first(self):
        self.prepare()
        header, *lines = self.command('jobs').splitlines()
        self.assertEqual(header.split(), ['ID', 'TASK', 'STATUS', 'QUEUE',
                                          'TRIES', 'AGE', 'ERROR'])
        self.assertEqual([int(line.split()[0]) for line in lines],
                         [self.cron, self.queued, self.failed, self.done])
        self.assertIn('error', lines[2])
        self.assertIn('TypeError: unsupported operand', lines[2])
        # The columns line up under the header.
        for line in lines:
            self.assertEqual(line.index(line.split()[2]),
                             header.index('STATUS'))

    def test_jobs_says_when_there_are_none(self):
        self.assertEqual(self.command('jobs'), 'no jobs\n')

    def test_jobs_filters_and_pages(self):
        self.prepare()
        out = self.command('jobs', '--status', 'error', '--json')
        page = json.loads(out)
        self.assertEqual([row['id'] for row in page['jobs']], [self.failed])
        self.assertIsNone(page['next'])
        self.assertEqual(page['jobs'][0]['task'], 'sum')
        out = self.command('jobs', '--queue', 'other')
        self.assertEqual(int(out.splitlines()[1].split()[0]), self.queued)
        out = self.command('jobs', '--limit', '2')
        self.assertEqual(len(out.splitlines()), 4)
        cursor = out.splitlines()[-1].split()[-1]
        self.assertEqual(out.splitlines()[-1], 'more: --after ' + cursor)
        rest = self.command('jobs', '--after', cursor)
        self.assertEqual([int(line.split()[0])
                          for line in rest.splitlines()[1:]],
                         [self.failed, self.done])

    def test_jobs_refuses_bad_filters(self):
        self.assertFails(['jobs', self.uri, '--service', 'tasks', '--status',
                          'done'], "argument --status: invalid choice")
        self.assertFails(['jobs', self.uri, '--service', 'tasks', '--limit',
                          '0'], 'must be an integer from 1 to 10000')

    def test_jobs_refuses_a_cursor_out_of_range(self):
        self.prepare()
        for after in ('9223372036854775807', str(2 ** 63), str(10 ** 30)):
            self.assertFails(['jobs', self.uri, '--service', 'tasks',
                              '--after', after],
                             'after must be a cursor that listJobs()'
                             ' returned, not %s' % after)

    def test_job_ids_out_of_range_are_unknown(self):
        self.prepare()
        for command in ('show', 'cancel', 'retry'):
            self.assertFails([command, self.uri, '--service', 'tasks',
                              '99999999999999999999'],
                             'there is no job 99999999999999999999')

    def test_show_tells_everything(self):
        self.prepare()
        out = self.command('show', str(self.failed))
        self.assertIn('status:      error\n', out)
        self.assertIn("input:       'oops'\n", out)
        self.assertIn('traceback:\n    Traceback (most recent call last):',
                      out)
        details = json.loads(self.command('show', str(self.failed),
                                          '--json'))
        self.assertEqual(details['attempts'], 1)
        self.assertTrue(details['error'].startswith('TypeError'))

    def test_show_a_cron_job_with_its_next_times_in_its_zone(self):
        self.prepare()
        details = json.loads(self.command('show', str(self.cron), '--json'))
        self.assertEqual(details['cron'], '30 6 * * 1-5')
        self.assertEqual(details['timezone'], 'Europe/Berlin')
        self.assertEqual(len(details['next']), 3)
        for moment in details['next']:
            self.assertRegex(moment, r'T06:30:00\+0[12]:00$')

    def test_show_cuts_long_inputs_unless_full(self):
        service = self.service()
        jobid = service.add('sum', list(range(2000)))
        self.tm.commit()
        self.close()
        out = self.command('show', str(jobid))
        self.assertIn('characters; --full shows all)', out)
        self.assertIn('1999]', self.command('show', str(jobid), '--full'))

    def test_show_an_unknown_job(self):
        self.assertFails(['show', self.uri, '--service', 'tasks', '99'],
                         'there is no job 99')
        self.assertFails(['show', self.uri, '--service', 'tasks', 'x'],
                         "a job id is an integer, not 'x'")

    def test_cancel_and_retry(self):
        self.prepare()
        out = self.command('cancel', str(self.queued), str(self.done))
        self.assertEqual(out.splitlines(), [
            '%d: cancelled' % self.queued,
            '%d: left completed (only waiting jobs can be cancelled)'
            % self.done])
        out = self.command('retry', str(self.queued), str(self.failed),
                           str(self.done))
        self.assertEqual(out.splitlines()[:2], [
            '%d: queued again' % self.queued,
            '%d: queued again' % self.failed])
        self.assertIn('only jobs that failed or were cancelled',
                      out.splitlines()[2])
        rows = json.loads(self.command('cancel', str(self.queued),
                                       str(self.done), '--json'))
        self.assertEqual([(row['id'], row['done'], row['status'])
                          for row in rows],
                         [(self.queued, True, 'cancelled'),
                          (self.done, False, 'completed')])
        rows = json.loads(self.command('retry', str(self.queued), '--json'))
        self.assertEqual(rows[0]['status'], 'queued')
        service = self.service()
        self.assertEqual(service.getStatus(self.queued), 'queued')
        self.assertEqual(service.jobs[self.failed].attempts, 0)

    def test_cancel_says_when_a_job_was_cancelled_already(self):
        self.prepare()
        self.assertEqual(self.command('cancel', str(self.queued)),
                         '%d: cancelled\n' % self.queued)
        self.assertEqual(self.command('cancel', str(self.queued)),
                         '%d: already cancelled\n' % self.queued)
        rows = json.loads(self.command('cancel', str(self.queued),
                                       '--json'))
        self.assertEqual([(row['done'], row['status'], row['message'])
                          for row in rows],
                         [(False, 'cancelled', 'already cancelled')])

    def test_show_lines_up_the_values_of_a_cron_job(self):
        self.prepare()
        service = self.service()
        service.processNext()   # schedules the cron job
        self.tm.commit()
        self.close()
        lines = [line for line in
                 self.command('show', str(self.cron)).splitlines()
                 if not line.startswith(' ') and not line.endswith(':')]
        self.assertIn('scheduled for: ', '\n'.join(lines))
        columns = {len(re.match(r'[a-z ]+: +', line).group(0))
                   for line in lines}
        self.assertEqual(len(columns), 1, lines)

    def test_a_missing_service_is_named_as_written(self):
        self.assertFails(['jobs', self.uri, '--service', 'nosuch/tasks'],
                         "no task service at 'nosuch/tasks': 'nosuch' not"
                         " found")

    def test_cancel_changes_nothing_when_an_id_is_unknown(self):
        self.prepare()
        self.assertFails(['cancel', self.uri, '--service', 'tasks',
                          str(self.queued), '99'],
                         'there is no job 99; nothing was changed')
        self.assertEqual(self.service().getStatus(self.queued), 'queued')

    def test_clean_by_status_and_age(self):
        self.prepare()
        self.assertEqual(self.command('clean', '--older-than', '1h'),
                         'removed 0 job(s)\n')
        self.assertEqual(self.command('clean', '--status', 'error'),
                         'removed 1 job(s)\n')
        self.assertEqual(json.loads(self.command('clean', '--json')),
                         {'removed': 1})
        service = self.service()
        self.assertEqual(sorted(service.jobs),
                         sorted([self.queued, self.cron]))
        self.close()
        self.assertFails(['clean', self.uri, '--service', 'tasks',
                          '--older-than', 'soon'],
                         '--older-than must be a number and a unit')

    def test_clean_many_jobs_in_batches(self):
        service = self.service()
        for number in range(2500):
            service.add('sum', [number])
        self.tm.commit()
        while service.processNext():
            pass
        self.tm.commit()
        self.close()
        self.assertEqual(self.command('clean'), 'removed 2500 job(s)\n')
        self.assertEqual(len(self.service().jobs), 0)

    def test_cron_lists_next_fire_times(self):
        self.prepare()
        out = self.command('cron')
        self.assertEqual(out.splitlines()[0],
                         '%d sum (cronjob): 30 6 * * 1-5 in Europe/Berlin,'
                         ' misfire coalesce' % self.cron)
        self.assertEqual(len(out.splitlines()), 4)
        rows = json.loads(self.command('cron', '--json'))
        self.assertEqual([row['id'] for row in rows], [self.cron])

    def test_status_shows_the_workers_that_hold_claims(self):
        self.prepare()
        service = self.service()
        lease, ids = service.claimJobs('host:123:worker-1', 60)
        self.tm.commit()
        self.close()
        out = self.command('status')
        self.assertIn('workers holding claims:\n  host:123:worker-1', out)
        self.assertIn('1 jobs  since 0 s', out)
        self.assertIn('finished in the last minute: 1 completed, 1 error,'
                      ' 0 cancelled', out)
        report = json.loads(self.command('status', '--json'))
        self.assertEqual(report['finished']['last hour']['error'], 1)
        self.assertEqual(report['workers'][0]['claimed'], ids)
        self.assertEqual(report['jobs']['processing'], 1)
        self.assertEqual(report['queues'], {'default': 0, 'other': 0})


def test_suite():
    return unittest.defaultTestLoader.loadTestsFromName(__name__)
