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
"""Job controls: unique keys, dependencies, start deadlines, progress and
the expiry of results (the part of the task service that keeps them).

Each has an index of its own (``uniquekeys``, ``dependencies``,
``expiry``, ``progress``), made when it is first needed: services stored
before these controls existed get them then, in one write of the
service.
"""
import datetime
import time

import zope.event

from z3c.taskqueue import events
from z3c.taskqueue import interfaces
from z3c.taskqueue.model import progress
from z3c.taskqueue.model._index import readCurrent as _readCurrent
from z3c.taskqueue.model._migration import migrated
from z3c.taskqueue.model._numbers import isNumber
from z3c.taskqueue.model._timelimit import checkTimeout
from z3c.taskqueue.model.dependencies import Dependencies
from z3c.taskqueue.model.expiry import ResultExpiry
from z3c.taskqueue.model.expiry import checkTTL
from z3c.taskqueue.model.job import MAX_DELAY
from z3c.taskqueue.model.job import assign
from z3c.taskqueue.model.job import loads as _loads
from z3c.taskqueue.model.progress import ProgressRecords
from z3c.taskqueue.model.throughput import Throughput
from z3c.taskqueue.model.uniquekeys import UniqueKeys
from z3c.taskqueue.model.uniquekeys import checkKey


#: The statuses of a job that has not started yet: a job with a key in
#: one of them is returned by ``add()`` with its key.
WAITING = (interfaces.QUEUED, interfaces.DELAYED, interfaces.STARTLATER,
           interfaces.BLOCKED)

#: How many finished jobs ``expireResults()`` removes at most, by default.
EXPIRY_BATCH = 100


class ControlsMixin:
    """Unique keys, dependencies, start deadlines, progress and result
    expiry."""

    _resultTTL = None

    @property
    def resultTTL(self):
        return self._resultTTL

    @resultTTL.setter
    def resultTTL(self, ttl):
        self._resultTTL = checkTTL(ttl)

    _keys = None
    _throughput = None
    _dependencies = None
    _expiry = None
    _progress = None

    def _made(self, name, factory):
        """Return the index ``name``, made (writing the service) if this
        service has none yet."""
        index = getattr(self, name)
        if index is None:
            index = factory()
            setattr(self, name, index)
        return index

    def _progressRecords(self):
        return self._made('_progress', ProgressRecords)

    # Checking a new job's controls

    def _checkControls(self, key, after, expires, timeout, startLater,
                       now):
        """Check the controls ``add()`` was given; return the key, the
        ids of the jobs to wait for, the start deadline (seconds since
        the epoch) and the timeout."""
        key = checkKey(key)
        timeout = checkTimeout(timeout)
        if expires is not None:
            expires = _deadline(expires, now)
        if isinstance(after, (str, bytes)) or not hasattr(after, '__iter__'):
            raise ValueError('after must be a list of job ids, not %r'
                             % (after,))
        ids = []
        for jobid in after:
            if isinstance(jobid, bool) or not isinstance(jobid, int):
                raise ValueError('after must list job ids (integers), not'
                                 ' %r' % (jobid,))
            job = self.jobs.get(jobid)
            if job is None:
                raise ValueError('after names job %r, which does not exist'
                                 % (jobid,))
            if (interfaces.ICronJob.providedBy(job)
                    and job.delay is None):
                raise ValueError('after names job %r, a cron job: it never'
                                 ' completes for good, so nothing can wait'
                                 ' for it' % (jobid,))
            if jobid not in ids:
                ids.append(jobid)
        if ids and startLater:
            raise ValueError('a job cannot both start later and wait for'
                             ' other jobs (after=%r)' % (ids,))
        return key, ids, expires, timeout

    def _waitingWithKey(self, key):
        """Return the id of the job that waits with ``key``, or None.

        The job is written: a worker that takes it in a transaction that
        commits first (a claim, or a shared commit, writes a keyed job)
        makes this one conflict, and its retry adds a new job; a take
        that commits later runs the job on what this transaction
        committed.  Without the write, the caller's change could commit
        after a worker began the job on the data before it.
        """
        if key is None or self._keys is None:
            return None
        jobid = self._keys.get(key)
        job = None if jobid is None else self.jobs.get(jobid)
        if (job is not None and _loads(job)
                and self._statusOf(job) in WAITING):
            job._p_changed = True
            return jobid
        return None

    def _superseded(self, job):
        """Cancel ``job``, which is to wait again after it was claimed,
        if a newer job added with its key waits; return True if it did.

        While ``job`` ran, ``add()`` with its key added a new job (one
        that runs on newer data): two jobs would wait for one key.  A
        job that others wait for is kept: cancelling it would cancel
        them.
        """
        key = job.key
        if key is None or self._keys is None:
            return False
        newer = self._keys.get(key)
        if newer is None or newer == job.id:
            return False
        other = self.jobs.get(newer)
        if (other is None or not _loads(other)
                or self._statusOf(other) not in WAITING
                or self._dependencies is not None
                and self._dependencies.hasDependants(job.id)):
            return False
        self._cancelJobs([job], 'superseded by job %r, added with the same'
                         ' key %r while this one ran' % (newer, key))
        return True

    def _addControlled(self, job, status, key, after, expires, timeout):
        """Store the new ``job`` in ``status`` with its controls."""
        assign(job, 'key', key)
        assign(job, 'timeout', timeout)
        assign(job, 'expires', expires)
        blockers, failed = self._unfinished(after)
        if after:
            job.after = tuple(after)
        if blockers and failed is None:
            status = interfaces.BLOCKED
        self._store(job, status)
        if key is not None:
            self._made('_keys', UniqueKeys).set(key, job.id)
        if failed is not None:
            self._cancelJobs([job], _failedDependency(failed))
        elif blockers:
            self._block(job, blockers)

    def _unfinished(self, after):
        """Return the ids of the jobs of ``after`` that have not ended
        yet, and the first of them that failed or was cancelled (None if
        none did).

        Every end of a job writes it: the jobs that have not ended are
        read current, so that if one of them ends in a transaction that
        commits first, this one conflicts, and its retry sees the end.
        """
        blockers, failed = [], None
        for jobid in after:
            other = self.jobs[jobid]
            otherStatus = self._statusOf(other)
            if otherStatus in (interfaces.ERROR, interfaces.CANCELLED):
                failed = failed or other
            elif otherStatus != interfaces.COMPLETED:
                blockers.append(jobid)
                _readCurrent(other)
        return blockers, failed

    def _block(self, job, blockers):
        """Let ``job`` wait for the jobs ``blockers``, which have not
        ended."""
        self._made('_dependencies', Dependencies).block(job, blockers)

    # Dependencies

    def _ended(self, job, leased=False):
        """Release or cancel the jobs that wait for ``job``, which ended
        for good (completed, failed or cancelled).

        A job added meanwhile to wait for ``job``, in a transaction that
        has committed since this one began, must not be missed.  Unless
        ``leased``, this commit is made to conflict with it (the entry
        is read current).  A ``leased`` job's run committed what its task
        did: a conflict would run the task again, and a long job could
        be run again and again.  Its lease's retirement, a later
        transaction, calls this again instead (``retireLease``): it sees
        every job added before this commit, and one added after it read
        the job current (``_addControlled``), so it conflicts and then
        finds the job ended.
        """
        if not leased:
            self._readDependantsCurrent(job.id)
        if (self._dependencies is None
                or not self._dependencies.hasDependants(job.id)):
            return
        dependencies = self._dependencies
        ids = dependencies.takeDependants(job.id)
        if job.status != interfaces.COMPLETED:
            self._cancelJobs(self._blockedJobs(ids), _failedDependency(job))
            return
        for dependant in self._blockedJobs(ids):
            waiting = tuple(jobid for jobid in dependant._waitingFor or ()
                            if jobid != job.id)
            if waiting:
                dependant._waitingFor = waiting
            else:
                dependencies.unblock(dependant)
                self._setStatus(dependant, interfaces.QUEUED)
                self._enqueue(dependant)

    def _readDependantsCurrent(self, jobid):
        """Make this transaction's commit fail with a ``ConflictError`` if
        a job was added to wait for job ``jobid`` in a transaction that
        committed since this one began."""
        if self._dependencies is not None:
            self._dependencies.readCurrent(jobid)
        else:
            # The index is made by a write of the service.
            _readCurrent(self)

    def _blockedJobs(self, ids):
        jobs = []
        for jobid in ids:
            job = self._loadIndexed(jobid, lambda: None)
            if job is not None and job.status == interfaces.BLOCKED:
                jobs.append(job)
        return jobs

    def _cancelJobs(self, jobs, reason=None):
        """Cancel ``jobs``, which have not started, with the error
        ``reason``, and then the jobs that wait for them."""
        jobs = list(jobs)
        while jobs:
            job = jobs.pop()
            self._unindex(job)
            if job.status == interfaces.BLOCKED:
                self._dependencies.dropDependant(job)
            assign(job, 'error', reason)
            if reason is not None:
                job.completed = datetime.datetime.now(datetime.timezone.utc)
            self._setStatus(job, interfaces.CANCELLED)
            zope.event.notify(events.JobCancelled(job, self))
            self._readDependantsCurrent(job.id)
            if (self._dependencies is not None
                    and self._dependencies.hasDependants(job.id)):
                jobs.extend(self._blockedJobs(
                    self._dependencies.takeDependants(job.id)))
                reason = _failedDependency(job)

    # Start deadlines

    def _expired(self, job, now):
        """Tell whether ``job`` missed its start deadline at ``now``."""
        return (job.expires is not None and not job.attempts
                and now > job.expires)

    def _expire(self, job):
        self._cancelJobs([job], 'expired: not started by %s' % (
            datetime.datetime.fromtimestamp(
                job.expires, datetime.timezone.utc).isoformat(),))

    # Result expiry

    def _scheduleExpiry(self, job):
        """Let ``job``, which just finished, expire after its time to
        live, if it has one."""
        task = self._task(job)
        ttl = getattr(task, 'resultTTL', None)
        if ttl is None:
            ttl = self.resultTTL
        if ttl is None or job._expiryKey is not None:
            return
        completed = job.completed
        since = time.time() if completed is None else completed.timestamp()
        self._made('_expiry', ResultExpiry).put(job, since + ttl)

    def _indexEnded(self, job):
        """Put ``job``, which finished, in the status index."""
        self._statuses.add(job.status, job.id)
        self._scheduleExpiry(job)
        self._countEnded(job)

    def _countEnded(self, job):
        """Count ``job``, which just finished, in the throughput."""
        completed = job._completed
        self._made('_throughput', Throughput).count(
            job.status, time.time() if completed is None else completed)

    @migrated
    def countFinished(self, seconds, now=None):
        if self._throughput is None:
            return dict.fromkeys(interfaces.FINISHED, 0)
        return self._throughput.recent(
            time.time() if now is None else now, seconds)

    @migrated
    def expireResults(self, now=None, limit=EXPIRY_BATCH):
        if self._expiry is None:
            return 0
        now = time.time() if now is None else now
        removed = 0
        for jobid in self._expiry.takeExpired(now, limit):
            job = self.jobs.get(jobid)
            if job is None:
                continue
            if _loads(job):
                status = self._statusOf(job)
                if (status not in interfaces.FINISHED
                        or self._dependencies is not None
                        and self._dependencies.hasDependants(jobid)):
                    del job._expiryKey
                    continue
                self._statuses.remove(status, jobid)
            self._forget(job)
            del self.jobs[jobid]
            removed += 1
        return removed

    def _hasExpired(self, now):
        """Tell, cheaply, whether a finished job has expired at ``now``."""
        return self._expiry is not None and self._expiry.hasExpired(now)

    def _forget(self, job):
        """Drop what the controls keep of ``job``, which is being
        removed; cancel the jobs that wait for it."""
        if self._keys is not None:
            self._keys.discard(job.__dict__.get('key'), job.id)
        if self._progress is not None:
            self._progress.discard(job.id)
        if _loads(job):
            if self._expiry is not None:
                self._expiry.remove(job)
            if self._history is not None:
                self._history.remove(job)
        self._readDependantsCurrent(job.id)
        if self._dependencies is not None:
            if _loads(job) and job.status == interfaces.BLOCKED:
                self._dependencies.dropDependant(job)
            if self._dependencies.hasDependants(job.id):
                self._cancelJobs(self._blockedJobs(
                    self._dependencies.takeDependants(job.id)),
                    'job %r, which it waited for, was removed' % (job.id,))

    # Progress

    def setProgress(self, jobid, fraction, message=None):
        if jobid not in self.jobs:
            raise KeyError(jobid)
        progress.report(self, jobid, fraction, message)

    def getProgress(self, jobid):
        if jobid not in self.jobs:
            raise KeyError(jobid)
        record = None if self._progress is None else self._progress.get(
            jobid)
        return None if record is None else (record.fraction, record.message)


def _failedDependency(job):
    """Say why the jobs that wait for ``job`` are cancelled."""
    reason = 'job %r, which it waited for, ended %s' % (job.id, job.status)
    return '%s: %s' % (reason, job.error) if job.error else reason


def _deadline(expires, now):
    """Return the start deadline ``expires`` (seconds from ``now``, or an
    aware datetime) in seconds since the epoch."""
    if isinstance(expires, datetime.datetime):
        if expires.tzinfo is None or expires.utcoffset() is None:
            raise ValueError('expires must be an aware datetime (with a time'
                             ' zone), not the naive %r' % (expires,))
        return expires.timestamp()
    if not isNumber(expires, 0, MAX_DELAY):
        raise ValueError('expires must be a number of seconds from 0 to %d,'
                         ' or an aware datetime, not %r'
                         % (MAX_DELAY, expires))
    return now + expires
