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
failed and were cancelled in the last minute and the last hour (the last
60 and 3600 seconds, the oldest minute pro-rated: see ``recent``).  The
counts are kept per minute, for a day, in ``BTrees.Length`` objects,
whose conflict resolution adds up what concurrent transactions counted:
workers that finish jobs at once do not conflict, but for the rare two
that start the same minute's count together.
"""
import math

import persistent
from BTrees.Length import Length
from BTrees.LOBTree import LOBTree

from z3c.taskqueue import interfaces
from z3c.taskqueue.model import _index


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
            _index.setEntry(minutes, minute, Length(number))
            # A new minute: forget the oldest, a few at a time.
            for old in list(minutes.keys(max=minute - KEEP))[:10]:
                _index.popEntry(minutes, old, None)
        else:
            length.change(number)

    def recent(self, now, seconds):
        """Return how many jobs ended in each finished status in the
        ``seconds`` up to ``now``.

        The minutes that began in that time count whole, the current
        one too; the minute in which it began counts for the share of
        it that lies within, rounded: the counts are kept per minute,
        and its jobs are taken to have ended evenly within it.  So the
        last 60 seconds at 12:00:45 are the jobs of 12:00:00 to 12:00:45
        and a quarter of those of 11:59:00 to 12:00:00, not only those
        since 12:00:00.
        """
        start = now - seconds
        first = math.ceil(start / 60)   # the first minute wholly within
        last = int(now // 60)
        end = min(first * 60, now)      # of the minute partly within
        span = end - (first - 1) * 60
        share = (end - start) / span if span > 0 else 1
        counts = {}
        for status, minutes in self._byStatus.items():
            total = sum(length() for length in minutes.values(
                min=first, max=last))
            partial = minutes.get(first - 1)
            if partial is not None:
                total += partial() * share
            counts[status] = round(total)
        return counts
