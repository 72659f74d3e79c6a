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
"""Result expiry: finished jobs removed once their time to live is over.

A service's ``resultTTL``, or a task's, says how long a finished job is
kept.  When a job is indexed as finished, it gets an entry here, keyed
by the time it expires (see ``_index.timeKey``: the job that expires
first has the largest key); workers take the expired entries from the
end, a few at a time (``ITaskService.expireResults()``).
"""

import persistent

from z3c.taskqueue.model import _index
from z3c.taskqueue.model._numbers import isNumber


#: The longest time to live: a hundred years, as for delays.
MAX_TTL = 100 * 365 * 24 * 3600


def checkTTL(ttl, what='resultTTL'):
    """Return ``ttl`` if it is None or a number of seconds from 0 to
    ``MAX_TTL``; raise ``ValueError`` naming ``what`` otherwise."""
    if ttl is None:
        return None
    if not isNumber(ttl, 0, MAX_TTL):
        raise ValueError('%s must be None or a number of seconds from 0 to'
                         ' %d, not %r' % (what, MAX_TTL, ttl))
    return ttl


class ResultExpiry(persistent.Persistent):
    """The finished jobs that expire, by the time they do.

    A job keeps its key in ``_expiryKey``.  ``due`` is a plain ``LLBTree``
    with sentinels (see ``_index``): workers take entries from its end
    while others are added near its start, so the two rarely touch one
    bucket.  This object is never written after it is created.
    """

    def __init__(self):
        self.due = _index.newIndex()

    def put(self, job, expires):
        """Let ``job`` expire at ``expires`` (seconds since the epoch)."""
        job._expiryKey = _index.insertBelow(
            self.due, _index.timeKey(_index.clampTime(expires), job.id),
            job.id)

    def remove(self, job):
        key = job._expiryKey
        if key is not None:
            _index.removeEntry(self.due, key, job.id)
            del job._expiryKey

    def hasExpired(self, now):
        """Tell whether a job has expired at ``now``."""
        key = _index.lastKey(self.due)
        return key is not None and key >= _index.dueLimit(now)

    def takeExpired(self, now, limit):
        """Take out and return the ids of up to ``limit`` jobs that have
        expired at ``now``, those that expired first first."""
        limit_key = _index.dueLimit(now)
        ids = []
        while len(ids) < limit:
            key = _index.lastKey(self.due)
            if key is None or key < limit_key:
                break
            ids.append(_index.popEntry(self.due, key, None))
        return ids

    def size(self):
        return _index.size(self.due)
