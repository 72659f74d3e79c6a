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
"""Workers: the record each processor keeps of itself in the service.

A processor writes its record (a ``WorkerRecord``) when it starts, then
at most every ``heartbeat`` seconds (``INTERVAL`` by default) while it
runs, and removes it when it stops cleanly (see ``_heartbeat``).  So
``z3c-taskqueue status``, the dashboard and ``/metrics`` show every
worker, idle or busy, and when each was last seen.  A worker that missed
``MISSED`` beats is *gone*: killed, or its host is down.  Its record
stays, shown as gone, until another worker removes it ``KEEP`` seconds
after it was last seen.

The records are kept by worker name in an ``OOBTree`` (``Workers``).
Once its record exists, a processor writes only that record: the beats
of different workers never conflict.  Adding or removing a record
changes a bucket of the tree, which BTrees' conflict resolution merges
with other workers' additions and removals, but for a change of the
first key of a bucket: the tree's first key is a sentinel, ``''``,
which no worker name is, so that the first bucket keeps it.
``Workers`` itself is
never written after it is created, and services made before workers
kept records get it at the first beat (``_made``), in one write of the
service.
"""
import time

import persistent
from BTrees.OOBTree import OOBTree


#: How often a processor writes its record, at most (seconds), unless its
#: ``heartbeat`` argument says otherwise.
INTERVAL = 30.0

#: How many beats a worker may miss before it is shown as gone.
MISSED = 3

#: How long the record of a worker that is gone is kept (seconds).
KEEP = 86400.0

ALIVE = 'alive'
GONE = 'gone'

# The first key of the records: no worker is named so.
_SENTINEL = ''

#: What a worker says of itself, besides its name and when it was seen.
_FIELDS = ('started', 'interval', 'host', 'pid', 'processor', 'threads',
           'queues', 'tasks', 'completed', 'failed')


class WorkerRecord(persistent.Persistent):
    """What one worker says of itself: written by that worker only."""

    host = pid = processor = queues = None
    threads = 1
    tasks = ()
    interval = INTERVAL
    completed = failed = 0

    def __init__(self, name, started):
        self.name = name
        self.started = started
        self.lastSeen = started

    def update(self, now, **info):
        """Say that the worker was seen at ``now``, and what ``info``
        says (``WorkerRecord``'s attributes), writing only what
        changed."""
        self.lastSeen = now
        for key, value in info.items():
            if key not in _FIELDS:
                raise TypeError('a worker record has no %r' % (key,))
            if isinstance(value, list):
                value = tuple(value)
            if getattr(self, key) != value:
                setattr(self, key, value)

    def state(self, now):
        """``ALIVE``, or ``GONE`` once ``MISSED`` beats were missed."""
        if now - self.lastSeen > MISSED * self.interval:
            return GONE
        return ALIVE

    def report(self, now):
        """Return what the record says at ``now``, as a dict."""
        return {'name': self.name, 'state': self.state(now),
                'host': self.host, 'pid': self.pid,
                'processor': self.processor, 'threads': self.threads,
                'queues': None if self.queues is None else list(self.queues),
                'tasks': list(self.tasks), 'started': self.started,
                'last seen': self.lastSeen, 'interval': self.interval,
                'completed': self.completed, 'failed': self.failed}


class Workers(persistent.Persistent):
    """The records of the workers, by name.  This object is never written
    after it is created."""

    def __init__(self):
        self._records = OOBTree()
        # Never removed: see the module's docstring.
        self._records[_SENTINEL] = None

    def beat(self, name, now, **info):
        """Record that worker ``name`` was seen at ``now``, with what
        ``info`` says of it (see ``WorkerRecord.update``); return the
        record."""
        if not name or not isinstance(name, str):
            raise ValueError('a worker is named by a string, not %r'
                             % (name,))
        record = self._records.get(name)
        if record is None:
            record = WorkerRecord(name, info.get('started', now))
            self._records[name] = record
        record.update(now, **info)
        return record

    def remove(self, name):
        """Forget worker ``name``; tell whether it was there."""
        if name != _SENTINEL and name in self._records:
            del self._records[name]
            return True
        return False

    def prune(self, now, keep=KEEP):
        """Forget the workers last seen more than ``keep`` seconds before
        ``now``; return their names."""
        old = [record.name for record in self.records()
               if now - record.lastSeen > keep]
        for name in old:
            del self._records[name]
        return old

    def get(self, name):
        return self._records.get(name)

    def records(self):
        """Return the records, by name."""
        return [record for record in self._records.values(
            min=_SENTINEL, excludemin=True)]


class WorkersMixin:
    """The workers part of the task service (see ``ControlsMixin._made``).
    """

    _workers = None

    def workers(self, now=None):
        now = time.time() if now is None else now
        if self._workers is None:
            return []
        return [record.report(now) for record in self._workers.records()]

    def _workerBeat(self, name, now, info, prune=False):
        """Write the record of worker ``name`` (see ``Workers.beat``);
        with ``prune``, remove the records of long gone workers too."""
        workers = self._made('_workers', Workers)
        workers.beat(name, now, **info)
        if prune:
            workers.prune(now)

    def _workerStopped(self, name):
        """Remove the record of worker ``name``, which stopped."""
        if self._workers is not None:
            self._workers.remove(name)
