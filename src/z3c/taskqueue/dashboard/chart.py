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
"""The overview's charts: queue depth and throughput over time, drawn as
SVG on the server, so the page needs no JavaScript.

Each series has a chart of its own, with its own scale: a y axis from 0
with round ticks, a time axis in UTC, and gridlines at both.

The dashboard samples the counts every ``INTERVAL`` seconds and keeps
the last ``POINTS`` samples (an hour) in memory: a chart starts when the
dashboard does.
"""
import collections
import math
import threading
import time


INTERVAL = 10
POINTS = 360

#: The size of each chart, and the room left of, right of, above and
#: below its plot for the labels (pixels).
WIDTH, HEIGHT = 640, 170
LEFT, RIGHT, TOP, BOTTOM = 52, 16, 26, 30

#: The shortest time a chart spans (seconds).
MIN_SPAN = 60

#: The distances of the time axis's ticks, from which the chart takes the
#: shortest that makes no more than ``MAX_TICKS`` ticks (seconds).
TIME_STEPS = (10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)
MAX_TICKS = 5

GRID = '#e3e3e3'
AXIS = '#888'
TEXT = '#555'


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
    """Return the charts of ``samples`` as HTML: one chart per series,
    each with its own scale, over the same span of time."""
    depth, rate = samples.series()
    if len(depth) < 2:
        return ('<p class="note">The charts fill in as the dashboard'
                ' samples the queue, every %d seconds.</p>' % INTERVAL)
    now = time.time() if now is None else now
    start = min(depth[0][0], now - MIN_SPAN)
    return (plot(depth, 'Queued jobs', '#2c7be5', start, now, 'queued',
                 integer=True)
            + plot(rate, 'Jobs finished per minute', '#1b7a1b', start, now,
                   'finished'))


def plot(series, title, colour, start, end, name, integer=False):
    """Return one chart of ``series`` (``(time, value)`` pairs) from
    ``start`` to ``end``: its y axis from 0 to a round number above its
    highest value, its x axis the time of day in UTC, and gridlines at
    the ticks of both; with ``integer``, the values are counts."""
    highest = max([value for when, value in series] or [0])
    ticks = valueTicks(highest, integer)
    top = ticks[-1]
    width = WIDTH - LEFT - RIGHT
    height = HEIGHT - TOP - BOTTOM

    def x(when):
        return LEFT + (when - start) / (end - start) * width

    def y(value):
        return TOP + height - value / top * height

    latest = series[-1][1] if series else 0
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" class="chart"'
             ' id="chart-%s" width="%d" height="%d" viewBox="0 0 %d %d"'
             ' role="img" aria-label="%s, now %s, at most %s">'
             % (name, WIDTH, HEIGHT, WIDTH, HEIGHT, title, _number(latest),
                _number(highest)),
             '<text x="%d" y="16" font-size="13" font-weight="bold"'
             ' fill="%s">%s</text>' % (LEFT, colour, title),
             '<text x="%d" y="16" font-size="12" fill="%s"'
             ' text-anchor="end">now %s, at most %s</text>'
             % (WIDTH - RIGHT, TEXT, _number(latest), _number(highest))]
    for value in ticks:
        parts.append(
            '<line class="grid" x1="%d" x2="%d" y1="%.1f" y2="%.1f"'
            ' stroke="%s"/><text x="%d" y="%.1f" font-size="11" fill="%s"'
            ' text-anchor="end">%s</text>'
            % (LEFT, WIDTH - RIGHT, y(value), y(value), GRID, LEFT - 6,
               y(value) + 4, TEXT, _number(value)))
    for when, label in timeTicks(start, end):
        parts.append(
            '<line class="grid" x1="%.1f" x2="%.1f" y1="%d" y2="%d"'
            ' stroke="%s"/><text class="time" x="%.1f" y="%d"'
            ' font-size="11" fill="%s" text-anchor="middle">%s</text>'
            % (x(when), x(when), TOP, TOP + height, GRID, x(when),
               HEIGHT - BOTTOM + 16, TEXT, label))
    parts.append('<text x="%d" y="%d" font-size="11" fill="%s"'
                 ' text-anchor="end">UTC</text>'
                 % (WIDTH - RIGHT, HEIGHT - 2, TEXT))
    parts.append('<path class="axes" fill="none" stroke="%s"'
                 ' d="M%d,%d V%d H%d"/>' % (AXIS, LEFT, TOP, TOP + height,
                                            WIDTH - RIGHT))
    if series:
        points = ' '.join('%.1f,%.1f' % (x(when), y(value))
                          for when, value in series)
        parts.append('<polyline class="series" fill="none" stroke="%s"'
                     ' stroke-width="2" stroke-linejoin="round"'
                     ' points="%s"/>' % (colour, points))
    parts.append('</svg>')
    return ''.join(parts)


def valueTicks(highest, integer=False):
    """Return the ticks of a y axis that shows 0 to ``highest``: 0 and a
    few multiples of a round step (1, 2 or 5 times a power of ten; with
    ``integer``, at least 1), the last at or above ``highest``."""
    rough = max(highest, 1) / 4
    power = 10 ** math.floor(math.log10(rough))
    step = next(power * factor for factor in (1, 2, 5, 10)
                if power * factor >= rough)
    if integer:
        step = max(step, 1)
    count = max(math.ceil(highest / step - 1e-9), 1)
    return [step * number for number in range(count + 1)]


def timeTicks(start, end):
    """Return the ticks of a time axis from ``start`` to ``end`` (seconds
    since the epoch): ``(time, label)`` at whole multiples of a round
    step, labelled with the time of day in UTC."""
    span = end - start
    step = next((step for step in TIME_STEPS
                 if span / step <= MAX_TICKS), TIME_STEPS[-1])
    label = '%H:%M:%S' if step < 60 else '%H:%M'
    first = math.ceil(start / step) * step
    return [(when, time.strftime(label, time.gmtime(when)))
            for when in range(int(first), int(end) + 1, step)]


def _number(value):
    return '%g' % round(value, 1)
