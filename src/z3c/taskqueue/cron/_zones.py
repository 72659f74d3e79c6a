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
"""IANA time zones as a line of UTC offsets that change at transitions."""
import bisect
import calendar
import datetime
import time
import zoneinfo


UTC = 'UTC'

# zoneinfo tells the offset at a time but does not list its transitions,
# so a year's transitions are found by asking every other day and
# bisecting to the second where the answer changes.  That finds them all
# as long as two changes of offset are more than two days apart: in the
# tz database since 1900 the closest are about four days apart
# (Africa/Freetown, 1939).  Asking about local clock times is 20 times
# cheaper than about instants, which is why the probes do that.
_PROBE_STEP = 2 * 86400
_DAY = 86400
_SECOND = datetime.timedelta(seconds=1)
_CLOCK_EPOCH = datetime.datetime(1970, 1, 1)

# Years of transitions kept per zone; more are recomputed when needed.
_MAX_YEARS = 512


def get_zone(name):
    """Return the ``ZoneInfo`` called ``name``, or raise ValueError."""
    if not isinstance(name, str):
        raise ValueError('timezone must be an IANA name such as %r, not %r'
                         % ('Europe/Berlin', name))
    try:
        return zoneinfo.ZoneInfo(name)
    except (KeyError, ValueError, OSError):
        pass
    hint = ''
    if not zoneinfo.available_timezones():
        hint = ' (no time zone database was found: pip install tzdata)'
    raise ValueError('timezone=%r is not a time zone that zoneinfo knows%s'
                     % (name, hint))


_timelines = {}


def timeline(zone):
    """Return the ``Timeline`` of ``zone``, or None for UTC."""
    if zone.key == UTC:
        return None
    try:
        return _timelines[zone.key]
    except KeyError:
        return _timelines.setdefault(zone.key, Timeline(zone))


class Timeline:
    """The UTC offsets of one zone, in pieces of constant offset.

    Pieces also end at the start of each UTC year, so that transitions are
    only ever looked for one year at a time.  All times are whole seconds
    since the epoch; offsets are seconds east of UTC.
    """

    def __init__(self, zone):
        self.zone = zone
        self._years = {}
        self._last = None

    def offset(self, instant):
        """Return the UTC offset in seconds at ``instant``."""
        local = datetime.datetime.fromtimestamp(instant, self.zone)
        return int(local.utcoffset().total_seconds())

    def piece(self, instant):
        """Return ``(start, end, offset, before)`` of the piece at instant.

        ``start <= instant < end``; ``offset`` holds throughout the piece
        and ``before`` just before ``start``.
        """
        year = self._last
        if year is None or not year[0][0] <= instant < year[3]:
            year = self._year(time.gmtime(instant).tm_year)
        starts, offsets, before, end = year
        i = bisect.bisect_right(starts, instant) - 1
        if i + 1 < len(starts):
            end = starts[i + 1]
        if i:
            before = offsets[i - 1]
        return starts[i], end, offsets[i], before

    def _year(self, year):
        try:
            table = self._years[year]
        except KeyError:
            if len(self._years) >= _MAX_YEARS:
                self._years.clear()
            table = self._years[year] = self._transitions(year)
        self._last = table
        return table

    def _transitions(self, year):
        first = calendar.timegm((year, 1, 1, 0, 0, 0))
        end = calendar.timegm((year + 1, 1, 1, 0, 0, 0))
        starts, offsets = [first], [self.offset(first)]
        utcoffset = self.zone.utcoffset

        def offset_at(clock):
            # The offset of a local clock time; of the earlier of two
            # instants that show it, and the one before a jump that skips
            # it: so it changes where the new offset's clock times begin.
            local = _CLOCK_EPOCH + datetime.timedelta(seconds=clock)
            return utcoffset(local) // _SECOND

        # Clock times a day either side cover the year's instants.
        probe = first - _DAY
        current = offset_at(probe)
        while probe < end + _DAY:
            following = probe + _PROBE_STEP
            changed = offset_at(following)
            if changed != current:
                lo, hi = probe, following
                while hi - lo > 1:
                    middle = (lo + hi) // 2
                    if offset_at(middle) == current:
                        lo = middle
                    else:
                        hi = middle
                # The clock time ``hi`` is the instant of the change shown
                # with the larger of the two offsets.
                instant = hi - max(current, changed)
                if first < instant < end:
                    starts.append(instant)
                    offsets.append(changed)
                current = changed
            probe = following
        return starts, offsets, self.offset(first - 1), end
