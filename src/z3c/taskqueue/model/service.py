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

from z3c.taskqueue import events
from z3c.taskqueue import interfaces
from z3c.taskqueue.model import _index
from z3c.taskqueue.model import _migration
from z3c.taskqueue.model import _wakeup
from z3c.taskqueue.model import jobcontext
from z3c.taskqueue.model import payload
from z3c.taskqueue.model import queues
from z3c.taskqueue.model._claims import ClaimsMixin
from z3c.taskqueue.model._controls import ControlsMixin
from z3c.taskqueue.model._listing import ListingMixin
from z3c.taskqueue.model._migration import migrated
from z3c.taskqueue.model._outcome import message
from z3c.taskqueue.model._processing import ProcessingMixin
from z3c.taskqueue.model._running import RunningMixin
from z3c.taskqueue.model._scheduling import SchedulingMixin
from z3c.taskqueue.model.dependencies import Dependencies
from z3c.taskqueue.model.history import History
from z3c.taskqueue.model.job import CronJob
from z3c.taskqueue.model.job import Job
from z3c.taskqueue.model.job import assign
from z3c.taskqueue.model.job import loads as _loads
from z3c.taskqueue.model.job import utcnow
from z3c.taskqueue.model.lease import Claims
from z3c.taskqueue.model.queues import JobQueues
from z3c.taskqueue.model.schedule import Schedule
from z3c.taskqueue.model.statusindex import StatusIndex
from z3c.taskqueue.model.throughput import Throughput
from z3c.taskqueue.model.workers import Workers
from z3c.taskqueue.model.workers import WorkersMixin


log = logging.getLogger('z3c.taskqueue')

# Not the random module's own generator: the ids that tests seed it for
# must not depend on how many jobs were queued or claimed.
_random = random.Random()

#: The layout of the indexes that this code reads and writes.  A service
#: of an older layout is migrated by the first method that uses it (see
#: ``_migration``).
LAYOUT = _migration.LAYOUT

#: The statuses in which a job may be claimed by a worker.
CLAIMABLE = (interfaces.QUEUED, interfaces.CRONJOB, interfaces.DELAYED,
             interfaces.PROCESSING)


#: The parts of the service, one concern each: the module that holds it,
#: what it owns, and the helpers it offers the other parts.  The parts
#: share the service's index objects (below) and these helpers only;
#: everything else a part defines is its own (``tests/test_parts.py``
#: keeps this true).
PARTS = {
    'service': ('a job\'s record and its status: add, start, reschedule,'
                ' cancel, clean', ('_store', '_enqueue', '_setStatus',
                                   '_statusOf', '_peekStatus',
                                   '_loadIndexed', '_unindex',
                                   '_failUnrunnable',
                                   '_transactionManager')),
    '_scheduling': ('when a waiting job falls due: cron, delayed and'
                    ' retried jobs', ('_promoteDue', '_waitAgain',
                                      '_rescheduleAfterRun')),
    '_claims': ('how a worker claims jobs under a lease, how a claimed job'
                ' finishes or is recovered', ('_recordFailure', '_task',
                                              '_retireSettled',
                                              '_settledBy')),
    '_running': ('processNext(): a job run in the caller\'s transaction,'
                 ' and how a run ends', ('_finish', '_markProcessing')),
    '_controls': ('unique keys, dependencies, start deadlines, result'
                  ' expiry, throughput and progress',
                  ('_checkControls', '_addControlled', '_waitingWithKey',
                   '_superseded', '_ended', '_expired', '_expire',
                   '_indexEnded', '_countEnded', '_cancelJobs', '_forget',
                   '_scheduleExpiry', '_block', '_unfinished', '_made')),
    '_listing': ('asking about jobs: a job\'s status, result and error,'
                 ' the counts; listing, purging and retrying them',
                 ('_record',)),
    '_processing': ('the processor threads of this process: start, stop',
                    ()),
    'workers': ('the records the workers keep of themselves', ()),
}


@zope.interface.implementer(interfaces.IProcessingService, IContained)
class TaskService(ClaimsMixin, RunningMixin, SchedulingMixin,
                  ControlsMixin, ListingMixin, ProcessingMixin,
                  WorkersMixin, persistent.Persistent):
    """A task service that keeps its jobs in BTrees.

    The class is put together from one mixin per concern (``PARTS``):
    the service is one stored object, the seed's API is its methods,
    and every part reads and writes the same index objects in the
    same transaction, so parts that held their own state or delegated
    calls would add records and indirection without separating
    anything.

    ``jobs`` maps ids to jobs; each index is an object of its own that
    owns its BTrees:

    - ``_queues`` (``queues.JobQueues``): the due jobs, by queue name and
      priority, in the order workers claim them;
    - ``_schedule`` (``schedule.Schedule``): the cron, delayed and
      retried jobs, until they fall due;
    - ``_claims`` (``lease.Claims``): the jobs workers claimed, with
      their leases;
    - ``_statuses`` (``statusindex.StatusIndex``): the finished jobs, the
      jobs that wait to be started, and those claimed without a lease.

    All of them are BTrees that concurrent transactions change without
    conflict in all but rare cases (see ``_index``); the service object
    itself is written only when it is created or migrated.

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
    processorArguments = {'waitTime': 1.0}

    # Services stored before the layout was recorded are of version 1.
    _layout = 1

    _v_nextid = None
    _v_enqueued = None

    def __init__(self):
        self.jobs = BTrees.family32.IO.BTree()
        self._makeIndexes()
        # Made now, so that no heartbeat writes the service object.
        self._workers = Workers()
        self._layout = LAYOUT

    def _makeIndexes(self):
        """Give the service new, empty indexes of its jobs (a new service,
        or one migrated from an old layout)."""
        self._queues = JobQueues()
        self._schedule = Schedule()
        self._claims = Claims()
        self._statuses = StatusIndex()
        self._history = History()
        self._throughput = Throughput()
        # Made now, not when first needed: the end of every job reads its
        # entry current, and would read the service current without it.
        self._dependencies = Dependencies()

    # Adding jobs

    def getAvailableTasks(self):
        return dict(zope.component.getUtilitiesFor(self.taskInterface))

    @migrated
    def add(self, task, input=None, startLater=False, *, runAs=None,
            queue=None, priority=0, key=None, after=(), expires=None,
            timeout=None):
        queue, priority = self._checkJob(task, input, queue, priority)
        key, after, expires, timeout = self._checkControls(
            key, after, expires, timeout, startLater, time.time())
        existing = self._waitingWithKey(key)
        if existing is not None:
            return existing
        context = jobcontext.capture(runAs)
        job = Job(self._generateId(), task, input, queue, priority)
        assign(job, 'context', context)
        assign(job, 'runAs', runAs)
        status = interfaces.STARTLATER if startLater else interfaces.QUEUED
        self._addControlled(job, status, key, after, expires, timeout)
        return job.id

    @migrated
    def addCronJob(self, task, input=None, minute=(), hour=(),
                   dayOfMonth=(), month=(), dayOfWeek=(), delay=None, *,
                   cron=None, timezone=None, misfire='coalesce',
                   misfireGrace=None, runAs=None, queue=None, priority=0):
        queue, priority = self._checkJob(task, input, queue, priority)
        context = jobcontext.capture(runAs)
        job = CronJob(self._generateId(), task, input, minute, hour,
                      dayOfMonth, month, dayOfWeek, delay, cron=cron,
                      timezone=timezone, misfire=misfire,
                      misfireGrace=misfireGrace, queue=queue,
                      priority=priority)
        assign(job, 'context', context)
        assign(job, 'runAs', runAs)
        self._store(job, job.status)
        return job.id

    def _checkJob(self, task, input, queue, priority):
        """Check a new job's task, input, queue and priority; return the
        queue and priority."""
        if not isinstance(task, str):
            raise ValueError('a task name must be a string, not %r' % (task,))
        utility = zope.component.queryUtility(self.taskInterface, task)
        if utility is None:
            raise ValueError('no task is registered under the name %r'
                             % (task,))
        if queue is None:
            queue = getattr(utility, 'queue', None) or queues.DEFAULT
        queues.checkName(queue)
        queues.checkPriority(priority)
        payload.checkStorable(input, self._p_jar,
                              'the input of task %r' % (task,))
        return queue, priority

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
        # Writes the bucket of job.id, not the tree: see _index.
        _index.setEntry(self.jobs, job.id, job, _index.JOBS_STRETCH)
        self._record(job)
        self._statuses.add(status, job.id)
        if status == interfaces.QUEUED:
            self._enqueue(job)
        elif status in (interfaces.CRONJOB, interfaces.DELAYED):
            self._schedule.addPending(job)
        zope.event.notify(events.JobAdded(job, self))

    def _enqueue(self, job, seconds=None):
        """Let ``job`` wait in its queue, as of ``seconds`` (now)."""
        # Jobs queued in one millisecond keep their order by a counter of
        # this connection's, which starts at random like the ids.
        if self._v_enqueued is None:
            self._v_enqueued = _random.randrange(2 ** 20)
        self._v_enqueued += 1
        self._queues.put(job, time.time() if seconds is None else seconds,
                         self._v_enqueued)
        _wakeup.notifyOnCommit(self._transactionManager().get())

    def _setStatus(self, job, status, index=True):
        """Set the status of ``job``, and its entry in the status index
        unless ``index`` is false (the lease's retirement adds it)."""
        if job.status != status:
            self._statuses.remove(job.status, job.id)
            job.status = status
            if index:
                self._statuses.add(status, job.id)
                if status in interfaces.FINISHED:
                    self._scheduleExpiry(job)
                    self._countEnded(job)

    # Managing jobs

    @migrated
    def startJob(self, jobid):
        job = self.jobs[jobid]
        if job.status != interfaces.STARTLATER:
            return False
        self._setStatus(job, interfaces.QUEUED)
        self._enqueue(job)
        return True

    @migrated
    def reschedule(self, jobid):
        job = self.jobs[jobid]
        status = self._statusOf(job)
        if (interfaces.ICronJob.providedBy(job)
                and status == interfaces.PROCESSING):
            return
        if (not interfaces.ICronJob.providedBy(job) or status not in
                (interfaces.CRONJOB, interfaces.DELAYED, interfaces.QUEUED)):
            raise ValueError(
                'job %r is %s: only cron and delayed jobs that wait to run'
                ' can be rescheduled' % (jobid, status))
        self._unindex(job)
        self._setStatus(job, interfaces.DELAYED if job.delay is not None
                        else interfaces.CRONJOB)
        self._schedule.addPending(job)

    @migrated
    def cancel(self, jobid):
        job = self.jobs[jobid]
        if self._statusOf(job) in (interfaces.QUEUED, interfaces.CRONJOB,
                                   interfaces.DELAYED, interfaces.STARTLATER,
                                   interfaces.BLOCKED):
            self._cancelJobs([job])

    @migrated
    def clean(self, status=interfaces.FINISHED):
        if isinstance(status, str):
            status = (status,)
        for name in status:
            if name not in interfaces.STATUSES:
                raise ValueError('there is no job status %r' % (name,))
        if any(name in interfaces.FINISHED for name in status):
            self._retireSettled()
        for name in status:
            for jobid in self._idsInStatus(name):
                job = self.jobs.get(jobid)
                if job is not None and _loads(job):
                    if self._statusOf(job) != name:
                        continue    # cancelled as a dependant meanwhile
                    self._unindex(job)
                self._statuses.remove(name, jobid)
                if job is not None:
                    self._forget(job)
                    del self.jobs[jobid]

    def _idsInStatus(self, status):
        """Return the ids of the jobs in ``status``, from the indexes.

        Cron, delayed, retried and claimed jobs are told apart by loading
        them.
        """
        if status not in interfaces.STATUSES:
            raise ValueError('there is no job status %r' % (status,))
        ids = []
        if self._statuses.indexes(status):
            ids = self._statuses.ids(status)
        if status == interfaces.BLOCKED:
            if self._dependencies is not None:
                ids = self._dependencies.blockedIds()
        elif status == interfaces.PROCESSING:
            ids += [jobid for jobid, lease in self._claims.items()
                    if self._peekStatus(jobid) == status]
        elif status in (interfaces.QUEUED, interfaces.CRONJOB,
                        interfaces.DELAYED):
            candidates = self._schedule.ids() + list(self._queues.ids())
            ids += [jobid for jobid in candidates
                    if self._peekStatus(jobid) == status]
        return ids

    def _peekStatus(self, jobid):
        """Return the status of job ``jobid``; None if it is gone or does
        not load.  Changes nothing."""
        job = self.jobs.get(jobid)
        return self._statusOf(job) if job is not None and _loads(job) else None

    def _statusOf(self, job):
        """Return the status of ``job``: ``processing`` while a worker's
        lease holds it, else the one it records."""
        if (job.status in CLAIMABLE
                and self._claims.leaseOf(job) is not None):
            return interfaces.PROCESSING
        return job.status

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
        self._statuses.add(interfaces.ERROR, jobid)

    def _failUnrunnable(self, job, reason):
        """End ``job``, which cannot be scheduled or run, in ``error``."""
        log.error('Job %r (task %r): %s', job.id, job.task, reason)
        self._unindex(job)
        job.error = reason
        job.completed = utcnow()
        self._setStatus(job, interfaces.ERROR)
        zope.event.notify(events.JobFailed(job, self))
        self._ended(job)

    def _unindex(self, job):
        """Take ``job`` out of its queue and the schedule."""
        self._queues.remove(job)
        self._schedule.remove(job)

    def _transactionManager(self):
        jar = self._p_jar
        return transaction.manager if jar is None else jar.transaction_manager
