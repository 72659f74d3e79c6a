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
"""Retry policies: which errors are tried again, and after how long; and
a service on a real FileStorage that waits as long as the policy says."""
import random
import unittest
from unittest import mock

from z3c.taskqueue import interfaces
from z3c.taskqueue.model.tests.test_faults import FaultTestBase


def highest(a, b):
    """Stands for ``random.uniform``: the top of the range, always."""
    return b


def lowest(a, b):
    """Stands for ``random.uniform``: the bottom of the range, always."""
    return a


class RetryPolicyTests(unittest.TestCase):

    def _getTargetClass(self):
        from z3c.taskqueue.model.retry import RetryPolicy
        return RetryPolicy

    def _makeOne(self, **kw):
        return self._getTargetClass()(**kw)

    def test_provides_IRetryPolicy(self):
        from zope.interface.verify import verifyObject
        self.assertTrue(verifyObject(interfaces.IRetryPolicy,
                                     self._makeOne()))

    def test_defaults(self):
        policy = self._makeOne()
        self.assertEqual(policy.maxAttempts, 3)
        self.assertEqual(policy.retryOn, ())
        self.assertEqual(policy.backoff, 1.0)
        self.assertEqual(policy.maxBackoff, 300.0)
        self.assertEqual(policy.conflictRetries, 5)

    def test_every_argument_is_kept(self):
        policy = self._makeOne(maxAttempts=7, retryOn=[IOError, KeyError],
                               backoff=2.5, maxBackoff=40.0,
                               conflictRetries=0)
        self.assertEqual(policy.maxAttempts, 7)
        self.assertEqual(policy.retryOn, (IOError, KeyError))   # a tuple
        self.assertEqual(policy.backoff, 2.5)
        self.assertEqual(policy.maxBackoff, 40.0)
        self.assertEqual(policy.conflictRetries, 0)

    def test_arguments_can_be_given_in_order(self):
        policy = self._getTargetClass()(4, (KeyError,), 0.5, 8.0, 2)
        self.assertEqual((policy.maxAttempts, policy.retryOn, policy.backoff,
                          policy.maxBackoff, policy.conflictRetries),
                         (4, (KeyError,), 0.5, 8.0, 2))

    def test_fewer_than_one_attempt_is_refused(self):
        for bad in (0, -1):
            with self.assertRaises(ValueError) as raised:
                self._makeOne(maxAttempts=bad)
            self.assertEqual(str(raised.exception),
                             'maxAttempts must be at least 1, not %r' % bad)
        self.assertEqual(self._makeOne(maxAttempts=1).maxAttempts, 1)

    def test_negative_conflict_retries_are_refused(self):
        with self.assertRaises(ValueError) as raised:
            self._makeOne(conflictRetries=-1)
        self.assertEqual(str(raised.exception),
                         'conflictRetries must not be negative, not -1')
        self.assertEqual(self._makeOne(conflictRetries=0).conflictRetries, 0)

    def test_repr_names_attempts_and_errors(self):
        self.assertEqual(
            repr(self._makeOne(maxAttempts=2, retryOn=(IOError, KeyError))),
            "<RetryPolicy maxAttempts=2 retryOn=('OSError', 'KeyError')>")


class ShouldRetryTests(unittest.TestCase):

    def _makeOne(self, **kw):
        from z3c.taskqueue.model.retry import RetryPolicy
        return RetryPolicy(**kw)

    def test_a_listed_error_is_retried_until_the_last_attempt(self):
        policy = self._makeOne(maxAttempts=3, retryOn=(IOError,))
        self.assertTrue(policy.shouldRetry(IOError('down'), 1))
        self.assertTrue(policy.shouldRetry(IOError('down'), 2))
        self.assertFalse(policy.shouldRetry(IOError('down'), 3))
        self.assertFalse(policy.shouldRetry(IOError('down'), 4))

    def test_subclasses_of_a_listed_error_are_retried(self):
        policy = self._makeOne(retryOn=(OSError,))
        self.assertTrue(policy.shouldRetry(ConnectionResetError(), 1))
        self.assertTrue(policy.shouldRetry(FileNotFoundError(), 1))

    def test_other_errors_are_not_retried(self):
        policy = self._makeOne(maxAttempts=10, retryOn=(IOError, KeyError))
        self.assertFalse(policy.shouldRetry(ValueError('bad'), 1))
        self.assertFalse(policy.shouldRetry(Exception('bad'), 1))

    def test_by_default_no_error_is_retried(self):
        policy = self._makeOne(maxAttempts=10)
        for error in (IOError(), KeyError(), ValueError(), Exception()):
            self.assertFalse(policy.shouldRetry(error, 1))

    def test_one_attempt_retries_nothing(self):
        policy = self._makeOne(maxAttempts=1, retryOn=(IOError,))
        self.assertFalse(policy.shouldRetry(IOError('down'), 1))

    def test_policyFor_a_task_without_one_is_the_default(self):
        from z3c.taskqueue.model.retry import DEFAULT_POLICY
        from z3c.taskqueue.model.retry import policyFor
        policy = self._makeOne()

        class WithPolicy:
            retryPolicy = policy

        class WithNone:
            retryPolicy = None
        self.assertIs(policyFor(WithPolicy()), policy)
        self.assertIs(policyFor(WithNone()), DEFAULT_POLICY)
        self.assertIs(policyFor(object()), DEFAULT_POLICY)
        self.assertIs(policyFor(None), DEFAULT_POLICY)
        self.assertEqual(DEFAULT_POLICY.retryOn, ())


class DelayTests(unittest.TestCase):
    """``delay()``: full jitter below a ceiling that doubles with each
    attempt, up to ``maxBackoff``.  ``random.uniform`` is replaced by its
    bounds to see the ceiling and the floor."""

    def _makeOne(self, **kw):
        from z3c.taskqueue.model.retry import RetryPolicy
        return RetryPolicy(**kw)

    def uniform(self, replacement):
        patcher = mock.patch('z3c.taskqueue.model.retry.random.uniform',
                             side_effect=replacement)
        self.addCleanup(patcher.stop)
        return patcher.start()

    def test_the_ceiling_doubles_with_each_attempt(self):
        self.uniform(highest)
        policy = self._makeOne(backoff=0.5, maxBackoff=1000)
        self.assertEqual([policy.delay(attempt) for attempt in range(6)],
                         [0.5, 1.0, 2.0, 4.0, 8.0, 16.0])

    def test_the_ceiling_stops_at_maxBackoff(self):
        self.uniform(highest)
        policy = self._makeOne(backoff=1.0, maxBackoff=10.0)
        self.assertEqual([policy.delay(attempt) for attempt in range(1, 7)],
                         [2.0, 4.0, 8.0, 10.0, 10.0, 10.0])
        self.assertEqual(policy.delay(1000), 10.0)     # no overflow

    def test_the_floor_is_zero(self):
        uniform = self.uniform(lowest)
        policy = self._makeOne(backoff=3.0, maxBackoff=100.0)
        self.assertEqual(policy.delay(2), 0)
        uniform.assert_called_once_with(0, 12.0)

    def test_the_defaults_wait_up_to_five_minutes(self):
        self.uniform(highest)
        policy = self._makeOne()
        self.assertEqual(policy.delay(1), 2.0)
        self.assertEqual(policy.delay(20), 300.0)

    def test_no_backoff_retries_at_once(self):
        self.uniform(highest)
        self.assertEqual(self._makeOne(backoff=0).delay(5), 0)

    def test_delays_are_jittered_within_the_ceiling(self):
        self.addCleanup(random.setstate, random.getstate())
        random.seed(8)
        policy = self._makeOne(backoff=1.0, maxBackoff=6.0)
        for attempt, ceiling in ((1, 2.0), (2, 4.0), (3, 6.0), (9, 6.0)):
            delays = [policy.delay(attempt) for i in range(500)]
            self.assertTrue(all(0 <= d <= ceiling for d in delays), attempt)
            # Spread over the whole range: not fixed, not half of it.
            self.assertLess(min(delays), ceiling * 0.05)
            self.assertGreater(max(delays), ceiling * 0.95)
            self.assertEqual(len(set(delays)), 500)


class JitteredBackoffTests(unittest.TestCase):

    def _callFUT(self, attempt, base, maximum):
        from z3c.taskqueue.model.retry import jitteredBackoff
        return jitteredBackoff(attempt, base, maximum)

    def test_ceiling_is_base_times_two_to_the_attempt(self):
        with mock.patch('z3c.taskqueue.model.retry.random.uniform',
                        side_effect=highest):
            self.assertEqual(
                [self._callFUT(attempt, 0.25, 100) for attempt in range(5)],
                [0.25, 0.5, 1.0, 2.0, 4.0])
            self.assertEqual(self._callFUT(3, 0.25, 1.5), 1.5)
            # An attempt below zero counts as zero.
            self.assertEqual(self._callFUT(-3, 0.25, 100), 0.25)

    def test_stays_within_its_bounds(self):
        self.addCleanup(random.setstate, random.getstate())
        random.seed(9)
        delays = [self._callFUT(attempt, 0.5, 4.0)
                  for attempt in range(10) for i in range(50)]
        self.assertTrue(all(0 <= delay <= 4.0 for delay in delays))
        self.assertGreater(max(delays), 3.9)
        self.assertLess(min(delays), 0.01)
        self.assertEqual(len(set(delays)), len(delays))


class FixedDelay:
    """A retry policy that waits ``seconds`` times the attempts made, and
    notes the attempts it was asked about."""

    def __init__(self, seconds, maxAttempts=5, retryOn=(IOError,)):
        from z3c.taskqueue.model.retry import RetryPolicy
        self.policy = RetryPolicy(maxAttempts=maxAttempts, retryOn=retryOn)
        self.seconds = seconds
        self.asked = []
        self.maxAttempts = maxAttempts
        self.conflictRetries = self.policy.conflictRetries

    def shouldRetry(self, error, attempts):
        return self.policy.shouldRetry(error, attempts)

    def delay(self, attempts):
        self.asked.append(attempts)
        return self.seconds * attempts


def flaky(service, jobid, input):
    raise IOError('the network is down')


class BackoffInServiceTests(FaultTestBase):
    """A retried job waits out its policy's delay, by the service's clock
    (``now``), on a real FileStorage: it is not claimed before."""

    def provideFlaky(self, policy):
        self.provide('flaky', flaky).retryPolicy = policy

    def claim(self, now):
        self.tm.begin()
        lease, ids = self.service.claimJobs('worker', 60, now=now)
        self.tm.commit()
        return lease, ids

    def failRun(self, jobid, lease, now):
        self.assertTrue(self.service.failJob(
            jobid, lease, IOError('the network is down'), now=now))
        self.tm.commit()

    def test_a_failed_job_is_claimed_again_only_after_its_delay(self):
        policy = FixedDelay(60)
        self.provideFlaky(policy)
        jobid = self.service.add('flaky')
        self.tm.commit()
        lease, ids = self.claim(1000)
        self.assertEqual(ids, [jobid])
        self.failRun(jobid, lease, 1000)
        self.assertEqual(policy.asked, [1])
        self.reopen()
        self.assertEqual(self.service.getStatus(jobid), 'queued')
        self.assertEqual(self.service.getError(jobid),
                         'OSError: the network is down')
        for early in (1000, 1001, 1059.5):
            self.assertFalse(self.service.hasJobsWaiting(now=early))
            self.assertEqual(self.claim(early), (None, []))
        lease, ids = self.claim(1060)
        self.assertEqual(ids, [jobid])
        # The second failure waits twice as long (this policy's rule),
        # counted from the second failure.
        self.failRun(jobid, lease, 1100)
        self.assertEqual(policy.asked, [1, 2])
        self.reopen()
        self.assertEqual(self.claim(1219), (None, []))
        self.assertEqual(self.claim(1220)[1], [jobid])
        self.assertEqual(self.service.jobs[jobid].attempts, 2)

    def test_processNext_waits_out_the_delay_too(self):
        # processNext() itself retries nothing (the old API), but a job
        # that a worker's failure sent back waits there too.
        self.provideFlaky(FixedDelay(60))
        jobid = self.service.add('flaky')
        self.tm.commit()
        lease, ids = self.claim(2000)
        self.failRun(jobid, lease, 2000)
        self.reopen()
        self.assertFalse(self.service.processNext(now=2059))
        self.assertEqual(self.service.getStatus(jobid), 'queued')
        self.assertTrue(self.service.processNext(now=2060))
        self.assertEqual(self.service.getStatus(jobid), 'error')
        self.assertEqual(self.service.jobs[jobid].attempts, 2)
        self.assertConsistent()

    def test_the_jittered_delay_of_a_real_policy_is_waited_for(self):
        from z3c.taskqueue.model.retry import RetryPolicy
        self.provideFlaky(RetryPolicy(maxAttempts=2, retryOn=(IOError,),
                                      backoff=60, maxBackoff=60))
        jobid = self.service.add('flaky')
        self.tm.commit()
        lease, ids = self.claim(1000)
        # The delay of the first retry is jittered between 0 and 60 s: a
        # floor of 1 s keeps the test from depending on chance.
        uniform = random.uniform
        with mock.patch('z3c.taskqueue.model.retry.random.uniform',
                        side_effect=lambda a, b: max(1.0, uniform(a, b))):
            self.failRun(jobid, lease, 1000)
        self.assertEqual(self.claim(1000), (None, []))
        self.assertEqual(self.claim(1060)[1], [jobid])

    def test_a_job_ends_in_error_after_its_last_attempt(self):
        policy = FixedDelay(60, maxAttempts=2)
        self.provideFlaky(policy)
        jobid = self.service.add('flaky')
        self.tm.commit()
        lease, ids = self.claim(1000)
        self.failRun(jobid, lease, 1000)
        lease, ids = self.claim(1060)
        self.failRun(jobid, lease, 1060)
        self.assertEqual(policy.asked, [1])    # no wait after the last
        self.assertEqual(self.service.getStatus(jobid), 'error')
        self.assertEqual(self.service.getError(jobid),
                         'OSError: the network is down')
        self.assertEqual(self.claim(10 ** 6), (None, []))

    def test_an_error_the_policy_does_not_retry_ends_the_job_at_once(self):
        policy = FixedDelay(60)
        self.provideFlaky(policy)
        jobid = self.service.add('flaky')
        self.tm.commit()
        lease, ids = self.claim(1000)
        self.assertTrue(self.service.failJob(jobid, lease, KeyError('x'),
                                             now=1000))
        self.tm.commit()
        self.assertEqual(policy.asked, [])
        self.assertEqual(self.service.getStatus(jobid), 'error')


def test_suite():
    return unittest.defaultTestLoader.loadTestsFromName(__name__)
