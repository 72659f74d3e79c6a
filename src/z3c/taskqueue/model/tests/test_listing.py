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
"""Listing jobs a page at a time, removing them a batch at a time, and
retrying them: the service methods behind the job commands, on a real
FileStorage."""
import time
import unittest

from z3c.taskqueue.model.tests.test_controls import ControlTestBase


class ListJobsTests(ControlTestBase):

    def addJobs(self, count, task='echo', **kw):
        ids = [self.service.add(task, number, **kw)
               for number in range(count)]
        self.tm.commit()
        return ids

    def test_newest_first_in_pages(self):
        ids = []
        for number in range(25):
            ids.append(self.service.add('echo', number))
            time.sleep(0.002)   # distinct milliseconds
        self.tm.commit()
        pages, cursor = [], None
        while True:
            page, cursor = self.service.listJobs(limit=10, after=cursor)
            pages.append(page)
            if cursor is None:
                break
        self.assertEqual([len(page) for page in pages], [10, 10, 5])
        self.assertEqual(sum(pages, []), ids[::-1])

    def test_filters(self):
        queued = self.addJobs(3)
        failed = self.addJobs(2, 'fail', queue='other')
        for jobid in failed:
            self.service.processNext(jobid=jobid)
        self.assertEqual(sorted(self.service.listJobs(status='error')[0]),
                         sorted(failed))
        self.assertEqual(sorted(self.service.listJobs(task='echo')[0]),
                         sorted(queued))
        self.assertEqual(sorted(self.service.listJobs(queue='other')[0]),
                         sorted(failed))
        self.assertEqual(self.service.listJobs(status='error',
                                               queue='default'), ([], None))

    def test_a_page_looks_at_no_more_than_scan_jobs(self):
        self.addJobs(30)
        rare = self.service.add('fail')
        self.tm.commit()
        time.sleep(0.002)
        self.addJobs(30)
        ids, cursor = self.service.listJobs(task='fail', scan=20)
        self.assertEqual(ids, [])
        self.assertIsNotNone(cursor)
        ids, cursor = self.service.listJobs(task='fail', scan=20,
                                            after=cursor)
        self.assertEqual(ids, [rare])

    def test_removed_jobs_leave_the_history(self):
        ids = self.addJobs(5)
        while self.service.processNext():
            pass
        self.service.clean()
        self.assertEqual(self.service.listJobs(), ([], None))
        self.assertEqual(self.service._history.size(), 0)
        self.assertEqual(len(ids), 5)

    def test_bad_arguments_are_refused(self):
        for kw in ({'status': 'done'}, {'limit': 0}, {'limit': 10 ** 6},
                   {'after': 'x'}, {'scan': 0}):
            with self.assertRaises(ValueError):
                self.service.listJobs(**kw)

    def test_a_cursor_out_of_range_is_refused(self):
        self.addJobs(3)
        for after in (2 ** 63 - 1, 2 ** 63, 10 ** 30, -2 ** 63 - 1,
                      -10 ** 30):
            with self.assertRaises(ValueError) as raised:
                self.service.listJobs(after=after)
            self.assertIn('after must be a cursor', str(raised.exception))
        ids, cursor = self.service.listJobs(limit=1)
        self.assertEqual(len(self.service.listJobs(after=cursor)[0]), 2)


class PurgeTests(ControlTestBase):

    def test_removes_a_batch_at_a_time(self):
        for number in range(25):
            self.service.add('echo')
        while self.service.processNext():
            pass
        self.tm.commit()
        self.assertEqual(self.service.purge(limit=10), 10)
        self.assertEqual(self.service.purge(limit=10), 10)
        self.assertEqual(self.service.purge(limit=10), 5)
        self.assertEqual(self.service.purge(), 0)
        self.assertConsistent()

    def test_only_jobs_that_finished_before(self):
        old = self.service.add('echo')
        self.service.processNext()
        time.sleep(0.01)
        cutoff = time.time()
        time.sleep(0.01)
        new = self.service.add('echo')
        self.service.processNext()
        waiting = self.service.add('echo', startLater=True)
        self.assertEqual(self.service.purge(before=cutoff), 1)
        self.assertEqual(sorted(self.service.jobs), sorted([new, waiting]))
        self.assertNotIn(old, self.service.jobs)
        self.assertConsistent()

    def test_only_the_statuses_given(self):
        self.service.add('echo')
        failed = self.service.add('fail')
        while self.service.processNext():
            pass
        self.assertEqual(self.service.purge('completed'), 1)
        self.assertEqual(list(self.service.jobs), [failed])
        with self.assertRaises(ValueError):
            self.service.purge('queued')


class RetryTests(ControlTestBase):

    def test_a_failed_job_runs_again_with_a_new_count(self):
        calls = []

        def flaky(service, jobid, input):
            calls.append(jobid)
            if len(calls) == 1:
                raise ValueError('first time')
            return 'second time'
        self.provide('flaky', flaky)
        jobid = self.service.add('flaky')
        self.service.processNext()
        self.assertEqual(self.service.getStatus(jobid), 'error')
        self.service.retry(jobid)
        self.assertEqual(self.service.getStatus(jobid), 'queued')
        self.assertEqual(self.service.jobs[jobid].attempts, 0)
        self.assertIsNone(self.service.getError(jobid))
        self.service.processNext()
        self.assertEqual(self.service.getResult(jobid), 'second time')
        self.assertConsistent()

    def test_a_cancelled_cron_job_is_scheduled_again(self):
        jobid = self.service.addCronJob('echo', minute=(5,))
        self.service.cancel(jobid)
        self.service.retry(jobid)
        self.assertEqual(self.service.getStatus(jobid), 'cronjob')
        self.assertConsistent()

    def test_only_failed_or_cancelled_jobs(self):
        jobid = self.service.add('echo')
        with self.assertRaises(ValueError) as raised:
            self.service.retry(jobid)
        self.assertIn('only jobs that failed or were cancelled',
                      str(raised.exception))
        with self.assertRaises(KeyError):
            self.service.retry(12345)


class ThroughputTests(ControlTestBase):

    def test_finished_jobs_are_counted_per_minute(self):
        self.service.add('echo')
        self.service.add('fail')
        cancelled = self.service.add('echo', startLater=True)
        while self.service.processNext():
            pass
        self.service.cancel(cancelled)
        self.assertEqual(self.service.countFinished(60),
                         {'completed': 1, 'error': 1, 'cancelled': 1})
        later = time.time() + 3600
        self.assertEqual(self.service.countFinished(60, later),
                         {'completed': 0, 'error': 0, 'cancelled': 0})
        self.assertEqual(self.service.countFinished(7200, later)['error'],
                         1)

    def test_concurrent_counts_of_one_minute_merge(self):
        now = time.time()
        self.service._throughput.count('completed', now)
        self.tm.commit()
        tm2, other = self.otherConnection()
        self.service._throughput.count('completed', now)
        other._throughput.count('completed', now, 2)
        self.tm.commit()
        tm2.commit()    # BTrees.Length adds them up: no ConflictError
        self.tm.begin()
        self.assertEqual(self.service.countFinished(60, now)['completed'],
                         4)

    def test_old_minutes_are_forgotten(self):
        from z3c.taskqueue.model.throughput import KEEP
        start = time.time() - 2 * KEEP * 60
        for minute in range(30):
            self.service._throughput.count('error', start + minute * 60)
        self.service._throughput.count('error', time.time())
        minutes = self.service._throughput._byStatus['error']
        self.assertEqual(len(minutes), 21)


def test_suite():
    return unittest.defaultTestLoader.loadTestsFromName(__name__)
