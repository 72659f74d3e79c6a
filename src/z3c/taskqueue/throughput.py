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
"""Throughput: how many jobs finished in each recent minute.

``z3c-taskqueue status`` and the dashboard say how many jobs completed,
failed and were cancelled in the last minute and the last hour.  The
counts are kept per minute, for a day, in ``BTrees.Length`` objects,
whose conflict resolution adds up what concurrent transactions counted:
workers that finish jobs at once do not conflict, but for the rare two
that start the same minute's count together.
"""
import persistent
from BTrees.Length import Length
from BTrees.LOBTree import LOBTree

from z3c.taskqueue import interfaces


#: How many minutes of counts are kept.
KEEP = 24 * 60


class Throughput(persistent.Persistent):
    """The jobs that finished in each minute, by status.  This object is
    never written after it is created."""

    def __init__(self):
        self._byStatus = {status: LOBTree()
                          for status in interfaces.FINISHED}

    def count(self, status, when, number=1):
        """Count ``number`` jobs that ended in ``status`` at ``when``
        (seconds since the epoch)."""
        minutes = self._byStatus.get(status)
        if minutes is None:
            return
        minute = int(when // 60)
        length = minutes.get(minute)
        if length is None:
            minutes[minute] = Length(number)
            # A new minute: forget the oldest, a few at a time.
            for old in list(minutes.keys(max=minute - KEEP))[:10]:
                del minutes[old]
        else:
            length.change(number)

    def recent(self, now, seconds):
        """Return how many jobs ended in each finished status in the
        ``seconds`` up to ``now`` (counted by whole minutes)."""
        first = int((now - seconds) // 60) + 1
        last = int(now // 60)
        return {status: sum(length() for length in minutes.values(
                    min=first, max=last))
                for status, minutes in self._byStatus.items()}
