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

from z3c.taskqueue import interfaces
from z3c.taskqueue.model import _index
from z3c.taskqueue.model import _wakeup
from z3c.taskqueue.model._outcome import message


#: The most due jobs one claim moves to their queues: as many as it may
#: claim, and never more than this, so that a claim is never a huge
#: transaction, however many jobs fell due at once.
PROMOTE_LIMIT = 100


class SchedulingMixin:
    """The part of the task service that lets jobs wait for a time, in
    ``_schedule`` (a ``schedule.Schedule``), and queues them when they
    fall due.

    Cron and delayed jobs are pending until a claim computes their due
    time from its ``now``; a claim also moves the jobs due at its ``now``
    to their queues, at their priority, in the order they fell due.
    """

    def _promoteDue(self, now, limit=PROMOTE_LIMIT):
        """Schedule the pending jobs; queue up to ``limit`` of those due
        at ``now``, those due first first."""
        if self._schedule.hasPending():
            for jobid in self._schedule.takePending():
                job = self._loadIndexed(jobid, lambda: None)
                if job is not None and job.status in (interfaces.CRONJOB,
                                                      interfaces.DELAYED):
                    try:
                        self._scheduleAt(job, job.timeOfNextCall(now))
                    except Exception as error:
                        self._failUnrunnable(job, 'cannot be scheduled: %s'
                                             % message(error))
        promoted = 0
        for i in range(PROMOTE_LIMIT):
            due = self._schedule.nextDue(now)
            if due is None or promoted >= limit:
                return
            key, jobid = due
            schedule = self._schedule
            job = self._loadIndexed(jobid, lambda: schedule.pop(key))
            if job is not None:
                self._queueDue(job, _index.keyTime(key), now)
                promoted += 1

    def _queueDue(self, job, dueTime, now):
        """Move ``job``, due at ``dueTime`` (by ``now``), from the schedule
        to its queue."""
        self._schedule.remove(job)
        if interfaces.ICronJob.providedBy(job):
            try:
                instant = job.dueInstant(now)
                if instant is None:
                    # The misfire policy drops every instant due by now.
                    self._scheduleAt(job, job.timeOfNextCall(now))
                    return
                job.scheduledFor = datetime.datetime.fromtimestamp(
                    instant, datetime.timezone.utc)
            except Exception as error:
                self._failUnrunnable(job, 'cannot be scheduled: %s'
                                     % message(error))
                return
        self._setStatus(job, interfaces.QUEUED)
        self._enqueue(job, min(dueTime, now))

    def _scheduleAt(self, job, dueTime):
        """Let ``job`` wait for its run at ``dueTime``."""
        self._schedule.put(job, dueTime)
        job.scheduledFor = datetime.datetime.fromtimestamp(
            dueTime, datetime.timezone.utc)

    def _rescheduleAfterRun(self, job, now):
        self._setStatus(job, interfaces.CRONJOB)
        try:
            self._scheduleAt(job, job.timeOfNextCallAfterRun(now))
        except Exception as error:
            self._failUnrunnable(job, 'cannot be scheduled again: %s'
                                 % message(error))

    def _waitAgain(self, job, dueTime):
        """Let a claimed job wait until ``dueTime`` for another attempt;
        cancel it if a newer job with its key waits (see
        ``_superseded``)."""
        if self._superseded(job):
            return
        if interfaces.ICronJob.providedBy(job):
            status = (interfaces.DELAYED if job.delay is not None
                      else interfaces.CRONJOB)
        else:
            status = interfaces.QUEUED
        self._queues.remove(job)
        self._setStatus(job, status)
        self._schedule.put(job, min(dueTime, _index.MAX_TIME))
        _wakeup.notifyOnCommit(self._transactionManager().get())
