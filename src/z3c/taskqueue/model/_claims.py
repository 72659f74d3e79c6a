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
import random
import time

import zope.component

from z3c.taskqueue import interfaces
from z3c.taskqueue.model import _index
from z3c.taskqueue.model._migration import migrated
from z3c.taskqueue.model._outcome import message
from z3c.taskqueue.model.job import loads as _loads
from z3c.taskqueue.model.lease import Lease
from z3c.taskqueue.model.lease import sameLease
from z3c.taskqueue.model.retry import policyFor


log = logging.getLogger('z3c.taskqueue')

#: A job whose commit keeps conflicting waits this long (seconds) before
#: it runs again the first time it is given back, twice as long the
#: next, and so on, up to ``MAX_CONFLICT_DELAY`` (jittered down to half).
CONFLICT_DELAY = 0.25
MAX_CONFLICT_DELAY = 60.0
# What the old package never logged (see docs/operations.rst).
detail = logging.getLogger('z3c_taskqueue')


class ClaimsMixin:
    """The part of the task service that worker threads call.

    Each method is meant to run in a transaction of its own: claiming,
    completing and failing a job are separate commits, so that a job is
    never lost between them and its result is committed exactly once.

    A claim writes a lease and the claim index (``_claims``), not the
    jobs; the commit that records a job's outcome writes the job and
    nothing else, unless the job waits again or its cron job is
    rescheduled.  The worker's next claim retires the lease: it moves the
    finished jobs to the status index, all at once.

    A claim charges no attempt: the run does.  ``completeJob()`` and
    ``failJob()`` charge the attempt they record, and a job whose worker
    was lost is charged by ``recoverExpired()`` only if its run had
    begun: the lease lists its jobs in the order the worker runs them, and
    the first one still claimed is the one that was running.
    """

    @migrated
    def claimJobs(self, owner, leaseTime, now=None, limit=1, queue=None,
                  *, queues=None, retire=(), accept=None):
        if now is None:
            now = time.time()
        for lease in retire:
            self.retireLease(lease)
        jobs = self._takeJobs(now, limit, queues, queue, accept)
        if not jobs:
            return None, []
        ids = [job.id for job in jobs]
        lease = Lease(owner, now + leaseTime, ids, since=now)
        self._claims.claim(lease, ids)
        return lease, ids

    @migrated
    def hasJobsWaiting(self, now=None, queues=None):
        if now is None:
            now = time.time()
        return (self._schedule.hasPending()
                or self._schedule.nextDue(now) is not None
                or not self._queues.isEmpty(queues))

    @migrated
    def claimNextJob(self, now=None, queue=None):
        if now is None:
            now = time.time()
        job = self._takeNext(now, start=queue)
        if job is None:
            return None
        self._markProcessing(job)
        return job.id

    def _takeNext(self, now, queues=None, start=None, accept=None):
        """Take the next due job of ``queues`` (None: all) out of its
        queue and return it; None if none is due, or if ``accept(job)``
        is false for it (then it stays).  The job is not written.

        The jobs of the schedule due at ``now`` are queued first.
        """
        jobs = self._takeJobs(now, 1, queues, start, accept)
        return jobs[0] if jobs else None

    def _takeJobs(self, now, limit, queues=None, start=None, accept=None):
        """Take up to ``limit`` due jobs out of their queues, in the order
        they are to run, stopping at the first for which ``accept(job)``
        is false; return them.  The jobs are not written.

        Their records are fetched all at once: over ZEO, in one round
        trip rather than one each.
        """
        self._promoteDue(now, max(limit, 1))
        jobs = []
        while len(jobs) < limit:
            entries = []
            for key, shard in self._queues.heads(queues, start):
                entries.append((key, shard, shard[key]))
                if len(entries) >= limit - len(jobs):
                    break
            if not entries:
                break
            self._prefetch(jobid for key, shard, jobid in entries)
            dropped = False
            for key, shard, jobid in entries:
                job = self._loadIndexed(jobid, lambda: shard.pop(key))
                if job is None:
                    dropped = True      # a dangling entry, dropped
                    continue
                if self._expired(job, now):
                    self._expire(job)   # never run: cancelled
                    dropped = True
                    continue
                if accept is not None and not accept(job):
                    return jobs
                _index.popEntry(shard, key, None)
                if job.key is not None:
                    # Conflicts with an add() that returns this job to
                    # its caller (see ``_waitingWithKey``).
                    job._p_changed = True
                jobs.append(job)
            if not dropped:
                break
        return jobs

    def _prefetch(self, ids):
        """Ask the storage for the records of jobs ``ids`` at once."""
        jar = self._p_jar
        if jar is None:
            return
        oids = [job._p_oid for job in map(self.jobs.get, ids)
                if job is not None and job._p_oid is not None]
        if len(oids) > 1:
            jar.prefetch(oids)

    @migrated
    def completeJob(self, jobid, lease, output, now=None):
        job = self._endRun(jobid, lease)
        if job is None:
            return False
        self._finish(job, _now(now), output=output, deferred=True,
                     leased=True)
        return True

    @migrated
    def failJob(self, jobid, lease, error, traceback=None, now=None,
                retry=None):
        job = self._endRun(jobid, lease)
        if job is None:
            return False
        self._recordFailure(job, _now(now), error, traceback, retry,
                            deferred=True, leased=True)
        return True

    def _endRun(self, jobid, lease):
        """Return job ``jobid``, whose run under ``lease`` ended, charged
        the attempt, its claim settled and its conflicts forgotten; or
        None, changing nothing, if ``lease`` no longer holds it."""
        job = self._claimedJob(jobid, lease)
        if job is not None:
            job.attempts += 1
            self._claims.settle(job)
            self._settleConflicts(job)
        return job

    def _recordFailure(self, job, now, error, traceback=None, retry=None,
                       deferred=False, leased=False):
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
            self._finish(job, now, error=text, traceback=traceback,
                         deferred=deferred, leased=leased)

    def _deferConflicted(self, jobid, lease, error, traceback, conflicts,
                         now, limit):
        """Give back the claimed job ``jobid``, whose commit conflicted
        ``conflicts`` times in a row (the last ``error``), to run again
        after a delay that grows each time, uncharged.

        Only a job that has conflicted on every try for ``limit`` seconds
        ends in ``error``, naming its conflicts.  The first give-back is
        logged; the job forgets its conflicts once it ends.
        """
        job = self._claimedJob(jobid, lease)
        if job is None:
            return
        self._claims.settle(job)
        since = job._conflictingSince
        if since is None:
            since = job._conflictingSince = now
        rounds = job._conflictRounds = job._conflictRounds + 1
        if now - since >= limit:
            job.attempts += 1
            self._recordFailure(
                job, now, 'gave up after its commit conflicted on every'
                ' try for %d s (%d conflicts, %d in the last try): %s'
                % (now - since, rounds * conflicts, conflicts, error),
                traceback, retry=False, deferred=True, leased=True)
            return
        delay = min(CONFLICT_DELAY * 2 ** rounds, MAX_CONFLICT_DELAY)
        delay = random.uniform(delay / 2, delay)
        if rounds == 1:
            log.warning('Job %r (task %r): its commit conflicted %d times'
                        ' (%s); given back uncharged, to run again in'
                        ' %.1f s', job.id, job.task, conflicts, error, delay)
        self._waitAgain(job, now + delay)

    @migrated
    def releaseJob(self, jobid, lease, now=None):
        job = self._claimedJob(jobid, lease)
        if job is None:
            return False
        self._claims.settle(job)
        self._waitAgain(job, _now(now))
        return True

    @migrated
    def renewLease(self, lease, leaseTime, now=None):
        lease.expires = _now(now) + leaseTime

    @migrated
    def retireLease(self, lease):
        """Drop the claims of ``lease`` that are settled, and index the
        jobs they finished.

        The jobs added to wait for those jobs while they ran, which the
        commit of their end may not have seen, are released here (see
        ``_ended``)."""
        for jobid in lease.jobs or self._claims.idsOf(lease):
            job = self.jobs.get(jobid)
            if (job is not None and _loads(job)
                    and job.status in interfaces.FINISHED
                    and self._settledBy(job, lease)):
                self._indexEnded(job)
                self._ended(job, leased=True)
        self._claims.retire(lease)

    def _retireSettled(self):
        """Retire every lease whose jobs are all settled."""
        for lease, ids in self._claims.leases():
            if all(self._settledBy(self.jobs.get(jobid), lease)
                   for jobid in ids):
                self.retireLease(lease)

    def _settledBy(self, job, lease):
        """Tell whether the claim of ``lease`` on ``job`` is settled."""
        return (job is None or not _loads(job)
                or sameLease(job._lastLease, lease))

    @migrated
    def recoverExpired(self, now=None):
        now = _now(now)
        recovered = []
        for lease, ids in self._claims.leases():
            if lease.expires >= now:
                continue
            if lease._p_jar is not None:
                # A renewal committed meanwhile makes this a conflict.
                lease._p_jar.readCurrent(lease)
            expired = time.strftime('%Y-%m-%d %H:%M:%S UTC',
                                    time.gmtime(lease.expires))
            reason = ('the worker %s was lost: its lease expired at %s'
                      % (lease.owner, expired))
            recovered += self._recoverLease(lease, ids, now, reason)
        return recovered

    @migrated
    def abandonLease(self, lease, now=None):
        now = _now(now)
        return self._recoverLease(
            lease, self._claims.idsOf(lease), now,
            'the worker %s stopped before the job ended' % (lease.owner,))

    @migrated
    def recoverProcess(self, owner, reason, killed=None, now=None):
        now = _now(now)
        recovered = []
        for lease, ids in self._claims.leases():
            if lease.owner.startswith(owner):
                recovered += self._recoverLease(lease, ids, now, reason,
                                                killed or {})
        return recovered

    def _recoverLease(self, lease, ids, now, reason, killed=None):
        """Let the claimed jobs of ``lease`` wait again, charging the one
        that was running; retire the lease; return the jobs' ids.

        ``killed`` (a dict of job id to error) names the jobs the worker
        process was killed for: each ends in ``error`` with its error,
        charged one attempt, whatever its retry policy says.  The other
        running jobs were killed with them through no fault of their own:
        they wait again uncharged, with no error of theirs.  Without
        ``killed`` the worker died on its own, and the running job is
        charged: a job that crashes its process does not run for ever.
        """
        order = list(lease.jobs) if lease.jobs is not None else sorted(ids)
        order += [jobid for jobid in ids if jobid not in order]
        jobs = []
        for jobid in order:
            job = self._loadIndexed(jobid, lambda: None)
            if job is not None and self._claims.holds(job, lease):
                jobs.append(job)
        # The first job still claimed was running, or about to start; a
        # lease that kept no order had all its jobs charged at the claim.
        running = jobs[0] if jobs and lease.jobs is not None else None
        for job in jobs:
            self._claims.settle(job)
            if killed and job.id in killed:
                if lease.jobs is not None:
                    job.attempts += 1
                log.error('Job %r: %s', job.id, killed[job.id])
                self._finish(job, now, error=killed[job.id])
                continue
            started = job is running or lease.jobs is None
            if not started:
                # Never started: no attempt, no error.
                detail.info('Job %r: given back unstarted (%s)', job.id,
                            reason)
                self._waitAgain(job, now)
                continue
            if killed:
                log.warning('Job %r: %s (job %s); given back uncharged',
                            job.id, reason,
                            ', '.join(map(str, sorted(killed))))
                self._waitAgain(job, now)
                continue
            if job is running:
                job.attempts += 1
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
        self.retireLease(lease)
        return [job.id for job in jobs]

    def _settleConflicts(self, job):
        """Let ``job``, which ended or failed, forget its conflicts."""
        if job._conflictingSince is not None:
            del job._conflictingSince
            del job._conflictRounds

    def _claimedJob(self, jobid, lease):
        job = self.jobs.get(jobid)
        if job is not None and self._claims.holds(job, lease):
            return job
        detail.info('Job %r is no longer claimed by %r: discarding the'
                    ' run', jobid, lease)
        return None

    def _task(self, job):
        return zope.component.queryUtility(self.taskInterface, job.task)

    # Shared commits: batchable jobs run in the transaction that takes
    # them, so they need no claim.

    def _putBack(self, jobs):
        """Put ``jobs``, taken by ``_takeJobs()`` and not run, back."""
        for job in jobs:
            self._queues.restore(job)

    def _repairBatch(self, ids, culprit, reason, now):
        """Put right the jobs ``ids`` of a shared commit that did not end
        as the worker meant, and fail job ``culprit`` with ``reason``.

        A task that committed may have committed the batch half done: a
        job taken but not run goes back to its queue, a finished one into
        the status index.
        """
        for jobid in ids:
            job = self.jobs.get(jobid)
            if job is None or not _loads(job):
                continue
            if job.status in interfaces.FINISHED:
                self._indexEnded(job)
                continue
            waiting = (self._queues.holds(job) or self._schedule.holds(job)
                       or self._claims.leaseOf(job) is not None)
            if jobid == culprit:
                if self._claims.leaseOf(job) is None:
                    self._unindex(job)
                    job.attempts += 1
                    self._recordFailure(job, now, reason, retry=False)
            elif not waiting and job.status == interfaces.QUEUED:
                self._queues.restore(job)

    def _indexFinished(self, jobs):
        """Index those of ``jobs`` that finished in this transaction."""
        for job in jobs:
            if job.status in interfaces.FINISHED:
                self._indexEnded(job)


def _now(now):
    return time.time() if now is None else now
