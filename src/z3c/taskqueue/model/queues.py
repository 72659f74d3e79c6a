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
"""Queues: where due jobs wait to be claimed, by name and priority.

Each named queue is spread over a few shards, plain ``LLBTree``s (see
``_index``) keyed by ``_index.queueKey()``: the highest priority and,
within a priority, the oldest job has the largest key, so a shard is
consumed from its end.  A job goes to the shard its id picks; workers
that start at different shards rarely claim the same job at the same
time.
"""
import random

import persistent
from BTrees.OOBTree import OOBTree

from z3c.taskqueue.model import _index
from z3c.taskqueue.model._numbers import isInteger


#: The queue of jobs whose task and ``add()`` name none.
DEFAULT = 'default'

#: How many shards a queue has.
SHARDS = 8

#: The longest name of a queue.
MAX_NAME = 100

#: How many times its usual size (120) the bucket where new jobs wait
#: grows before it is split.  Workers take jobs from the other end of a
#: shard, and the bucket they empty leaves its tree: both that and a
#: split write the shard's tree, so a transaction that adds many jobs
#: while workers claim (1,000 in one commit) would conflict with nearly
#: every claim if it split the bucket for every 60 jobs of a shard.
STRETCH = 4

_random = random.Random()


def checkName(name):
    """Return ``name`` if it can name a queue; raise ``ValueError``."""
    if (not isinstance(name, str) or not name or len(name) > MAX_NAME
            or not name.isprintable() or name.strip() != name):
        raise ValueError(
            'a queue name must be a non-empty string of at most %d'
            ' printable characters without surrounding spaces, not %r'
            % (MAX_NAME, name))
    return name


def checkPriority(priority):
    """Return ``priority`` if it is one; raise ``ValueError``."""
    if not isInteger(priority, _index.MIN_PRIORITY, _index.MAX_PRIORITY):
        raise ValueError(
            'a priority must be an integer from %d to %d, not %r'
            % (_index.MIN_PRIORITY, _index.MAX_PRIORITY, priority))
    return priority


class JobQueues(persistent.Persistent):
    """The named queues of a task service.

    A job is in at most one queue, at the key it keeps in ``_queueKey``
    (in the shard of its ``queue`` its id picks).  A worker that claims
    a job takes its entry out without writing the job, so a job's key may
    be stale: every removal checks that the entry is the job's.

    The object itself is written only when a queue is first used; its
    shards are the BTrees that concurrent transactions change.
    """

    def __init__(self, shards=SHARDS):
        self.shards = shards
        self._byName = OOBTree()

    def _shards(self, name, create=False):
        shards = self._byName.get(name)
        if shards is None and create:
            shards = tuple(_index.newIndex() for i in range(self.shards))
            self._byName[name] = shards
        return shards

    def _shardOf(self, job, create=False):
        shards = self._shards(job.queue, create)
        return None if shards is None else shards[job.id % len(shards)]

    def put(self, job, seconds, tieBreaker):
        """Queue ``job`` as of ``seconds`` at its priority."""
        job._queueKey = _index.insertBelow(
            self._shardOf(job, create=True),
            _index.queueKey(job.priority, seconds, tieBreaker), job.id,
            STRETCH)

    def restore(self, job):
        """Put ``job`` back at the key it was taken from."""
        _index.setEntry(self._shardOf(job, create=True), job._queueKey,
                        job.id, STRETCH)

    def remove(self, job):
        """Take ``job`` out of its queue, if it is in it."""
        key = job._queueKey
        if key is not None:
            shard = self._shardOf(job)
            if shard is not None:
                # The key may be stale: the entry is another job's.
                _index.removeEntry(shard, key, job.id)
            del job._queueKey

    def holds(self, job):
        """Tell whether ``job`` waits in its queue."""
        shard = self._shardOf(job)
        return (job._queueKey is not None and shard is not None
                and shard.get(job._queueKey) == job.id)

    def _served(self, names):
        if names is None:
            return [shard for shards in self._byName.values()
                    for shard in shards]
        found = []
        for name in names:
            shards = self._byName.get(name)
            if shards is not None:
                found.extend(shards)
        return found

    def isEmpty(self, names=None):
        """Tell whether no job waits in the queues ``names`` (all: None)."""
        return all(_index.lastKey(shard) is None
                   for shard in self._served(names))

    def heads(self, names=None, start=None):
        """Iterate over ``(key, shard)`` of the jobs waiting in the queues
        ``names`` (None: all) in the order they are to be claimed;
        nothing is changed.

        First the jobs of the highest priority waiting.  Without
        ``start``, the oldest of them first; with ``start`` (a number),
        those of shard ``start`` if it has jobs of that priority, else of
        a random shard that has, staying with a shard while it has such
        jobs.
        """
        shards = self._served(names)
        if not shards:
            return
        mine = None if start is None else shards[start % len(shards)]
        last = {id(shard): (_index.lastKey(shard), shard)
                for shard in shards}
        while True:
            found = [pair for pair in last.values() if pair[0] is not None]
            if not found:
                return
            best = max(found, key=lambda pair: pair[0])
            if start is not None:
                priority = _index.queueKeyPriority(best[0])
                found = [pair for pair in found
                         if _index.queueKeyPriority(pair[0]) == priority]
                own = [pair for pair in found if pair[1] is mine]
                best = own[0] if own else _random.choice(found)
                mine = best[1]  # stay with it while it has such jobs
            key, shard = best
            yield key, shard
            last[id(shard)] = (_index.lastKeyBelow(shard, key), shard)

    def ids(self, names=None):
        """Iterate over the ids of the jobs waiting in ``names``."""
        for shard in self._served(names):
            for key in _index.keys(shard):
                yield shard[key]

    def entries(self):
        """Iterate over ``(name, key, jobid)`` of every waiting job."""
        for name, shards in self._byName.items():
            for shard in shards:
                for key in _index.keys(shard):
                    yield name, key, shard[key]

    def size(self, names=None):
        """Count the jobs waiting in ``names`` (None: all)."""
        return sum(map(_index.size, self._served(names)))

    def sizes(self):
        """Return a dict mapping each queue's name to its size."""
        return {name: sum(map(_index.size, shards))
                for name, shards in self._byName.items()}

    def oldestTime(self):
        """Return the time since which the oldest job waits, or None."""
        times = []
        priorities = range(_index.MIN_PRIORITY, _index.MAX_PRIORITY + 1)
        bands = [_index.priorityBand(p) for p in priorities]
        for shard in self._served(None):
            if _index.lastKey(shard) is None:
                continue
            for low, high in bands:
                try:
                    key = shard.maxKey(high)
                except ValueError:
                    continue
                if key >= low:
                    times.append(_index.queueKeyTime(key))
        return min(times) if times else None
