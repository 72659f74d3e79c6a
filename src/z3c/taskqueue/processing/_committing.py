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
"""Committing: how a runner commits what it decided, and meets what
fails on the way.

Its own commits (an outcome, a release) are retried through conflicts
until they succeed or the processor stops; a storage that fails is
waited out, less and less often, until a renewal of the lease commits
again (``probe()``); a job's commit that fails is the job's fault only
if what it wrote cannot be stored, or if the storage refuses its changes
and only its, again and again.  A conflict in a task's run is backed off
and, after the task's ``conflictRetries``, the job is given back to wait
(never charged); an unavailable database is waited for.
"""
import errno
import logging
import traceback

from ZEO.Exceptions import ServerException
from ZODB.POSException import ConflictError

from z3c.taskqueue.model import _outcome
from z3c.taskqueue.model._outcome import UNAVAILABLE
from z3c.taskqueue.model.retry import jitteredBackoff
from z3c.taskqueue.model.retry import policyFor


log = logging.getLogger('z3c.taskqueue')

#: How often a job's commit may fail for the storage, while the storage
#: commits other changes, before the job is failed: a job whose changes
#: this storage refuses (and no other's) would hold its runner forever.
#: Never for a lack of space: that is always the storage's fault.
STORAGE_RETRIES = 3

_NO_SPACE = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)

#: The longest wait for a database that does not answer: a ZEO server
#: that comes back is used within this many seconds.
UNAVAILABLE_WAIT = 5.0

#: How often a runner tries a commit of its own (an outcome, a release)
#: that conflicts before it says so in the log; and how often, once it
#: is asked to stop, before it leaves the jobs to their lease's expiry.
SLOW_COMMIT = 10
STOPPING_TRIES = 10


class Abandoned(Exception):
    """The processor gave up on this runner: it must not touch the
    database again."""


class CommittingMixin:
    """The part of a runner (``_runner.Runner``) that commits and meets
    failures.  It uses the runner's ``tm``, ``connection``,
    ``processor``, ``trouble``, ``service()``, ``backOff()`` and
    ``reconnect()``."""

    def conflicted(self, jobid, lease, task, error, conflicts, started):
        """Back off after a conflict; return True if the job was given
        back to wait (see ``ClaimsMixin._deferConflicted``), once its
        task's ``conflictRetries`` are used up: a conflict is never the
        job's failure."""
        self.tm.abort()
        self.processor.count('conflicts')
        if conflicts <= policyFor(task).conflictRetries:
            self.backOff(jitteredBackoff(conflicts, 0.01, 2.0))
            return False
        formatted = formatException()
        p = self.processor

        def deferConflicted(service):
            service._deferConflicted(
                jobid, lease, _outcome.message(error), formatted, conflicts,
                p.clock(), p.conflictLimit)
        self.commit(deferConflicted, 'give back the conflicting job %r'
                    % jobid, lease)
        return True

    def interrupted(self, error, what):
        """Tell whether ``error``, which ended an attempt to ``what``, is
        no one's failure: the database did not answer, and was waited
        for a little (``unavailable()``); the caller tries again.
        ``Abandoned`` and a stop request are raised again: they end the
        run."""
        if isinstance(error, UNAVAILABLE):
            self.unavailable(what, error)
            return True
        if isinstance(error, Abandoned) or _outcome.isStopRequest(error):
            raise error
        return False

    def atFault(self, error, lease, failures):
        """Tell whether the jobs whose commit failed with ``error`` are to
        blame: only if what they wrote cannot be stored, or if the
        storage refuses their changes, and only theirs, again and again
        (``failures`` times before, and now a renewal of ``lease``
        commits: see ``probe()``).  The connection's cache is reset
        first."""
        self.processor.resetCache(self.connection)
        return _outcome.isDataFault(error) or (
            failures >= STORAGE_RETRIES
            and not noSpace(error)
            and self.probe(lease) is None)

    def unavailable(self, what, error):
        """Abort, and wait a little for a database that does not answer
        (the ZEO server went away, say): not the job's fault; the caller
        tries ``what`` again once the database answers."""
        self.tm.abort()
        self.backOff(min(self.trouble.report(what, error),
                         UNAVAILABLE_WAIT))

    def probe(self, lease):
        """Commit a renewal of ``lease``, which tells whether the storage
        commits at all; return None if it did, else the error."""
        p = self.processor
        try:
            self.tm.begin()
            service = self.service()
            if lease is None:
                # No lease to renew (a shared commit): write the service
                # record, which nothing else writes.
                service._p_changed = True
            else:
                service.renewLease(self.connection.get(lease._p_oid),
                                   p.leaseTime, p.clock())
            self.tm.commit()
            return None
        except BaseException as error:
            self.tm.abort()
            if _outcome.isStopRequest(error):
                raise
            if not isinstance(error, (ConflictError,) + UNAVAILABLE):
                p.resetCache(self.connection)
            return error

    def waitForStorage(self, lease, what, error):
        """Wait, less and less often, until the storage commits again.

        Return True once it does, False if asked to stop first.
        """
        p = self.processor
        while True:
            self.backOff(self.trouble.report(what, error))
            if p.stopping.is_set():
                return False
            error = self.probe(lease)
            if error is None or isinstance(error, ConflictError):
                return True
            if p.storageBroken():
                p.reopen(self.generation)
                self.reconnect()

    def recordFailure(self, jobid, lease, error, formatted=None, retry=None,
                      started=None):
        def record(service):
            if service.failJob(jobid, lease, error, formatted,
                               self.processor.clock(), retry):
                if started is not None:
                    service.jobs[jobid].started = started
        if self.commit(record, 'record the failure of job %r' % jobid,
                       lease):
            self.processor.count('failed')

    def release(self, lease, ids):
        def release(service):
            for jobid in ids:
                service.releaseJob(jobid, lease, self.processor.clock())
        self.commit(release, 'give back the jobs %r' % (ids,), lease)

    def commit(self, change, what, lease):
        """Commit ``change(service)``, retrying conflicts with backoff and
        waiting out a storage that fails.

        Conflicts are retried until the commit succeeds (the lease is
        renewed meanwhile): a conflict never charges a job.  If it cannot
        be committed before a stop, the jobs stay claimed and are
        recovered when their lease expires: they are never lost.
        """
        p = self.processor
        attempt = 0
        while True:
            self.tm.begin()
            try:
                change(self.service())
                self.tm.commit()
                self.trouble.over()
                return True
            except (ConflictError,) + UNAVAILABLE as error:
                self.tm.abort()
                attempt += 1
                if p.stopping.is_set() and attempt >= STOPPING_TRIES:
                    log.error('Processor %s: could not %s before the stop'
                              ' (%s); its lease will expire', p.name, what,
                              _outcome.message(error))
                    return False
                if attempt == SLOW_COMMIT:
                    log.warning('Processor %s: could not %s after %d tries'
                                ' (%s); trying on', p.name, what, attempt,
                                _outcome.message(error))
                self.backOff(jitteredBackoff(attempt, 0.01, 1.0))
            except Exception as error:
                self.tm.abort()
                p.resetCache(self.connection)
                if (_outcome.isDataFault(error) or p.stopping.is_set()
                        or not self.waitForStorage(lease, what, error)):
                    log.error('Processor %s: could not %s: %s; its lease'
                              ' will expire', p.name, what,
                              _outcome.message(error))
                    return False


def noSpace(error):
    """Tell whether ``error`` says that the disk is full, here or on a ZEO
    server."""
    if isinstance(error, OSError):
        return error.errno in _NO_SPACE
    if isinstance(error, ServerException) and len(error.args) == 2:
        name, args = error.args
        return (name in ('builtins.OSError', 'exceptions.OSError')
                and isinstance(args, tuple) and args[:1] and
                args[0] in _NO_SPACE)
    return False


def formatException():
    try:
        return traceback.format_exc()
    except Exception:
        return None
