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
change in the middle of a bucket, which BTrees merge.  A new index keeps
each sentinel in a bucket of its own: a tree of one bucket keeps that
bucket in its own record, where only a change through the tree is saved
(see below), and its first split would conflict with every concurrent
change.

A change that splits a bucket or removes an emptied one writes the inner
node above it, and a BTree makes every writer of the tree read its inner
nodes current (``readCurrent``): such a change, about once per half a
bucket of inserts (30 to 60), would conflict with every concurrent write
anywhere in the tree.  ``setEntry()``, ``popEntry()``, ``addId()`` and
``discardId()`` therefore change the bucket that holds the key directly
when they can (it has room, it is not emptied, it has a record of its
own): they write that bucket and read nothing current, so two
transactions conflict only if they change the same bucket in a way that
BTrees cannot merge.  That is as safe as the tree's own change: a
concurrent split or removal of the bucket writes the bucket too (its
next bucket, or its emptiness, changes), and BTrees refuse to merge
that.  Only a change that splits a bucket, empties it or removes its
first key (which the node above may hold as the bucket's key) goes
through the tree, so the trees keep the shape the tree's own changes
give them.
"""
import bisect
import math

import BTrees


FIRST = BTrees.family64.minint
LAST = BTrees.family64.maxint


def newIndex():
    """Return an empty ``LLBTree`` holding the two sentinels."""
    family = BTrees.family64.II
    return _sentinelled(family.BTree, family.Bucket, (FIRST, 0), (LAST, 0))


def newIdSet():
    """Return an empty ``LLTreeSet`` holding the two sentinels."""
    family = BTrees.family64.II
    return _sentinelled(family.TreeSet, family.Set, (FIRST,), (LAST,))


def _sentinelled(treeType, bucketType, first, last):
    """Return a tree of two buckets, the first holding the items
    ``first``, the second ``last`` (keys and values, one after the other,
    as a bucket's state has them): the shape a tree takes when a bucket
    of ``first``, some keys and ``last`` is split and the keys removed."""
    low = bucketType()
    high = bucketType()
    high.__setstate__((last,))
    low.__setstate__((first, high))
    tree = treeType()
    tree.__setstate__(((low, last[0], high), low))
    return tree


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
    found = popEntry(index, key, None)
    if found is not None and found != value:
        setEntry(index, key, found)


def insertBelow(index, key, value, stretch=1):
    """Store ``value`` at ``key`` or, if taken, at the next free key below
    (see ``setEntry()`` for ``stretch``).

    Return the key used.
    """
    while key in index:
        key -= 1
    setEntry(index, key, value, stretch)
    return key


# Changes that write only a bucket (see the module's docstring).

#: How many times its usual size (60) a bucket of a service's jobs grows
#: before it is split (see ``setEntry()``).  Each connection adds jobs
#: of ids that count up, so a bucket that its jobs fill is split about
#: every half a bucket of adds, and a split writes the tree's node
#: above: two adds that split buckets at once conflict.  Buckets twice
#: as big make that four times rarer.
JOBS_STRETCH = 2

def setEntry(tree, key, value, stretch=1):
    """``tree[key] = value`` for a BTree, writing only the bucket of
    ``key`` unless the change splits it.

    With a ``stretch`` above 1 a bucket grows to that many times the
    size at which the tree would split it before it is split: the tree's
    inner nodes are written that much less often, and each write of the
    bucket is that much bigger.
    """
    bucket = _bucketOf(tree, key)
    if bucket is not None and (len(bucket) < _leafSize(tree) * stretch
                               or key in bucket):
        bucket[key] = value
    else:
        tree[key] = value


def popEntry(tree, key, default):
    """``tree.pop(key, default)`` for a BTree, writing only the bucket of
    ``key`` unless the change empties it or removes its first key."""
    bucket = _bucketOf(tree, key)
    if bucket is not None and _inside(bucket, key):
        return bucket.pop(key, default)
    return tree.pop(key, default)


def addId(ids, key):
    """``ids.add(key)`` for a TreeSet, writing only the set bucket of
    ``key`` unless the change splits it."""
    bucket = _bucketOf(ids, key)
    if bucket is not None and (len(bucket) < _leafSize(ids)
                               or key in bucket):
        bucket.add(key)
    else:
        ids.add(key)


def discardId(ids, key):
    """Remove ``key`` from the TreeSet ``ids`` if it is there, writing
    only its set bucket unless the change empties it or removes its first
    key."""
    bucket = _bucketOf(ids, key)
    if bucket is not None and _inside(bucket, key):
        if key in bucket:
            bucket.remove(key)
    elif key in ids:
        ids.remove(key)


def _inside(bucket, key):
    """Tell whether removing ``key`` from ``bucket`` changes nothing but
    the bucket: it keeps other keys, and ``key`` is not its first, which
    the tree may hold as the key of the bucket in the node above (the
    tree then moves that key to the bucket's new first key)."""
    return len(bucket) > 1 and bucket.minKey() != key


def _leafSize(tree):
    """The most keys a bucket of ``tree`` holds before it is split."""
    return type(tree).max_leaf_size


def _bucketOf(tree, key):
    """Return the bucket of the BTree or TreeSet ``tree`` where ``key``
    belongs, as the tree's own search finds it, if it is stored in a
    record of its own; else None (an empty tree, a tree of one bucket
    stored within the tree, a bucket new in this transaction): then only
    a change through the tree is saved.

    None too if this transaction changed the tree's top node already (a
    bulk add that split a bucket): it conflicts with a concurrent change
    of that node anyway, and the tree's own change is quicker than this
    search (which copies each node's children).
    """
    if tree._p_changed:
        return None
    node = tree
    while True:
        node._p_activate()      # a ghost has no state to look at
        state = node.__getstate__()
        if state is None or len(state) == 1:
            return None
        children = state[0]
        # As the tree searches: the last child whose key is <= ``key``
        # (the first child's key is implied).
        child = children[2 * bisect.bisect_right(children[1::2], key)]
        if not _isTree(child):
            break
        node = child
    if child._p_oid is None or child._p_jar is None:
        return None
    return child


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
    family = BTrees.family64.IO
    return _sentinelled(family.BTree, family.Bucket, (FIRST, None),
                        (LAST, None))


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
