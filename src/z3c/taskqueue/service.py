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
import logging
import random
import time

import BTrees
import persistent
import transaction
import zope.component
import zope.event
import zope.interface
from zope.location.interfaces import IContained
from ZODB.POSException import POSKeyError
from ZODB.POSException import StateLoadError

from z3c.taskqueue import _index
from z3c.taskqueue import _servicepath
from z3c.taskqueue import _threads
from z3c.taskqueue import _wakeup
from z3c.taskqueue import events
from z3c.taskqueue import interfaces
from z3c.taskqueue import jobcontext
from z3c.taskqueue import payload
from z3c.taskqueue import processor
from z3c.taskqueue._claims import ClaimsMixin
from z3c.taskqueue._outcome import message
from z3c.taskqueue._running import RunningMixin
from z3c.taskqueue._scheduling import SchedulingMixin
from z3c.taskqueue.job import CronJob
from z3c.taskqueue.job import Job
from z3c.taskqueue.job import utcnow


log = logging.getLogger('z3c.taskqueue')

# Not the random module's own generator: the ids that tests seed it for
# must not depend on how many jobs were queued or claimed.
_random = random.Random()

#: How many queues the queued jobs are spread over: workers that start
#: at different queues rarely claim the same job at the same time.
QUEUE_COUNT = 8

#: The statuses whose jobs are found through an id set: ``clean()`` and
#: ``recoverExpired()`` need them.  Queued, cron and delayed jobs are
#: found through the queues, the schedule and the pending set.
INDEXED = (interfaces.PROCESSING, interfaces.STARTLATER) + interfaces.FINISHED


@zope.interface.implementer(interfaces.IProcessingService, IContained)
class TaskService(ClaimsMixin, RunningMixin, SchedulingMixin,
                  persistent.Persistent):
    """A task service that keeps its jobs in BTrees.

    ``jobs`` maps ids to jobs.  Queued jobs wait in ``_queues``, each a
    BTree keyed by the time the job was queued (see ``_index.timeKey``:
    the oldest job has the largest key, so new jobs go to the front and
    workers take from the end); a job goes to the queue its id picks.
    Cron and delayed jobs wait in ``_pending`` until a ``processNext()``
    computes their due time and moves them to ``_schedule``.
    ``_byStatus`` holds the ids of the jobs in the ``INDEXED`` statuses,
    each status in as many sets as there are queues, a job in the set its
    id picks: workers that take from different queues write different
    sets.
    All of them are BTrees that concurrent transactions change without
    conflict in all but rare cases (see ``_index``); the service object
    itself is never written after it is created.

    No single job can stop the others: an index entry whose job is gone
    is dropped, and a job whose record no longer loads is replaced by one
    in ``error`` that says so (see ``_loadIndexed``).
    """

    __name__ = None
    __parent__ = None

    # Never published by Zope: no user, anonymous or not, may call the
    # service or its methods through the web (ZPublisher checks these).
    __roles__ = ()
    __allow_access_to_unprotected_subobjects__ = False

    taskInterface = interfaces.ITask
    processorFactory = processor.SimpleProcessor
    processorArguments = {'waitTime': 1.0}

    _v_nextid = None
    _v_enqueued = None

    def __init__(self):
        self.jobs = BTrees.family32.IO.BTree()
        self._queues = tuple(_index.newIndex() for i in range(QUEUE_COUNT))
        self._schedule = _index.newIndex()
        self._pending = _index.newIdSet()
        self._byStatus = {
            status: tuple(_index.newIdSet() for i in range(QUEUE_COUNT))
            for status in INDEXED}

    # Adding jobs

    def getAvailableTasks(self):
        return dict(zope.component.getUtilitiesFor(self.taskInterface))

    def add(self, task, input=None, startLater=False, *, runAs=None):
        self._checkTask(task)
        self._checkInput(task, input)
        context = jobcontext.capture(runAs)
        job = Job(self._generateId(), task, input)
        job.context, job.runAs = context, runAs
        status = interfaces.STARTLATER if startLater else interfaces.QUEUED
        self._store(job, status)
        return job.id

    def addCronJob(self, task, input=None, minute=(), hour=(),
                   dayOfMonth=(), month=(), dayOfWeek=(), delay=None, *,
                   cron=None, timezone=None, misfire='coalesce',
                   misfireGrace=None, runAs=None):
        self._checkTask(task)
        self._checkInput(task, input)
        context = jobcontext.capture(runAs)
        job = CronJob(self._generateId(), task, input, minute, hour,
                      dayOfMonth, month, dayOfWeek, delay, cron=cron,
                      timezone=timezone, misfire=misfire,
                      misfireGrace=misfireGrace)
        job.context, job.runAs = context, runAs
        self._store(job, job.status)
        return job.id

    def _checkTask(self, task):
        if not isinstance(task, str):
            raise ValueError('a task name must be a string, not %r' % (task,))
        if zope.component.queryUtility(self.taskInterface, task) is None:
            raise ValueError('no task is registered under the name %r'
                             % (task,))

    def _checkInput(self, task, input):
        payload.checkStorable(input, self._p_jar,
                              'the input of task %r' % (task,))

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
        if status in self._byStatus:
            self._statusSet(status, job.id).add(job.id)
        if status == interfaces.QUEUED:
            self._enqueue(job)
        elif status in (interfaces.CRONJOB, interfaces.DELAYED):
            self._pending.add(job.id)
        zope.event.notify(events.JobAdded(job, self))

    def _enqueue(self, job):
        # Jobs queued in one millisecond keep their order by a counter of
        # this connection's, which starts at random like the ids.
        if self._v_enqueued is None:
            self._v_enqueued = _random.randrange(2 ** 20)
        self._v_enqueued += 1
        job._queueKey = _index.insertBelow(
            self._queueOf(job),
            _index.timeKey(time.time(), self._v_enqueued), job.id)
        _wakeup.notifyOnCommit(self._transactionManager().get())

    def _queueOf(self, job):
        return self._queues[job.id % len(self._queues)]

    def _setStatus(self, job, status):
        if job.status != status:
            if job.status in self._byStatus:
                self._statusSet(job.status, job.id).remove(job.id)
            if status in self._byStatus:
                self._statusSet(status, job.id).add(job.id)
            job.status = status

    def _statusSet(self, status, jobid):
        sets = self._byStatus[status]
        return sets[jobid % len(sets)]

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
        if (interfaces.ICronJob.providedBy(job)
                and job.status == interfaces.PROCESSING):
            return
        if (not interfaces.ICronJob.providedBy(job) or job.status not in
                (interfaces.CRONJOB, interfaces.DELAYED)):
            raise ValueError(
                'job %r is %s: only cron and delayed jobs that wait to run'
                ' can be rescheduled' % (jobid, job.status))
        self._unindex(job)
        self._setStatus(job, interfaces.DELAYED if job.delay is not None
                        else interfaces.CRONJOB)
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
            for jobid in self._idsInStatus(name):
                job = self.jobs.get(jobid)
                if job is not None and _loads(job):
                    self._unindex(job)
                if name in self._byStatus:
                    self._statusSet(name, jobid).remove(jobid)
                if job is not None:
                    del self.jobs[jobid]

    def _idsInStatus(self, status):
        """Return the ids of the jobs in ``status``, from the indexes.

        Cron, delayed and retried jobs are told apart by loading them.
        """
        if status in self._byStatus:
            return [jobid for ids in self._byStatus[status]
                    for jobid in _index.keys(ids)]
        if status not in interfaces.STATUSES:
            raise ValueError('there is no job status %r' % (status,))
        candidates = [self._schedule[key]
                      for key in _index.keys(self._schedule)]
        if status == interfaces.QUEUED:
            candidates += [queue[key] for queue in self._queues
                           for key in _index.keys(queue)]
        else:
            candidates += list(_index.keys(self._pending))
        return [jobid for jobid in candidates
                if self._peekStatus(jobid) == status]

    def _peekStatus(self, jobid):
        """Return the status of job ``jobid``; None if it is gone or does
        not load.  Changes nothing."""
        job = self.jobs.get(jobid)
        return job.status if job is not None and _loads(job) else None

    def _loadIndexed(self, jobid, drop):
        """Return the job ``jobid`` that an index entry names, loaded.

        If the job is gone (deleted from ``jobs`` behind the service's
        back), call ``drop()`` to remove the entry and return None.  If its
        record no longer loads, drop the entry too and replace the job by
        one in ``error`` that says why.
        """
        job = self.jobs.get(jobid)
        if job is None:
            log.warning('Job %r is in an index but not in the jobs: dropping'
                        ' the index entry', jobid)
            drop()
            return None
        try:
            job._p_activate()
        except (StateLoadError, POSKeyError) as error:
            drop()
            self._replaceUnloadable(jobid, error)
            return None
        return job

    def _loadIndexedIds(self, status):
        """Return the jobs whose ids are in the id sets of ``status``."""
        jobs = []
        for ids in self._byStatus[status]:
            for jobid in list(_index.keys(ids)):
                job = self._loadIndexed(
                    jobid, lambda ids=ids, jobid=jobid: ids.remove(jobid))
                if job is not None:
                    jobs.append(job)
        return jobs

    def _replaceUnloadable(self, jobid, error):
        cause = error.__cause__ or error
        reason = ('the record of job %r cannot be loaded (%s); it was'
                  ' replaced by this one' % (jobid, message(cause)))
        log.error('Job %r: %s', jobid, reason)
        job = Job(jobid, '?', None)
        job.status = interfaces.ERROR
        job.error = reason
        job.completed = utcnow()
        self.jobs[jobid] = job
        self._statusSet(interfaces.ERROR, jobid).add(jobid)

    def _failUnrunnable(self, job, reason):
        """End ``job``, which cannot be scheduled or run, in ``error``."""
        log.error('Job %r (task %r): %s', job.id, job.task, reason)
        self._unindex(job)
        job.error = reason
        job.completed = utcnow()
        job.lease = None
        self._setStatus(job, interfaces.ERROR)
        zope.event.notify(events.JobFailed(job, self))

    def _unindex(self, job):
        """Take ``job`` out of the queue, the schedule and the pending set.
        """
        if job._queueKey is not None:
            del self._queueOf(job)[job._queueKey]
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

    def countJobs(self):
        counts = dict.fromkeys(interfaces.STATUSES, 0)
        for status, sets in self._byStatus.items():
            counts[status] = sum(map(_index.size, sets))
        counts[interfaces.QUEUED] = sum(map(_index.size, self._queues))
        # Cron, delayed and retried jobs: not many, one load each.
        waiting = [self._schedule[key] for key in _index.keys(self._schedule)]
        for jobid in waiting + list(_index.keys(self._pending)):
            status = self._peekStatus(jobid)
            if status is not None:
                counts[status] += 1
        return counts

    def oldestQueuedAge(self, now=None):
        keys = [key for key in map(_index.lastKey, self._queues)
                if key is not None]
        if not keys:
            return None
        return (time.time() if now is None else now) - _index.keyTime(
            max(keys))

    # Processing jobs in threads

    def startProcessing(self):
        self.startProcessingAt(_servicepath.servicePath(self))

    def startProcessingAt(self, path):
        if self._p_jar is None:
            raise ValueError('the task service is not stored in a database')
        started = _threads.start(self.processorFactory(
            self._p_jar.db(), path, **self.processorArguments),
            self._processorKey())
        if started:
            log.info('starting service %s', self._displayName(path))
        return started

    def stopProcessing(self, timeout=None):
        name = self._threadName()
        if name is not None and _threads.isRunning(name):
            log.info('stopping service %s', self._displayName())
            _threads.stop(name, timeout)

    def isProcessing(self):
        name = self._threadName()
        return name is not None and _threads.isRunning(name)

    def _processorKey(self):
        # Which service of which database of this process.
        return (id(self._p_jar.db()), self._p_oid)

    def _threadName(self):
        if self._p_jar is None:
            return None
        return _threads.nameFor(self._processorKey())

    def _displayName(self, path=None):
        if self.__name__:
            return self.__name__
        return _servicepath.pathName(path) if path else repr(self)

    # Processing jobs

    def hasJobsWaiting(self, now=None):
        if now is None:
            now = time.time()
        return (_index.firstKey(self._pending) is not None
                or self._hasDueScheduled(now)
                or any(_index.lastKey(queue) is not None
                       for queue in self._queues))

    def claimNextJob(self, now=None, queue=None):
        if now is None:
            now = time.time()
        self._schedulePending(now)
        job = self._nextDueScheduled(now) or self._nextQueued(queue)
        if job is None:
            return None
        self._markProcessing(job)
        return job.id

    def _nextQueued(self, start=None):
        """Return the oldest queued job, or the oldest of queue ``start``.

        If that queue is empty, take from a random one that is not: the
        workers whose queues ran dry spread out instead of crowding the
        next queue.
        """
        while True:
            key, queue = self._nextQueueKey(start)
            if key is None:
                return None
            job = self._loadIndexed(queue[key], lambda: queue.pop(key))
            if job is not None:
                return job

    def _nextQueueKey(self, start):
        queues = self._queues
        if start is not None:
            queue = queues[start % len(queues)]
            key = _index.lastKey(queue)
            if key is not None:
                return key, queue
        found = [(key, queue) for key, queue in
                 zip(map(_index.lastKey, queues), queues)
                 if key is not None]
        if not found:
            return None, None
        if start is None:
            return max(found, key=lambda pair: pair[0])
        return _random.choice(found)

    def _transactionManager(self):
        jar = self._p_jar
        return transaction.manager if jar is None else jar.transaction_manager


def _loads(job):
    """Tell whether the record of ``job`` loads."""
    try:
        job._p_activate()
        return True
    except (StateLoadError, POSKeyError):
        return False
