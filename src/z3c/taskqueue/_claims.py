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
from z3c.taskqueue._outcome import message
from z3c.taskqueue.lease import Lease
from z3c.taskqueue.retry import policyFor


log = logging.getLogger('z3c.taskqueue')


class ClaimsMixin:
    """The part of the task service that worker threads call.

    Each method is meant to run in a transaction of its own: claiming,
    completing and failing a job are separate commits, so that a job is
    never lost between them and its result is committed exactly once.

    A claim charges no attempt: the run does.  ``completeJob()`` and
    ``failJob()`` charge the attempt they record, and a job whose worker
    was lost is charged by ``recoverExpired()`` only if its run had
    begun: the lease lists its jobs in the order the worker runs them, and
    the first one still claimed is the one that was running.
    """

    def claimJobs(self, owner, leaseTime, now=None, limit=1, queue=None):
        if now is None:
            now = time.time()
        ids = []
        while len(ids) < limit:
            jobid = self.claimNextJob(now, queue)
            if jobid is None:
                break
            ids.append(jobid)
        if not ids:
            return None, []
        lease = Lease(owner, now + leaseTime, ids)
        for jobid in ids:
            self.jobs[jobid].lease = lease
        return lease, ids

    def completeJob(self, jobid, lease, output, now=None):
        job = self._claimedJob(jobid, lease)
        if job is None:
            return False
        job.attempts += 1
        self._finish(job, _now(now), output=output)
        return True

    def failJob(self, jobid, lease, error, traceback=None, now=None,
                retry=None):
        job = self._claimedJob(jobid, lease)
        if job is None:
            return False
        job.attempts += 1
        self._recordFailure(job, _now(now), error, traceback, retry)
        return True

    def _recordFailure(self, job, now, error, traceback=None, retry=None):
        """Let ``job``, charged for the run that raised ``error``, wait for
        another attempt or end in ``error``, as its retry policy says."""
        text = error if isinstance(error, str) else message(error)
        policy = policyFor(self._task(job))
        if retry is None:
            retry = (not isinstance(error, str)
                     and policy.shouldRetry(error, job.attempts))
        if retry:
            log.warning('Job %r (task %r) failed in attempt %d, trying'
                        ' again: %s', job.id, job.task, job.attempts, text)
            job.error = text
            job.traceback = traceback
            self._waitAgain(job, now + policy.delay(job.attempts))
        else:
            log.error('Job %r (task %r) failed: %s%s', job.id, job.task,
                      text, '\n' + traceback if traceback else '')
            self._finish(job, now, error=text, traceback=traceback)

    def releaseJob(self, jobid, lease, now=None):
        job = self._claimedJob(jobid, lease)
        if job is None:
            return False
        self._waitAgain(job, _now(now))
        return True

    def renewLease(self, lease, leaseTime, now=None):
        lease.expires = _now(now) + leaseTime

    def recoverExpired(self, now=None):
        now = _now(now)
        expired = {}
        for job in self._loadIndexedIds(interfaces.PROCESSING):
            lease = job.lease
            if lease is None or lease.expires >= now:
                continue
            key = lease._p_oid or id(lease)
            expired.setdefault(key, (lease, []))[1].append(job)
        recovered = []
        for lease, jobs in expired.values():
            if lease._p_jar is not None:
                # A renewal committed meanwhile makes this a conflict.
                lease._p_jar.readCurrent(lease)
            expired = time.strftime('%Y-%m-%d %H:%M:%S UTC',
                                    time.gmtime(lease.expires))
            reason = ('the worker %s was lost: its lease expired at %s'
                      % (lease.owner, expired))
            recovered += self._recoverLease(lease, jobs, now, reason)
        return recovered

    def abandonLease(self, lease, now=None):
        now = _now(now)
        jobs = [job for job in map(self.jobs.get, lease.jobs or ())
                if job is not None and job.status == interfaces.PROCESSING
                and _sameLease(job.lease, lease)]
        return self._recoverLease(
            lease, jobs, now, 'the worker %s stopped before the job ended'
            % (lease.owner,))

    def _recoverLease(self, lease, jobs, now, reason):
        """Let the claimed ``jobs`` of ``lease`` wait again, charging the
        one that was running; return their ids."""
        running = _runningJob(lease, jobs)
        for job in jobs:
            if job is running:
                job.attempts += 1
            elif lease.jobs is not None:
                # Never started: no attempt, no error.
                log.info('Job %r: given back unstarted (%s)', job.id, reason)
                self._waitAgain(job, now)
                continue
            maxAttempts = policyFor(self._task(job)).maxAttempts
            if job.attempts < maxAttempts:
                log.warning('Job %r: %s; trying again', job.id, reason)
                job.error = reason
                self._waitAgain(job, now)
            else:
                log.error('Job %r: %s; giving up after %d attempts',
                          job.id, reason, job.attempts)
                self._finish(job, now, error='%s; gave up after %d attempts'
                             % (reason, job.attempts))
        return [job.id for job in jobs]

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


def _runningJob(lease, jobs):
    """Return the job of ``jobs`` that the worker of ``lease`` was running
    (or about to start) when it was lost; None for a lease that kept no
    order, whose jobs were all charged when they were claimed."""
    if lease.jobs is None:
        return None
    claimed = {job.id: job for job in jobs}
    for jobid in lease.jobs:
        if jobid in claimed:
            return claimed[jobid]
    return None


def _sameLease(current, lease):
    if current is None or lease is None:
        return False
    if current is lease:
        return True
    # The same stored lease, loaded by another connection.
    return current._p_oid is not None and current._p_oid == lease._p_oid


def _now(now):
    return time.time() if now is None else now
