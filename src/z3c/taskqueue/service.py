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
"""The task service: stores jobs, queues and schedules them, and runs them."""
import datetime
import io
import logging
import math
import pickle
import random
import time
import traceback

import BTrees
import persistent
import transaction
import zope.component
import zope.event
import zope.interface
from ZODB.POSException import ConflictError

from z3c.taskqueue import _index
from z3c.taskqueue import _servicepath
from z3c.taskqueue import _wakeup
from z3c.taskqueue import events
from z3c.taskqueue import interfaces
from z3c.taskqueue import processor
from z3c.taskqueue._claims import ClaimsMixin
from z3c.taskqueue._claims import _message
from z3c.taskqueue.job import CronJob
from z3c.taskqueue.job import Job
from z3c.taskqueue.job import utcnow


log = logging.getLogger('z3c.taskqueue')

# A key in the schedule is the due time in whole seconds (rounded up, so
# that no job runs early) times 2**31, plus the job id: unique without a
# lookup, ordered by due time, and it fits 64 bits until the year 2106.
_ID_BITS = 31
_ID_MASK = 2 ** _ID_BITS - 1


_LAST_SECOND = 2 ** 32 - 1


def _scheduleKey(dueTime, jobid):
    seconds = math.ceil(dueTime)
    if not -_LAST_SECOND <= seconds <= _LAST_SECOND:
        raise ValueError('cannot schedule a job for %r: due times must lie'
                         ' between the years 1834 and 2106' % (dueTime,))
    return (seconds << _ID_BITS) | jobid


def _lastKeyDueAt(now):
    return (math.floor(now) << _ID_BITS) | _ID_MASK


@zope.interface.implementer(interfaces.IProcessingService)
class TaskService(ClaimsMixin, persistent.Persistent):
    """A task service that keeps its jobs in BTrees.

    ``jobs`` maps ids to jobs.  Queued jobs wait in ``_queue``, keyed by
    the negated time they were queued at in microseconds, so the oldest
    job has the largest key and new jobs go to the front; cron and
    delayed jobs wait in ``_pending`` until a ``processNext()`` computes
    their due time and moves them to ``_schedule``.  ``_byStatus`` holds
    the ids of the jobs in each status.  All of them are BTrees that
    concurrent transactions change without conflict (see ``_index``);
    the service object itself is never written after it is created.
    """

    __name__ = None
    __parent__ = None

    taskInterface = interfaces.ITask
    processorFactory = processor.SimpleProcessor
    processorArguments = {'waitTime': 1.0}

    _v_nextid = None

    def __init__(self):
        self.jobs = BTrees.family32.IO.BTree()
        self._queue = _index.newIndex()
        self._schedule = _index.newIndex()
        self._pending = _index.newIdSet()
        self._byStatus = {
            status: _index.newIdSet() for status in interfaces.STATUSES}

    # Adding jobs

    def getAvailableTasks(self):
        return dict(zope.component.getUtilitiesFor(self.taskInterface))

    def add(self, task, input=None, startLater=False):
        self._checkTask(task)
        _checkInput(task, input)
        job = Job(self._generateId(), task, input)
        status = interfaces.STARTLATER if startLater else interfaces.QUEUED
        self._store(job, status)
        return job.id

    def addCronJob(self, task, input=None, minute=(), hour=(),
                   dayOfMonth=(), month=(), dayOfWeek=(), delay=None):
        self._checkTask(task)
        _checkInput(task, input)
        job = CronJob(self._generateId(), task, input, minute, hour,
                      dayOfMonth, month, dayOfWeek, delay)
        self._store(job, job.status)
        return job.id

    def _checkTask(self, task):
        if not isinstance(task, str):
            raise ValueError('a task name must be a string, not %r' % (task,))
        if zope.component.queryUtility(self.taskInterface, task) is None:
            raise ValueError('no task is registered under the name %r'
                             % (task,))

    def _generateId(self):
        # Ids count up from a random start per connection, so that jobs
        # added by concurrent connections fall into different buckets.
        maxint = BTrees.family32.maxint
        while True:
            if self._v_nextid is None or self._v_nextid > maxint:
                self._v_nextid = int(random.random() * maxint)
            jobid = self._v_nextid
            self._v_nextid += 1
            if jobid not in self.jobs:
                return jobid
            self._v_nextid = None

    def _store(self, job, status):
        job.status = status
        self.jobs[job.id] = job
        self._byStatus[status].add(job.id)
        if status == interfaces.QUEUED:
            self._enqueue(job)
        elif status in (interfaces.CRONJOB, interfaces.DELAYED):
            self._pending.add(job.id)
        zope.event.notify(events.JobAdded(job, self))

    def _enqueue(self, job):
        key = -int(time.time() * 1e6)
        job._queueKey = _index.insertBelow(self._queue, key, job.id)
        _wakeup.notifyOnCommit(self._transactionManager().get())

    def _waitAgain(self, job, dueTime):
        """Let a claimed job wait until ``dueTime`` for another run."""
        job.lease = None
        if interfaces.ICronJob.providedBy(job):
            status = interfaces.DELAYED if job.delay else interfaces.CRONJOB
        else:
            status = interfaces.QUEUED
        self._setStatus(job, status)
        job._scheduleKey = _scheduleKey(dueTime, job.id)
        self._schedule[job._scheduleKey] = job.id
        _wakeup.notifyOnCommit(self._transactionManager().get())

    def _setStatus(self, job, status):
        if job.status != status:
            self._byStatus[job.status].remove(job.id)
            self._byStatus[status].add(job.id)
            job.status = status

    # Managing jobs

    def startJob(self, jobid):
        job = self.jobs[jobid]
        if job.status != interfaces.STARTLATER:
            return False
        self._setStatus(job, interfaces.QUEUED)
        self._enqueue(job)
        return True

    def reschedule(self, jobid):
        job = self.jobs[jobid]
        if job.status == interfaces.PROCESSING:
            return
        if (not interfaces.ICronJob.providedBy(job) or job.status not in
                (interfaces.CRONJOB, interfaces.DELAYED)):
            raise ValueError(
                'job %r is %s: only cron and delayed jobs that wait to run'
                ' can be rescheduled' % (jobid, job.status))
        self._unindex(job)
        self._setStatus(
            job, interfaces.DELAYED if job.delay else interfaces.CRONJOB)
        self._pending.add(job.id)

    def cancel(self, jobid):
        job = self.jobs[jobid]
        if job.status in (interfaces.QUEUED, interfaces.CRONJOB,
                          interfaces.DELAYED, interfaces.STARTLATER):
            self._unindex(job)
            self._setStatus(job, interfaces.CANCELLED)
            zope.event.notify(events.JobCancelled(job, self))

    def clean(self, status=interfaces.FINISHED):
        if isinstance(status, str):
            status = (status,)
        for name in status:
            ids = self._byStatus[name]
            for jobid in list(_index.keys(ids)):
                self._unindex(self.jobs[jobid])
                del self.jobs[jobid]
                ids.remove(jobid)

    def _unindex(self, job):
        """Take ``job`` out of the queue, the schedule and the pending set.
        """
        if job._queueKey is not None:
            del self._queue[job._queueKey]
            job._queueKey = None
        if job._scheduleKey is not None:
            del self._schedule[job._scheduleKey]
            job._scheduleKey = None
        if job.id in self._pending:
            self._pending.remove(job.id)

    # Asking about jobs

    def getStatus(self, jobid):
        return self.jobs[jobid].status

    def getResult(self, jobid):
        return self.jobs[jobid].output

    def getError(self, jobid):
        return self.jobs[jobid].error

    # Processing jobs in threads

    def startProcessing(self):
        path = _servicepath.servicePath(self)
        processor.start(self.processorFactory(
            self._p_jar.db(), path, **self.processorArguments))

    def stopProcessing(self, timeout=None):
        if self._p_jar is None:
            return True
        return processor.stop(self._threadName(), timeout)

    def isProcessing(self):
        return self._p_jar is not None and processor.isRunning(
            self._threadName())

    def _threadName(self):
        return 'taskqueue.' + '.'.join(_servicepath.servicePath(self))

    # Processing jobs

    def hasJobsWaiting(self, now=None):
        if now is None:
            now = time.time()
        return (_index.firstKey(self._pending) is not None
                or _index.firstKey(self._schedule, _lastKeyDueAt(now))
                is not None
                or _index.lastKey(self._queue) is not None)

    def claimNextJob(self, now=None):
        if now is None:
            now = time.time()
        self._schedulePending(now)
        job = self._nextDueScheduled(now) or self._nextQueued()
        if job is None:
            return None
        self._unindex(job)
        self._setStatus(job, interfaces.PROCESSING)
        job.attempts += 1
        return job.id

    def _nextQueued(self):
        key = _index.lastKey(self._queue)
        return None if key is None else self.jobs[self._queue[key]]

    # Scheduling cron and delayed jobs

    def _nextDueScheduled(self, now):
        key = _index.firstKey(self._schedule, _lastKeyDueAt(now))
        return None if key is None else self.jobs[self._schedule[key]]

    def _schedulePending(self, now):
        for jobid in list(_index.keys(self._pending)):
            self._pending.remove(jobid)
            job = self.jobs.get(jobid)
            if job is not None and job.status in (interfaces.CRONJOB,
                                                  interfaces.DELAYED):
                self._scheduleAt(job, job.timeOfNextCall(now))

    def _scheduleAt(self, job, dueTime):
        job._scheduleKey = _scheduleKey(dueTime, job.id)
        self._schedule[job._scheduleKey] = job.id
        job.scheduledFor = datetime.datetime.fromtimestamp(
            dueTime, datetime.timezone.utc)

    def processNext(self, now=None, jobid=None):
        if now is None:
            now = time.time()
        if jobid is None:
            jobid = self.claimNextJob(now)
            if jobid is None:
                return False
        else:
            self._claim(self.jobs[jobid])
        self._run(self.jobs[jobid], now)
        return True

    def _claim(self, job):
        if job.status not in (interfaces.QUEUED, interfaces.STARTLATER,
                              interfaces.CRONJOB, interfaces.DELAYED):
            raise ValueError('job %r is %s: it cannot be processed'
                             % (job.id, job.status))
        self._unindex(job)
        self._setStatus(job, interfaces.PROCESSING)
        job.attempts += 1

    def _run(self, job, now):
        job.started = utcnow()
        zope.event.notify(events.JobStarted(job, self))
        task = zope.component.queryUtility(self.taskInterface, job.task)
        if task is None:
            log.error('Job %r: no task is registered under the name %r',
                      job.id, job.task)
            self._finish(job, now, error='no task is registered under the'
                         ' name %r' % (job.task,))
            return
        savepoint = self._transactionManager().savepoint(optimistic=True)
        try:
            output = task(self, job.id, job.input)
        except ConflictError:
            raise
        except Exception as error:
            formatted = traceback.format_exc()
            try:
                savepoint.rollback()
            except Exception:
                # The task's writes cannot be undone here: let the caller
                # abort the whole transaction rather than commit them.
                raise error
            log.info('Job %r (task %r) failed: %s', job.id, job.task, error)
            self._finish(job, now, error=_message(error),
                         traceback=formatted)
        else:
            self._finish(job, now, output=output)

    def _finish(self, job, now, output=None, error=None, traceback=None):
        job.completed = utcnow()
        job.error = error
        job.traceback = traceback
        job.lease = None
        if error is None:
            job.output = output
        if interfaces.ICronJob.providedBy(job) and not job.delay:
            job.attempts = 0    # the next run is a new one
            self._rescheduleAfterRun(job, now)
        else:
            self._setStatus(job, interfaces.COMPLETED if error is None
                            else interfaces.ERROR)
        zope.event.notify(events.JobCompleted(job, self) if error is None
                          else events.JobFailed(job, self))

    def _rescheduleAfterRun(self, job, now):
        self._setStatus(job, interfaces.CRONJOB)
        self._scheduleAt(job, job.timeOfNextCall(now))

    def _transactionManager(self):
        jar = self._p_jar
        return transaction.manager if jar is None else jar.transaction_manager


class _InputPickler(pickle.Pickler):
    """Pickles like the database would: stored objects by reference."""

    def persistent_id(self, obj):
        if (isinstance(obj, persistent.Persistent)
                and obj._p_jar is not None):
            return obj._p_oid
        return None


def _checkInput(task, input):
    try:
        _InputPickler(io.BytesIO(), protocol=3).dump(input)
    except Exception as error:
        raise TypeError(
            'the input of task %r cannot be stored in the database: %s'
            % (task, error)) from error
