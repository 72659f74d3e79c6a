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
"""Random sequences of operations keep the service's indexes consistent."""
import datetime
import random
import time
import unittest

from z3c.taskqueue.model.tests._base import InDatabaseTestBase
from z3c.taskqueue.model.tests._base import ServiceTestBase


class RandomOperations:
    """Drive a service with a random sequence of operations."""

    def __init__(self, test, service, rng):
        self.test = test
        self.service = service
        self.rng = rng
        self.now = 0
        # The tasks the test unregistered: adding their jobs is refused.
        self.unregistered = set()
        self.refused = 0

    def adding(self, add, task, *args, **kw):
        """Return ``add(task, ...)``, or None if ``task`` was unregistered:
        then it must raise the ValueError that says so, and nothing else
        may."""
        if task not in self.unregistered:
            return add(task, *args, **kw)
        with self.test.assertRaises(ValueError) as raised:
            add(task, *args, **kw)
        self.test.assertEqual(str(raised.exception),
                              'no task is registered under the name %r'
                              % (task,))
        self.refused += 1
        return None

    def jobOf(self, *statuses):
        ids = [jobid for jobid, job in self.service.jobs.items()
               if not statuses or job.status in statuses]
        return self.rng.choice(ids) if ids else None

    def step(self):
        from z3c.taskqueue.interfaces import FINISHED
        from z3c.taskqueue.interfaces import ICronJob
        from z3c.taskqueue.interfaces import STATUSES
        rng, service = self.rng, self.service
        task = rng.choice(('echo', 'fail', 'gone'))
        operation = rng.choice((
            'add', 'add', 'add', 'startLater', 'cron', 'delayed', 'cancel',
            'startJob', 'reschedule', 'update', 'process', 'process',
            'process', 'processJob', 'clean', 'cleanSome', 'after',
            'keyed', 'expiring', 'expire', 'retry', 'purge'))
        if operation == 'add':
            self.adding(service.add, task, rng.random())
        elif operation == 'after':
            # Delayed jobs run once, and can be waited for.
            ids = [jobid for jobid, job in service.jobs.items()
                   if not ICronJob.providedBy(job) or job.delay is not None]
            ids = rng.sample(ids, min(len(ids), rng.randrange(1, 4)))
            jobid = self.adding(service.add, task, after=ids)
            for dep in ids if jobid is not None else ():
                if service.getStatus(dep) in ('error', 'cancelled'):
                    self.test.assertEqual(service.getStatus(jobid),
                                          'cancelled')
        elif operation == 'keyed':
            key = rng.choice('abc')
            before = service._waitingWithKey(key)
            jobid = self.adding(service.add, task, key=key)
            if before is not None and jobid is not None:
                self.test.assertEqual(jobid, before)
        elif operation == 'expiring':
            at = self.now + rng.choice((0, 1, 60))
            self.adding(service.add, task,
                        expires=datetime.datetime.fromtimestamp(
                            at, datetime.timezone.utc))
        elif operation == 'retry':
            jobid = self.jobOf('error', 'cancelled')
            if jobid is not None:
                job = service.jobs[jobid]
                waited = [service.jobs.get(other) for other in job.after]
                ran = job.attempts or job.started is not None
                try:
                    service.retry(jobid)
                except ValueError as error:
                    # Only a job that never ran, waiting for one that
                    # failed, was cancelled or is gone, is refused.
                    self.test.assertFalse(ran)
                    self.test.assertIn('waits for job', str(error))
                    self.test.assertTrue(any(
                        other is None or other.status in (
                            'error', 'cancelled') for other in waited))
                    return operation
                expected = ('queued', 'cronjob', 'delayed')
                if not ran and any(other.status not in FINISHED
                                   for other in waited):
                    expected = ('blocked',)
                self.test.assertIn(service.getStatus(jobid), expected)
        elif operation == 'purge':
            service.purge(rng.choice((FINISHED, 'error')), limit=5,
                          before=rng.choice((None, time.time() + 1)))
        elif operation == 'expire':
            service.resultTTL = rng.choice((None, 0, 60))
            # Results expire in real time, from when the job finished.
            service.expireResults(time.time() + rng.choice((1, 120)))
        elif operation == 'startLater':
            self.adding(service.add, task, startLater=True)
        elif operation == 'cron':
            self.adding(service.addCronJob, task,
                        minute=(rng.randrange(60),))
        elif operation == 'delayed':
            self.adding(service.addCronJob, task,
                        delay=rng.choice((1, 30, 90, 1.5)))
        elif operation == 'cancel':
            jobid = self.jobOf()
            if jobid is not None:
                before = service.getStatus(jobid)
                service.cancel(jobid)
                self.test.assertEqual(
                    service.getStatus(jobid),
                    before if before in FINISHED else 'cancelled')
        elif operation == 'startJob':
            jobid = self.jobOf()
            if jobid is not None:
                waiting = service.getStatus(jobid) == 'start later'
                self.test.assertEqual(service.startJob(jobid), waiting)
        elif operation in ('reschedule', 'update'):
            jobid = self.jobOf('cronjob', 'delayed')
            if jobid is not None:
                if operation == 'update':
                    service.jobs[jobid].update(minute=(rng.randrange(60),))
                service.reschedule(jobid)
        elif operation == 'process':
            self.now += rng.choice((0, 1, 30, 60, 600, 3600))
            service.processNext(self.now)
        elif operation == 'processJob':
            jobid = self.jobOf('queued', 'start later', 'cronjob', 'delayed')
            if jobid is not None:
                expired = service._expired(service.jobs[jobid], self.now)
                self.test.assertEqual(service.processNext(self.now, jobid),
                                      not expired)
        elif operation == 'clean':
            service.clean()
        elif operation == 'cleanSome':
            service.clean(tuple(rng.sample(STATUSES[2:], 2)))
        return operation


class RandomOperationsTests(ServiceTestBase):

    def _registerTasks(self):
        self._registerTask('echo')
        self._registerFailing('fail')
        return self._registerTask('gone')

    def test_indexes_stay_consistent(self):
        from z3c.taskqueue.tests._support import indexProblems
        gone = self._registerTasks()
        service = self._makeOne()
        driver = RandomOperations(self, service, random.Random(1111))
        for step in range(1500):
            if step == 500:
                self._unregisterTask('gone', gone)
                driver.unregistered.add('gone')
            operation = driver.step()
            problems = indexProblems(service)
            if problems:
                self.fail('after step %d (%s):\n%s'
                          % (step, operation, '\n'.join(problems)))
        self.assertGreater(len(service.jobs), 10)
        self.assertGreater(driver.refused, 0)


class RandomOperationsInDatabaseTests(InDatabaseTestBase):
    """Random operations on a stored service, with commits and aborts."""

    def test_random_operations_with_commits_and_aborts(self):
        from z3c.taskqueue.tests._support import indexProblems
        self._registerFailing('fail')
        gone = self._registerTask('gone')
        driver = RandomOperations(self, self.service, random.Random(2222))
        for step in range(400):
            if step == 150:
                self._unregisterTask('gone', gone)
                driver.unregistered.add('gone')
            operation = driver.step()
            if step % 7 == 6:
                self.tm.abort()
                operation += ' and abort'
            elif step % 3 == 2:
                self.tm.commit()
                operation += ' and commit'
            problems = indexProblems(self.service)
            if problems:
                self.fail('after step %d (%s):\n%s'
                          % (step, operation, '\n'.join(problems)))
        self.tm.commit()
        self.assertGreater(driver.refused, 0)
        self.assertEqual(indexProblems(self._reopen()['service']), [])


def test_suite():
    return unittest.defaultTestLoader.loadTestsFromName(__name__)
