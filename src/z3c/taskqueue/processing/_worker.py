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
"""The worker loop: one thread that claims a batch of jobs and runs it.

Nothing stops the loop but a stop: an error of the database or of the
service path is logged once and waited out, longer and longer.
"""
import logging
import random

from ZODB.POSException import ConflictError

from z3c.taskqueue.model import _migration
from z3c.taskqueue.model import _outcome
from z3c.taskqueue.model import _wakeup
from z3c.taskqueue.model._outcome import UNAVAILABLE
from z3c.taskqueue.model.retry import jitteredBackoff
from z3c.taskqueue.processing._committing import Abandoned
from z3c.taskqueue.processing._committing import UNAVAILABLE_WAIT
from z3c.taskqueue.processing._runner import Runner
from z3c.taskqueue.processing._shared import SHARED
from z3c.taskqueue.processing._shared import batchable
from z3c.taskqueue.processing._shared import runShared


log = logging.getLogger('z3c.taskqueue')

#: How often a worker removes expired results, at most (seconds).
EXPIRY_INTERVAL = 1.0


class Worker(Runner):
    """A ``SimpleProcessor``'s loop: claim a batch, run it, and again."""

    def __call__(self):
        p = self.processor
        try:
            with self.lock:
                self.open()
            while not p.stopping.is_set():
                with self.lock:
                    if self.abandoned:
                        return
                    self.reconnect()
                    worked = self.safeStep()
                if worked is False:
                    p.idle(self.seen)
        except Abandoned:
            return
        finally:
            with self.lock:
                self.close()

    def safeStep(self):
        """Run ``step()``, surviving anything but a stop request.

        Return what it returned, or None if it failed.
        """
        p = self.processor
        try:
            return self.step()
        except Abandoned:
            raise
        except ConflictError:
            # Recovering expired jobs, say, next to another worker.
            self.tm.abort()
            self.backOff(jitteredBackoff(1, 0.01, 0.5))
            return None
        except BaseException as error:
            self.tm.abort()
            if _outcome.isStopRequest(error):
                raise
            wait = self.trouble.report('process jobs', error)
            if isinstance(error, UNAVAILABLE):
                wait = min(wait, UNAVAILABLE_WAIT)
            else:
                p.resetCache(self.connection)
            self.backOff(wait)
            return None

    def step(self):
        """Claim and run a batch of jobs; return False if none was due."""
        claimed = self.claim([self])
        if claimed is None:
            return True
        for runner, lease, ids in claimed:
            if ids is SHARED:
                runShared(runner)
            else:
                runner.runBatch(lease, ids)
        return bool(claimed)

    def claim(self, runners, shared=True):
        """Claim a batch of due jobs for each of ``runners``, one lease
        each, in one commit; retire the leases of the batches they ran.

        Return a list of ``(runner, lease, ids)``: empty if no job was
        due, None after a conflict (try again).  ``ids`` is ``SHARED``
        (and ``lease`` None) for a runner that is to run batchable jobs
        in shared commits, which take their jobs themselves; without
        ``shared``, batchable jobs are claimed like the others.  Expired
        leases are recovered first, every quarter of a lease time.
        """
        p = self.processor
        self.seen = _wakeup.current()
        self.tm.begin()
        service = self.service()
        if service._layout != _migration.LAYOUT:
            # Once, in a commit of its own, so that idle polls do not
            # migrate again and again.
            _migration.migrate(service)
            self.tm.commit()
            self.tm.begin()
            service = self.service()
        now = p.clock()
        if now >= self.nextExpiry:
            # Expired results, a few at a time, in a commit of their own.
            self.nextExpiry = now + EXPIRY_INTERVAL
            if service._hasExpired(now):
                service.expireResults(now)
                self.tm.commit()
                self.tm.begin()
                service = self.service()
        retire = [self.connection.get(lease._p_oid)
                  for runner in runners for lease in runner.finished]
        if now >= self.nextRecovery:
            self.nextRecovery = now + p.leaseTime / 4
            if service.recoverExpired(now):
                self.tm.commit()
                self.tm.begin()
                service = self.service()
                retire = [self.connection.get(lease._p_oid)
                          for lease in retire]
        if not service.hasJobsWaiting(now, p.queues):
            if retire:
                self._commitRetired(service, retire, runners)
            else:
                self.tm.abort()
            return []
        isBatchable = batchable(service)

        def notBatchable(job):
            return not isBatchable(job)
        claimed = []
        try:
            for runner in runners:
                sharing = shared and runner.claimShared
                # After shared commits kept conflicting: the contended
                # job alone, with a lease.
                limit = runner.batch if sharing or not shared else 1
                runner.claimShared = True
                lease, ids = service.claimJobs(
                    runner.owner, p.leaseTime, now, limit,
                    runner.queue, queues=p.queues, retire=retire,
                    accept=notBatchable if sharing else None)
                retire = ()
                if not ids:
                    if sharing and not service._queues.isEmpty(p.queues):
                        # The next job is batchable.  Runners that take
                        # the oldest jobs of all would collide: one runs
                        # them; runners of queues of their own all do.
                        claimed.append((runner, None, SHARED))
                        if runner.queue is not None:
                            continue
                    break
                claimed.append((runner, lease, ids))
            self.tm.commit()
        except ConflictError:
            # Someone else took the job: back off and pick again, from
            # another queue, where the others are less likely to be.
            self.tm.abort()
            for runner in runners:
                runner.batch = max(1, runner.batch // 2)
                if runner.queue is not None:
                    runner.queue = random.randrange(1 << 30)
            p.count('conflicts')
            self.backOff(jitteredBackoff(1, 0.01, 0.5))
            return None
        for runner in runners:
            runner.finished = []
        return claimed

    def _commitRetired(self, service, retire, runners):
        for lease in retire:
            service.retireLease(lease)
        try:
            self.tm.commit()
        except ConflictError:
            self.tm.abort()     # the next claim tries again
            return
        for runner in runners:
            runner.finished = []
