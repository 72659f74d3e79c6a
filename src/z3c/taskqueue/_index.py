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
"""Sorted BTree indexes that concurrent transactions change without conflict.

BTrees merge concurrent changes to one bucket, with two exceptions that a
queue hits all the time: a change that removes the first key of a bucket,
and a change that empties a bucket, conflict with any other change to that
bucket.  A queue whose consumer removes its head while producers add at its
tail keeps everything in one bucket as long as it is short, which is most of
the time, so every pull would conflict with every concurrent add.

Each index here is a plain ``LLBTree`` or ``LLTreeSet`` (so a ZEO server
can resolve conflicts without importing this package) holding two sentinel
keys, the smallest and the largest 64-bit integer, that are never removed.
The first bucket always starts with ``FIRST`` and the last bucket always
holds ``LAST``, so removing the real head or tail of a short index is a
change in the middle of a bucket, which BTrees merge.

What no layout of plain BTrees avoids: a change that splits a bucket,
removes an emptied one or changes a separator key of an inner node writes
that node, and BTrees make every writer of a tree read its inner nodes
current, so such a change conflicts with any concurrent write to the same
tree.  That happens about once per half a bucket of inserts (30 to 60)
into the same part of a tree; ZODB's ordinary retry handles it.
"""
import math

import BTrees


FIRST = BTrees.family64.minint
LAST = BTrees.family64.maxint


def newIndex():
    """Return an empty ``LLBTree`` holding the two sentinels."""
    index = BTrees.family64.II.BTree()
    index[FIRST] = 0
    index[LAST] = 0
    return index


def newIdSet():
    """Return an empty ``LLTreeSet`` holding the two sentinels."""
    ids = BTrees.family64.II.TreeSet()
    ids.add(FIRST)
    ids.add(LAST)
    return ids


def keys(index, lo=FIRST + 1, hi=LAST - 1):
    """Iterate over the real keys of ``index`` from ``lo`` to ``hi``."""
    return index.keys(max(lo, FIRST + 1), min(hi, LAST - 1))


def size(index):
    """Count the real keys of ``index``."""
    return len(index) - 2


def firstKey(index, hi=LAST - 1):
    """Return the smallest real key not above ``hi``, or None."""
    key = index.minKey(FIRST + 1)
    return key if key <= hi and key != LAST else None


def lastKey(index):
    """Return the largest real key, or None."""
    key = index.maxKey(LAST - 1)
    return None if key == FIRST else key


def lastKeyBelow(index, key):
    """Return the largest real key below ``key``, or None."""
    try:
        found = index.maxKey(key - 1)
    except ValueError:
        return None
    return None if found == FIRST else found


def removeEntry(index, key, value):
    """Remove the entry ``key`` of ``index`` if it holds ``value``, in one
    walk down the tree (the entry is put back in the rare case that it
    was another's)."""
    found = index.pop(key, None)
    if found is not None and found != value:
        index[key] = found


def insertBelow(index, key, value):
    """Store ``value`` at ``key`` or, if taken, at the next free key below.

    Return the key used.
    """
    while key in index:
        key -= 1
    index[key] = value
    return key


# A time key orders by a time in milliseconds, latest first (an index is
# consumed from its end, where removing keys disturbs no concurrent
# insert), then by a tie-breaker: a counter or a job id, of which it keeps
# the low 20 bits, so that two connections that add jobs in the same
# millisecond rarely pick the same key.  It fits 64 bits until 2248.
_TIE_BITS = 20
_TIE_MASK = 2 ** _TIE_BITS - 1

#: The times a time key can stand for, in seconds since the epoch: from
#: 1970 to September 2248 (2**43 milliseconds, less a second to spare
#: for ``insertBelow()``).
MIN_TIME = 0
MAX_TIME = (2 ** (63 - _TIE_BITS) - 1000) // 1000
MAX_YEAR = 2248


def timeKey(seconds, tieBreaker):
    """Return the key for a job waiting since, or until, ``seconds``.

    Rounded up to the millisecond: a job is never due early.  Raise
    ``ValueError`` for a time before 1970 or after ``MAX_TIME``.
    """
    if not MIN_TIME <= seconds <= MAX_TIME:
        raise ValueError(
            'the time %r is out of the range of the schedule: from 0 (1970)'
            ' to %d (%d)' % (seconds, MAX_TIME, MAX_YEAR))
    return -((math.ceil(seconds * 1000) << _TIE_BITS)
             | (tieBreaker & _TIE_MASK))


def clampTime(seconds):
    """Return ``seconds`` (since the epoch) within the range of time keys:
    a time out of it is taken as the nearest end."""
    return min(max(seconds, MIN_TIME), MAX_TIME)


def dueLimit(now):
    """Return the smallest key of a job that is due at ``now``.

    A ``now`` out of the range of time keys is taken as the end of that
    range: every job is due then.
    """
    now = clampTime(now)
    return -((math.floor(now * 1000) << _TIE_BITS) | _TIE_MASK)


def keyTime(key):
    """Return the time, in seconds, a time key stands for."""
    return ((-key) >> _TIE_BITS) / 1000


def newTree():
    """Return an empty ``LOBTree`` holding the two sentinels (as None)."""
    tree = BTrees.family64.IO.BTree()
    tree[FIRST] = None
    tree[LAST] = None
    return tree


# A queue key orders by priority, highest first, then as a time key does
# (oldest first), with fewer bits for the tie-breaker:
# priority (5 bits) | milliseconds (43 bits) | tie-breaker (15 bits).

#: The priorities a job can have: the default is 0; a higher one is
#: claimed first.
MIN_PRIORITY = -10
MAX_PRIORITY = 10

_MS_BITS = 43
_QUEUE_TIE_BITS = 63 - 5 - _MS_BITS
_QUEUE_TIE_MASK = 2 ** _QUEUE_TIE_BITS - 1
_MS_MASK = 2 ** _MS_BITS - 1


def queueKey(priority, seconds, tieBreaker):
    """Return the queue key of a job of ``priority`` queued at ``seconds``.

    Raise ``ValueError`` for a time out of the range of ``timeKey()``.
    """
    if not MIN_TIME <= seconds <= MAX_TIME:
        raise ValueError(
            'the time %r is out of the range of the queues: from 0 (1970)'
            ' to %d (%d)' % (seconds, MAX_TIME, MAX_YEAR))
    band = MAX_PRIORITY - priority
    return -((band << (_MS_BITS + _QUEUE_TIE_BITS))
             | (math.ceil(seconds * 1000) << _QUEUE_TIE_BITS)
             | (tieBreaker & _QUEUE_TIE_MASK))


def priorityBand(priority):
    """Return the smallest and the largest queue key of ``priority``."""
    return (queueKey(priority, MAX_TIME, _QUEUE_TIE_MASK),
            queueKey(priority, MIN_TIME, 0))


def queueKeyPriority(key):
    """Return the priority a queue key stands for."""
    return MAX_PRIORITY - ((-key) >> (_MS_BITS + _QUEUE_TIE_BITS))


def queueKeyTime(key):
    """Return the time, in seconds, a queue key stands for."""
    return (((-key) >> _QUEUE_TIE_BITS) & _MS_MASK) / 1000


def readCurrentKey(tree, key):
    """Make this transaction's commit fail with a ``ConflictError`` if
    another transaction changed the entry of ``key`` in the BTree or
    TreeSet ``tree`` since this one read it (added, changed or removed
    it): read current each node on the way to ``key``.

    A decision made on an entry that another transaction may change at
    once (a job added to wait for one that ends) is then never made on a
    stale one; a change elsewhere in the same bucket conflicts too.
    """
    node = tree
    while node is not None:
        readCurrent(node)
        state = node.__getstate__()
        if state is None or len(state) == 1 or not _isTree(node):
            return      # empty, a bucket, or a tree of one inline bucket
        children = state[0]
        node = children[0]
        for index in range(1, len(children), 2):
            if key < children[index]:
                break
            node = children[index + 1]


def readCurrentTree(tree):
    """Make this transaction's commit fail with a ``ConflictError`` if
    another transaction changed any entry of the BTree or TreeSet
    ``tree`` (meant for small ones: it reads every node)."""
    nodes = [tree]
    while nodes:
        node = nodes.pop()
        readCurrent(node)
        state = node.__getstate__()
        if state is not None and len(state) == 2 and _isTree(node):
            nodes.extend(state[0][0::2])


def readCurrent(obj):
    """Make this transaction's commit fail with a ``ConflictError`` if
    another one changed the stored ``obj`` since this one read it."""
    if obj._p_jar is not None and obj._p_oid is not None:
        obj._p_activate()   # a ghost has no serial to check
        obj._p_jar.readCurrent(obj)


def _isTree(node):
    """Tell a BTree or TreeSet (whose children are nodes) from a bucket
    or set (whose state may also have two parts: items and the next
    bucket)."""
    return type(node).__name__.endswith(('BTree', 'TreeSet'))
