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
"""Unique keys: at most one waiting job per key.

``add(..., key='reindex:/plone/doc')`` returns the job already waiting
under that key instead of adding another.  The index maps each key to
the job last added under it; whether that job still waits is read from
the job, so nothing is written when a job starts or ends: an entry
whose job ran is simply replaced by the next ``add()`` with its key.
"""
import BTrees
import persistent


#: The longest key ``add()`` takes.
MAX_KEY = 500


def checkKey(key):
    """Return ``key`` if it may be a job's unique key: a string of 1 to
    ``MAX_KEY`` characters, or None.  Raise ``ValueError`` otherwise."""
    if key is None:
        return None
    if not isinstance(key, str):
        raise ValueError('a job key must be a string, not %r' % (key,))
    if not 0 < len(key) <= MAX_KEY:
        raise ValueError('a job key must be 1 to %d characters long, not %d'
                         ' (%r)' % (MAX_KEY, len(key), key[:40]))
    return key


class UniqueKeys(persistent.Persistent):
    """The job last added under each key.

    Two transactions that add a job under the same key at once both
    write its entry: the OOBTree's conflict resolution does not merge
    two changes of one key, so one of them gets a ``ConflictError``,
    and when it is retried it finds the job the other added.  Changes of
    different keys merge.  This object is never written after it is
    created.
    """

    def __init__(self):
        self._jobs = BTrees.OOBTree.OOBTree()

    def get(self, key):
        """Return the id of the job last added under ``key``, or None."""
        return self._jobs.get(key)

    def set(self, key, jobid):
        self._jobs[key] = jobid

    def discard(self, key, jobid):
        """Forget ``key`` if it names job ``jobid``."""
        if key is not None and self._jobs.get(key) == jobid:
            del self._jobs[key]

    def size(self):
        return len(self._jobs)
