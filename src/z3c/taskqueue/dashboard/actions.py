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
"""The dashboard's actions: cancel, retry and clean, each a commit on a
connection of its own, retried after a conflict."""
import time

import transaction
from ZODB.POSException import ConflictError

from z3c.taskqueue import interfaces
from z3c.taskqueue._jobcommands import parseDuration
from z3c.taskqueue._servicepath import findService
from z3c.taskqueue.command import CommandError
from z3c.taskqueue.dashboard.pages import BadRequest
from z3c.taskqueue.dashboard.pages import NotFound
from z3c.taskqueue.retry import jitteredBackoff


#: How often an action that conflicts is tried.
TRIES = 5

#: The most jobs one ``clean`` action removes (in batches of 1000).
CLEAN_LIMIT = 100000


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
        except CommandError as error:
            raise BadRequest(str(error)) from None
    removed = 0
    while removed < CLEAN_LIMIT:
        batch = commit(db, path, lambda service: service.purge(
            statuses, before, limit=1000))
        removed += batch
        if batch < 1000:
            break
    return 'removed %d job(s)' % removed
