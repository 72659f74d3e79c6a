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
"""The overview's chart: queue depth and throughput over time, drawn as
SVG on the server, so the page needs no JavaScript library.

The dashboard samples the counts every ``INTERVAL`` seconds and keeps
the last ``POINTS`` samples (an hour) in memory: a chart starts when the
dashboard does.
"""
import collections
import threading
import time


INTERVAL = 10
POINTS = 360

WIDTH, HEIGHT, MARGIN = 640, 180, 30


class Samples:
    """The recent counts: (time, queued jobs, finished jobs)."""

    def __init__(self, points=POINTS):
        self.points = collections.deque(maxlen=points)
        self.lock = threading.Lock()

    def add(self, when, queued, finished):
        with self.lock:
            self.points.append((when, queued, finished))

    def series(self):
        """Return the queue depth and the jobs finished per minute at each
        sample after the first, as two lists of ``(time, value)``."""
        with self.lock:
            points = list(self.points)
        depth = [(when, queued) for when, queued, finished in points]
        rate = []
        for (before, unused, done), (when, unused2, finished) in zip(
                points, points[1:]):
            seconds = max(when - before, 1e-6)
            rate.append((when, max(finished - done, 0) * 60 / seconds))
        return depth, rate


def svg(samples, now=None):
    """Return the chart of ``samples`` as an SVG document fragment."""
    depth, rate = samples.series()
    if len(depth) < 2:
        return ('<p class="note">The chart fills in as the dashboard'
                ' samples the queue, every %d seconds.</p>' % INTERVAL)
    now = time.time() if now is None else now
    start = depth[0][0]
    span = max(now - start, 1)
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d"'
             ' role="img" aria-label="queued jobs and throughput">'
             % (WIDTH, HEIGHT)]
    for series, colour, label, row in (
            (depth, '#2c7be5', 'queued', 0),
            (rate, '#1b7a1b', 'finished per minute', 1)):
        if not series:
            continue
        highest = max(value for when, value in series)
        top = highest or 1
        points = ' '.join(
            '%.1f,%.1f' % (MARGIN + (when - start) / span
                           * (WIDTH - 2 * MARGIN),
                           HEIGHT - MARGIN - value / top
                           * (HEIGHT - 2 * MARGIN))
            for when, value in series)
        parts.append('<polyline fill="none" stroke="%s" stroke-width="2"'
                     ' points="%s"/>' % (colour, points))
        parts.append('<text x="%d" y="%d" fill="%s" font-size="12">%s'
                     ' (max %d)</text>' % (MARGIN + row * 220, 15, colour,
                                            label, highest))
    parts.append('<text x="%d" y="%d" font-size="11">last %d min</text>'
                 % (MARGIN, HEIGHT - 8, span // 60 or 1))
    parts.append('</svg>')
    return ''.join(parts)
