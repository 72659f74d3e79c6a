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
"""The order jobs run in: queued jobs as they were added, due cron and
delayed jobs ahead of them."""
import unittest
from unittest import mock

from z3c.taskqueue.model.tests._base import HOUR
from z3c.taskqueue.model.tests._base import MINUTE
from z3c.taskqueue.model.tests._base import RecordingTestBase
from z3c.taskqueue.model.tests._base import frozenClock


class OrderTests(RecordingTestBase):

    def _processAll(self, service, now=0):
        while service.processNext(now):
            pass

    def test_queued_jobs_run_in_the_order_they_were_added(self):
        service = self._makeOne()
        ids = [service.add('record') for _ in range(20)]
        self._processAll(service)
        self.assertEqual(self.ran, ids)

    def test_order_holds_within_one_clock_tick(self):
        from z3c.taskqueue.model import service as module
        service = self._makeOne()
        with mock.patch.object(module, 'time', frozenClock(1000.0)):
            ids = [service.add('record') for _ in range(20)]
        self._processAll(service)
        self.assertEqual(self.ran, ids)

    def test_order_holds_across_clock_ticks(self):
        # Jobs of one tick take the keys below that tick's; a later tick
        # must still queue after them.
        from z3c.taskqueue.model import service as module
        service = self._makeOne()
        ids = []
        for now in (1000.0, 1000.0, 1000.0, 1000.000001, 1000.000002):
            with mock.patch.object(module, 'time', frozenClock(now)):
                ids.append(service.add('record'))
        self._processAll(service)
        self.assertEqual(self.ran, ids)

    def test_started_job_queues_at_the_end(self):
        service = self._makeOne()
        later = service.add('record', startLater=True)
        first = service.add('record')
        self.assertTrue(service.startJob(later))
        self._processAll(service)
        self.assertEqual(self.ran, [first, later])

    def test_due_cron_job_runs_before_queued_jobs(self):
        service = self._makeOne()
        first = service.add('record')
        second = service.add('record')
        cron = service.addCronJob('record', minute=(1,))
        self.assertTrue(service.processNext(0))
        self._processAll(service, MINUTE)
        self.assertEqual(self.ran, [first, cron, second])

    def test_due_delayed_job_runs_before_queued_jobs(self):
        service = self._makeOne()
        delayed = service.addCronJob('record', delay=5)
        service.processNext(0)
        queued = service.add('record')
        self._processAll(service, 5)
        self.assertEqual(self.ran, [delayed, queued])

    def test_earliest_due_runs_first(self):
        service = self._makeOne()
        late = service.addCronJob('record', delay=20)
        early = service.addCronJob('record', delay=10)
        cron = service.addCronJob('record', minute=(0,))
        service.processNext(0)
        self._processAll(service, HOUR)
        self.assertEqual(self.ran, [early, late, cron])

    def test_cron_job_not_due_does_not_hold_up_the_queue(self):
        service = self._makeOne()
        service.addCronJob('record', minute=(10,))
        queued = service.add('record')
        self._processAll(service, 0)
        self.assertEqual(self.ran, [queued])


def test_suite():
    return unittest.defaultTestLoader.loadTestsFromName(__name__)
