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
"""Scheduling: when cron, delayed and retried jobs fall due."""
import datetime

from z3c.taskqueue import _index
from z3c.taskqueue import _wakeup
from z3c.taskqueue import interfaces
from z3c.taskqueue._outcome import message


class SchedulingMixin:
    """The part of the task service that keeps jobs waiting for a time.

    Cron and delayed jobs wait in ``_pending`` until a ``processNext()``
    (or a worker's claim) computes their due time from its ``now``; then
    they wait in ``_schedule``, keyed by due time (see
    ``_index.timeKey``), as do jobs waiting to be retried.
    """

    def _schedulePending(self, now):
        for jobid in list(_index.keys(self._pending)):
            self._pending.remove(jobid)
            job = self._loadIndexed(jobid, lambda: None)
            if job is not None and job.status in (interfaces.CRONJOB,
                                                  interfaces.DELAYED):
                try:
                    self._scheduleAt(job, job.timeOfNextCall(now))
                except Exception as error:
                    self._failUnrunnable(job, 'cannot be scheduled: %s'
                                         % message(error))

    def _scheduleAt(self, job, dueTime):
        """Let ``job`` wait for its run at ``dueTime``."""
        self._insertScheduled(job, dueTime)
        job.scheduledFor = datetime.datetime.fromtimestamp(
            dueTime, datetime.timezone.utc)

    def _insertScheduled(self, job, dueTime):
        job._scheduleKey = _index.insertBelow(
            self._schedule, _index.timeKey(dueTime, job.id), job.id)

    def _hasDueScheduled(self, now):
        key = _index.lastKey(self._schedule)
        return key is not None and key >= _index.dueLimit(now)

    def _nextDueScheduled(self, now):
        limit = _index.dueLimit(now)
        while True:
            key = _index.lastKey(self._schedule)
            if key is None or key < limit:
                return None
            schedule = self._schedule
            job = self._loadIndexed(schedule[key], lambda: schedule.pop(key))
            if job is None:
                continue
            if not interfaces.ICronJob.providedBy(job):
                return job      # a queued job waiting to be retried
            try:
                instant = job.dueInstant(now)
                if instant is not None:
                    job.scheduledFor = datetime.datetime.fromtimestamp(
                        instant, datetime.timezone.utc)
                    return job
                # The job's misfire policy drops every instant due by now.
                self._unindex(job)
                self._scheduleAt(job, job.timeOfNextCall(now))
            except Exception as error:
                self._failUnrunnable(job, 'cannot be scheduled: %s'
                                     % message(error))

    def _rescheduleAfterRun(self, job, now):
        self._setStatus(job, interfaces.CRONJOB)
        try:
            self._scheduleAt(job, job.timeOfNextCallAfterRun(now))
        except Exception as error:
            self._failUnrunnable(job, 'cannot be scheduled again: %s'
                                 % message(error))

    def _waitAgain(self, job, dueTime):
        """Let a claimed job wait until ``dueTime`` for another attempt."""
        job.lease = None
        if interfaces.ICronJob.providedBy(job):
            status = (interfaces.DELAYED if job.delay is not None
                      else interfaces.CRONJOB)
        else:
            status = interfaces.QUEUED
        self._setStatus(job, status)
        self._insertScheduled(job, min(dueTime, _index.MAX_TIME))
        _wakeup.notifyOnCommit(self._transactionManager().get())
