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
"""The dashboard's actions: cancel, retry, clean and retry the failed
jobs of a filter, each a commit on a connection of its own (or a
batch of them), retried after a conflict."""
import time

import transaction
from ZODB.POSException import ConflictError

from z3c.taskqueue import interfaces
from z3c.taskqueue.model._servicepath import findService
from z3c.taskqueue.model.retry import jitteredBackoff
from z3c.taskqueue.reports.jobs import failedJobs
from z3c.taskqueue.reports.jobs import parseDuration
from z3c.taskqueue.reports.pages import BadRequest
from z3c.taskqueue.reports.pages import NotFound


#: How often an action that conflicts is tried.
TRIES = 5

#: The most jobs one ``clean`` action removes (in batches of 1000).
CLEAN_LIMIT = 100000

#: How many jobs a commit of ``retryFailed`` retries, and the most one
#: action retries.
RETRY_BATCH = 1000
RETRY_LIMIT = 100000


class Refused(Exception):
    """The action cannot be done to this job (409); says why."""


def commit(db, path, change):
    """Commit ``change(service)`` on a connection of its own; return what
    it returned.  Conflicts are tried again with jittered backoff."""
    for attempt in range(1, TRIES + 1):
        tm = transaction.TransactionManager()
        connection = db.open(transaction_manager=tm)
        try:
            tm.begin()
            result = change(findService(connection.root(), path))
            tm.commit()
            return result
        except ConflictError:
            tm.abort()
            if attempt == TRIES:
                raise
            time.sleep(jitteredBackoff(attempt, 0.01, 0.5))
        finally:
            tm.abort()
            connection.close()


def cancel(db, path, jobid):
    def change(service):
        if jobid not in service.jobs:
            raise NotFound('there is no job %d' % jobid)
        before = service.getStatus(jobid)
        service.cancel(jobid)
        if service.getStatus(jobid) != interfaces.CANCELLED:
            raise Refused('job %d is %s: only waiting jobs can be cancelled'
                          % (jobid, before))
        return 'job %d cancelled' % jobid
    return commit(db, path, change)


def retry(db, path, jobid):
    def change(service):
        if jobid not in service.jobs:
            raise NotFound('there is no job %d' % jobid)
        try:
            service.retry(jobid)
        except ValueError as error:
            raise Refused(str(error)) from None
        # Queued, or blocked again until the jobs it waits for end.
        return 'job %d %s again' % (jobid, service.getStatus(jobid))
    return commit(db, path, change)


def clean(db, path, form):
    statuses = tuple(form.get('status', ())) or interfaces.FINISHED
    for status in statuses:
        if status not in interfaces.FINISHED:
            raise BadRequest('only finished jobs can be cleaned, not %r'
                             % (status,))
    olderThan = (form.get('older-than') or [''])[0].strip()
    before = None
    if olderThan:
        try:
            before = time.time() - parseDuration(olderThan)
        except ValueError as error:
            raise BadRequest(str(error)) from None
    removed = 0
    while removed < CLEAN_LIMIT:
        batch = commit(db, path, lambda service: service.purge(
            statuses, before, limit=1000))
        removed += batch
        if batch < 1000:
            break
    return 'removed %d job(s)' % removed


def retryFailed(db, path, task=None, queue=None):
    """Retry the failed jobs of ``task`` in ``queue`` (None: any), as
    ``retry()`` does, ``RETRY_BATCH`` a commit; a job that cannot be
    retried is skipped and counted.  Return a dict: ``message``,
    ``retried``, ``skipped``, and ``more`` (True when ``RETRY_LIMIT`` was
    reached before the last)."""
    ids = commit(db, path, lambda service: failedJobs(service, task, queue))
    retried = skipped = 0
    reasons = []

    def change(batch):
        def retryBatch(service):
            done, refused = 0, []
            for jobid in batch:
                if (jobid not in service.jobs or
                        service.getStatus(jobid) != interfaces.ERROR):
                    continue    # removed, or retried, meanwhile
                try:
                    service.retry(jobid)
                except ValueError as error:
                    refused.append(str(error))
                else:
                    done += 1
            return done, refused
        return retryBatch
    more = False
    for start in range(0, len(ids), RETRY_BATCH):
        if retried >= RETRY_LIMIT:
            more = True
            break
        done, refused = commit(db, path,
                               change(ids[start:start + RETRY_BATCH]))
        retried += done
        skipped += len(refused)
        reasons.extend(refused[:3 - len(reasons)])
    message = 'retried %d failed job(s)' % retried
    if skipped:
        message += '; skipped %d that cannot be retried (%s%s)' % (
            skipped, '; '.join(reasons), '; ...' if skipped > len(reasons)
            else '')
    if more:
        message += '; more remain: retry again'
    return {'message': message, 'retried': retried, 'skipped': skipped,
            'more': more}
