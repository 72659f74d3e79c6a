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
"""Progress: how far a running job has got, visible while it runs.

A task calls ``service.setProgress(jobid, fraction, message)``.  The
progress is committed at once, in a small transaction of its own on a
connection of its own, so that other connections see it while the job
runs; it is written to a record of its own, which neither the job's
transaction nor any other worker writes, so it never conflicts with
them.  A chatty task cannot flood the database: progress is committed
at most once a second per job (``INTERVAL``); what is reported in
between is kept, and committed by the next report after the interval
or when the job ends (``flush()``).
"""
import collections
import logging
import threading
import time
import weakref

import BTrees
import persistent
import transaction
from ZODB.POSException import ConflictError

from z3c.taskqueue.model._numbers import isNumber
from z3c.taskqueue.model._timelimit import shielded
from z3c.taskqueue.model.retry import jitteredBackoff


log = logging.getLogger('z3c.taskqueue')

#: The shortest time between two commits of one job's progress (seconds).
INTERVAL = 1.0

#: The longest progress message.
MAX_MESSAGE = 1000

#: How often a progress commit that conflicts is tried.
RETRIES = 3


def checkProgress(fraction, message):
    """Return ``(fraction, message)`` if ``fraction`` is a number from 0
    to 1 and ``message`` None or a string of up to ``MAX_MESSAGE``
    characters; raise ``ValueError`` otherwise."""
    if not isNumber(fraction, 0, 1):
        raise ValueError('progress must be a number from 0 to 1, not %r'
                         % (fraction,))
    if message is not None and not isinstance(message, str):
        raise ValueError('a progress message must be a string or None, not'
                         ' %r' % (message,))
    if message is not None and len(message) > MAX_MESSAGE:
        raise ValueError('a progress message must be at most %d characters'
                         ' long, not %d' % (MAX_MESSAGE, len(message)))
    return float(fraction), message


class Progress(persistent.Persistent):
    """The progress of one job: ``fraction`` (0 to 1), ``message`` and
    ``updated`` (seconds since the epoch)."""

    def __init__(self, fraction, message, updated):
        self.fraction = fraction
        self.message = message
        self.updated = updated

    def __repr__(self):
        return '<Progress %.0f%% %r>' % (self.fraction * 100, self.message)


class ProgressRecords(persistent.Persistent):
    """The progress of each job that reported one, by job id.

    Each job's progress is a record of its own, so a report writes that
    record and nothing else but for a job's first report, which adds an
    entry to ``_byJob`` (an ``LOBTree``; entries of different jobs
    merge).  This object is never written after it is created.
    """

    def __init__(self):
        self._byJob = BTrees.family64.IO.BTree()

    def get(self, jobid):
        return self._byJob.get(jobid)

    def set(self, jobid, fraction, message, updated):
        record = self._byJob.get(jobid)
        if record is None:
            self._byJob[jobid] = Progress(fraction, message, updated)
        elif (record.fraction, record.message) != (fraction, message):
            record.fraction = fraction
            record.message = message
            record.updated = updated

    def discard(self, jobid):
        self._byJob.pop(jobid, None)

    def size(self):
        return len(self._byJob)


# The reports not committed yet, and when each job's progress was last
# committed, by (database, service, job).
_lock = threading.Lock()
_pending = {}
_committed = collections.OrderedDict()
# Jobs run outside a worker are never flushed: remember this many.
_REMEMBERED = 10000
# The connections that progress commits used, by database: between two
# commits they wait in its pool (see ``refresh()``).
_used = weakref.WeakKeyDictionary()


def report(service, jobid, fraction, message=None):
    """Record the progress of job ``jobid`` of the stored ``service``:
    commit it now, unless it was committed less than ``INTERVAL`` ago."""
    fraction, message = checkProgress(fraction, message)
    jar = service._p_jar
    if jar is None or service._p_oid is None:
        service._progressRecords().set(jobid, fraction, message, time.time())
        return
    key = (id(jar.db()), service._p_oid, jobid)
    now = time.monotonic()
    with _lock:
        _pending[key] = (fraction, message, time.time())
        last = _committed.get(key)
        if last is not None and now - last < INTERVAL:
            return
        _committed[key] = now
        _committed.move_to_end(key)
        while len(_committed) > _REMEMBERED:
            _committed.popitem(last=False)
    _commit(jar.db(), service._p_oid, jobid, key, service)


def flush(db, oid, jobid, local=None):
    """Commit what was last reported for job ``jobid`` of the service
    ``oid`` of ``db``, if it was not committed yet; forget when the job's
    progress was last committed.  ``local`` is as for ``_commit()``."""
    key = (id(db), oid, jobid)
    with _lock:
        _committed.pop(key, None)
        if key not in _pending:
            return
    _commit(db, oid, jobid, key, local)


def _commit(db, oid, jobid, key, local):
    """Commit the pending report ``key`` in a connection of its own; for a
    job that is not committed yet, write it in the ``local`` service.

    The job's time limit waits until this is done (see ``_timelimit``).
    """
    with shielded():
        _commitReport(db, oid, jobid, key, local)


def _commitReport(db, oid, jobid, key, local):
    with _lock:
        values = _pending.pop(key, None)
    if values is None:
        return
    tm = transaction.TransactionManager()
    connection = db.open(transaction_manager=tm)
    with _lock:
        _used.setdefault(db, weakref.WeakSet()).add(connection)
    try:
        for attempt in range(1, RETRIES + 1):
            tm.begin()
            try:
                service = connection.get(oid)
                if jobid not in service.jobs:
                    # Added in a transaction that has not committed: no
                    # one else sees the job, nor could conflict.
                    tm.abort()
                    if local is not None:
                        local._progressRecords().set(jobid, *values)
                    return
                service._progressRecords().set(jobid, *values)
                tm.commit()
                return
            except ConflictError:
                tm.abort()
                time.sleep(jitteredBackoff(attempt, 0.01, 0.2))
        log.warning('Job %r: could not commit its progress after %d'
                    ' conflicts; dropped', jobid, RETRIES)
    except Exception as error:
        tm.abort()
        log.warning('Job %r: could not commit its progress: %s', jobid,
                    error)
    finally:
        connection.close()


def refresh(db):
    """Let the connections that progress commits used on ``db``, which
    wait in its pool, catch up with the database.

    ZODB keeps, for each connection in a pool, the oid of every object
    changed since the connection was last open, until it is opened
    again: in a worker whose jobs report progress now and then, the
    connections of those reports would keep the oid of every job run in
    between.  Opening as many connections takes them out of the pool,
    which hands out the ones put back last first: in a worker process,
    these.  Processors call this every second (see ``_leasekeeper``).
    """
    with _lock:
        waiting = sum(1 for connection in _used.get(db, ())
                      if not connection.opened)
    if not waiting:
        return
    tm = transaction.TransactionManager()
    opened = [db.open(transaction_manager=tm) for unused in range(waiting)]
    with _lock:
        _used.setdefault(db, weakref.WeakSet()).update(opened)
    # Back into the pool in the order they came out of it.
    for connection in reversed(opened):
        connection.close()
