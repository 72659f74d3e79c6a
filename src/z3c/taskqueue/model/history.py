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
"""The history: every job, newest first, for listing and paging.

An operator looks at the latest jobs first and pages back through a
million of them; neither may load them all.  The history keeps one
entry per job, keyed by the time it was added (see ``_index.timeKey``:
the newest has the smallest key), so a page is a range of keys and the
next page starts below the last key shown.
"""
import heapq

import persistent

from z3c.taskqueue.model import _index


#: How many trees the history of a new service is spread over, by job
#: id: two connections adding jobs at once nearly always write different
#: trees.  Every add writes the first bucket of its tree, whose split
#: (once in 60 adds to that tree) conflicts with a concurrent add to the
#: same tree: the more trees, the rarer that is.  (Services stored with
#: 8 keep them: a history works with any number.)
SHARDS = 32


class History(persistent.Persistent):
    """The jobs by the time they were added, newest first.

    A job keeps its key in ``_historyKey``; it is in the tree its id
    picks.  Each tree is a plain ``LLBTree`` with sentinels (see
    ``_index``).  Job ids count up from a random start per connection,
    so two connections adding jobs at once nearly always write different
    trees, and BTrees merges the rest.  This object is never written
    after it is created.
    """

    def __init__(self):
        self._shards = tuple(_index.newIndex() for shard in range(SHARDS))

    def _shard(self, jobid):
        return self._shards[jobid % len(self._shards)]

    def add(self, job, seconds):
        """Record ``job``, added at ``seconds`` (since the epoch)."""
        job._historyKey = _index.insertBelow(
            self._shard(job.id),
            _index.timeKey(_index.clampTime(seconds), job.id), job.id)

    def remove(self, job):
        key = job._historyKey
        if key is not None:
            _index.removeEntry(self._shard(job.id), key, job.id)
            del job._historyKey

    def newest(self, after=None):
        """Iterate over ``(key, jobid)``, newest first, from the entry
        after the key ``after`` (a cursor) or from the newest."""
        start = _index.FIRST + 1 if after is None else after + 1
        streams = [_ascending(tree, start) for tree in self._shards]
        for key, tree in heapq.merge(*streams, key=lambda entry: entry[0]):
            yield key, tree[key]

    def oldestBefore(self, seconds):
        """Iterate over the ids of the jobs added before ``seconds``,
        oldest first."""
        limit = _index.timeKey(_index.clampTime(seconds), 0)
        streams = [_descending(tree, limit) for tree in self._shards]
        for key, tree in heapq.merge(*streams, key=lambda entry: entry[0],
                                     reverse=True):
            yield tree[key]

    def size(self):
        return sum(map(_index.size, self._shards))


def _ascending(tree, start):
    """Iterate over ``(key, tree)`` of the keys of ``tree`` from
    ``start``, smallest (newest) first."""
    for key in _index.keys(tree, lo=start):
        yield key, tree


def _descending(tree, limit):
    """Iterate over ``(key, tree)`` of the keys of ``tree`` above
    ``limit``, largest (oldest) first."""
    key = _index.LAST
    while True:
        key = _index.lastKeyBelow(tree, key)
        if key is None or key <= limit:
            return
        yield key, tree
