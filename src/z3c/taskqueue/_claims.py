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
"""Claims: how workers take jobs, record their outcome, and recover them."""
import logging
import time

import zope.component

from z3c.taskqueue import interfaces
from z3c.taskqueue.lease import Lease
from z3c.taskqueue.retry import policyFor


log = logging.getLogger('z3c.taskqueue')


class ClaimsMixin:
    """The part of the task service that worker threads call.

    Each method is meant to run in a transaction of its own: claiming,
    completing and failing a job are separate commits, so that a job is
    never lost between them and its result is committed exactly once.
    """

    def claimJobs(self, owner, leaseTime, now=None, limit=1, queue=None):
        if now is None:
            now = time.time()
        lease = None
        ids = []
        while len(ids) < limit:
            jobid = self.claimNextJob(now, queue)
            if jobid is None:
                break
            if lease is None:
                lease = Lease(owner, now + leaseTime)
            self.jobs[jobid].lease = lease
            ids.append(jobid)
        return lease, ids

    def completeJob(self, jobid, lease, output, now=None):
        job = self._claimedJob(jobid, lease)
        if job is None:
            return False
        self._finish(job, _now(now), output=output)
        return True

    def failJob(self, jobid, lease, error, traceback=None, now=None,
                retry=None):
        job = self._claimedJob(jobid, lease)
        if job is None:
            return False
        now = _now(now)
        message = error if isinstance(error, str) else _message(error)
        policy = policyFor(self._task(job))
        if retry is None:
            retry = (not isinstance(error, str)
                     and policy.shouldRetry(error, job.attempts))
        if retry:
            job.error = message
            job.traceback = traceback
            self._waitAgain(job, now + policy.delay(job.attempts))
        else:
            self._finish(job, now, error=message, traceback=traceback)
        return True

    def releaseJob(self, jobid, lease, now=None):
        job = self._claimedJob(jobid, lease)
        if job is None:
            return False
        job.attempts -= 1
        self._waitAgain(job, _now(now))
        return True

    def renewLease(self, lease, leaseTime, now=None):
        lease.expires = _now(now) + leaseTime

    def recoverExpired(self, now=None):
        now = _now(now)
        recovered = []
        for jobid in self._idsInStatus(interfaces.PROCESSING):
            job = self.jobs[jobid]
            lease = job.lease
            if lease is None or lease.expires >= now:
                continue
            if lease._p_jar is not None:
                # A renewal committed meanwhile makes this a conflict.
                lease._p_jar.readCurrent(lease)
            reason = ('the worker %s was lost: its lease expired at %s'
                      % (lease.owner, time.strftime(
                          '%Y-%m-%d %H:%M:%S UTC', time.gmtime(lease.expires))))
            maxAttempts = policyFor(self._task(job)).maxAttempts
            if job.attempts < maxAttempts:
                log.warning('Job %r: %s; trying again', jobid, reason)
                job.error = reason
                self._waitAgain(job, now)
            else:
                log.error('Job %r: %s; giving up after %d attempts',
                          jobid, reason, job.attempts)
                self._finish(job, now, error='%s; gave up after %d attempts'
                             % (reason, job.attempts))
            recovered.append(jobid)
        return recovered

    def _claimedJob(self, jobid, lease):
        job = self.jobs.get(jobid)
        if (job is not None and job.status == interfaces.PROCESSING
                and _sameLease(job.lease, lease)):
            return job
        log.info('Job %r is no longer claimed by %r: discarding the run',
                 jobid, lease)
        return None

    def _task(self, job):
        return zope.component.queryUtility(self.taskInterface, job.task)


def _sameLease(current, lease):
    if current is None or lease is None:
        return False
    if current is lease:
        return True
    # The same stored lease, loaded by another connection.
    return current._p_oid is not None and current._p_oid == lease._p_oid


def _now(now):
    return time.time() if now is None else now


def _message(error):
    if isinstance(error, interfaces.TaskError):
        return str(error)
    return '%s: %s' % (error.__class__.__name__, error)
