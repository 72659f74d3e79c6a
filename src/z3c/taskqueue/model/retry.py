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
"""Retry policies: which failures of a task are tried again, and when."""
import random

import zope.interface

from z3c.taskqueue import interfaces


@zope.interface.implementer(interfaces.IRetryPolicy)
class RetryPolicy:
    """Try a job again after errors of the given types, with backoff.

    Not persistent: a policy belongs to its task, which is registered in
    code or ZCML, so changing it never needs a database migration.
    """

    def __init__(self, maxAttempts=3, retryOn=(), backoff=1.0,
                 maxBackoff=300.0, conflictRetries=5):
        if maxAttempts < 1:
            raise ValueError('maxAttempts must be at least 1, not %r'
                             % (maxAttempts,))
        if conflictRetries < 0:
            raise ValueError('conflictRetries must not be negative, not %r'
                             % (conflictRetries,))
        self.maxAttempts = maxAttempts
        self.retryOn = tuple(retryOn)
        self.backoff = backoff
        self.maxBackoff = maxBackoff
        self.conflictRetries = conflictRetries

    def shouldRetry(self, error, attempts):
        return (attempts < self.maxAttempts
                and isinstance(error, self.retryOn))

    def delay(self, attempts):
        return jitteredBackoff(attempts, self.backoff, self.maxBackoff)

    def __repr__(self):
        return '<%s maxAttempts=%r retryOn=%r>' % (
            self.__class__.__name__, self.maxAttempts,
            tuple(e.__name__ for e in self.retryOn))


#: Retries nothing but conflicts; a job whose worker was lost is run
#: again until it has been started three times.
DEFAULT_POLICY = RetryPolicy()


def policyFor(task):
    """Return the retry policy of ``task``, or the default one."""
    return getattr(task, 'retryPolicy', None) or DEFAULT_POLICY


def jitteredBackoff(attempt, base, maximum):
    """Return a random delay in [0, min(maximum, base * 2**attempt)].

    "Full jitter": concurrent workers that failed together spread out
    instead of colliding again at the same instant.
    """
    return random.uniform(0, min(maximum, base * 2 ** max(attempt, 0)))
