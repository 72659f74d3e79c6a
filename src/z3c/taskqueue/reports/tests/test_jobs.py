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
"""What the command line and the screens show of jobs, on a real
FileStorage: jobs whose data no longer loads, cron jobs' schedules."""
import unittest
from unittest import mock

from z3c.taskqueue.model.tests.test_faults import FaultTestBase


class ReportTestBase(FaultTestBase):

    def setUp(self):
        super().setUp()
        self.provide()

    def addBroken(self, where):
        """Add a job whose input (``where='input'``) or own record
        (``'record'``) stops loading, as a class that changed would;
        reopen the database.  Return its id."""
        from z3c.taskqueue.tests import _fragile
        if where == 'input':
            jobid = self.service.add('task', _fragile.Fragile('in'))
        else:
            jobid = self.service.add('task')
            self.service.jobs[jobid].old = _fragile.Fragile('old')
        self.tm.commit()
        _fragile.breakFragile()
        self.reopen()
        return jobid


class UnloadableTests(ReportTestBase):

    def test_a_line_for_a_job_whose_record_does_not_load(self):
        from z3c.taskqueue.reports.jobs import summary
        jobid = self.addBroken('record')
        self.assertEqual(summary(self.service, jobid, 0), {
            'id': jobid, 'task': '?', 'status': '?', 'queue': '?',
            'attempts': 0, 'age': None,
            'error': 'the record of this job cannot be loaded'})

    def test_show_for_a_job_whose_record_does_not_load(self):
        from z3c.taskqueue.reports.jobs import describe
        jobid = self.addBroken('record')
        self.assertEqual(describe(self.service, jobid), {
            'id': jobid, 'error': 'the record of this job cannot be loaded'})

    def test_show_for_a_job_whose_input_does_not_load_says_why(self):
        from z3c.taskqueue.reports.jobs import describe
        jobid = self.addBroken('input')
        details = describe(self.service, jobid)
        self.assertEqual(details['status'], 'queued')
        self.assertEqual(
            details['input'], '<cannot be loaded: the input of job %r'
            ' cannot be loaded: ValueError: Fragile no longer loads (in'
            ' z3c.taskqueue.tests._fragile.Fragile)>' % jobid)
        self.assertEqual(details['output'], 'None')


class DescribeTests(ReportTestBase):

    def test_times_in_seconds_are_shown_in_utc(self):
        import datetime
        from z3c.taskqueue.reports.jobs import describe
        jobid = self.service.add('task', 'x', expires=datetime.datetime(
            2030, 1, 1, 1, tzinfo=datetime.timezone(datetime.timedelta(
                hours=1))))
        self.service.claimJobs('w', 60, now=1893455000)
        details = describe(self.service, jobid)
        self.assertEqual(details['expires'], '2030-01-01T00:00:00+00:00')
        self.assertEqual(details['lease'],
                         'w until 2029-12-31T23:44:20+00:00')

    def test_a_job_of_unknown_age_is_shown_so(self):
        from z3c.taskqueue.reports.jobs import age
        self.assertEqual(age(None), '?')
        self.assertEqual(age(90), '2m')


class CronDetailsTests(ReportTestBase):

    def _callFUT(self, jobid):
        from z3c.taskqueue.reports.jobs import cronDetails
        return cronDetails(self.service.jobs[jobid])

    def test_the_fields_of_a_job_without_crontab_are_named(self):
        jobid = self.service.addCronJob('task', minute=(5,), hour=(3, 15))
        self.assertEqual(self._callFUT(jobid)['cron'],
                         'minute=(5,) hour=(3, 15)')

    def test_next_runs_that_cannot_be_computed_say_why(self):
        # Its zone is one that the time zone database here does not know
        # (moved from a machine with another one, say).
        jobid = self.service.addCronJob('task', cron='0 9 * * 1-5',
                                        timezone='Europe/Berlin')
        self.tm.commit()
        self.service.jobs[jobid].timezone = 'Europe/Atlantis'
        self.reopen()
        self.assertEqual(self._callFUT(jobid)['next'], [
            "cannot be computed: timezone='Europe/Atlantis' is not a time"
            " zone that zoneinfo knows"])


class CronJobIdsTests(ReportTestBase):

    def _callFUT(self):
        from z3c.taskqueue.reports.jobs import cronJobIds
        return cronJobIds(self.service)

    def test_large_queues_are_not_searched_for_cron_jobs_that_fell_due(self):
        from z3c.taskqueue.reports import jobs
        due = self.service.addCronJob('task', minute=())
        waiting = self.service.addCronJob('task', delay=3600)
        self.assertFalse(self.service.processNext(0))      # schedules them
        others = [self.service.add('task') for i in range(3)]
        # A claim at 60 queues the cron job that fell due.
        self.assertEqual(self.service.claimJobs('w', 60, now=60,
                                                queues=['none']), (None, []))
        self.assertEqual(sorted(self.service._queues.ids()),
                         sorted(others + [due]))
        self.assertEqual(sorted(self._callFUT()), [due, waiting])
        with mock.patch.object(jobs, 'CRON_SEARCH', 3):
            self.assertEqual(self._callFUT(), [waiting])


def test_suite():
    return unittest.defaultTestLoader.loadTestsFromName(__name__)
