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
"""Print the cost of a cron job's next fire time, next to croniter's.

croniter is needed for the comparison only; it is no dependency of the
package:  .venv/bin/pip install croniter   (``make bench-cron`` does it).
Without it, only our column is printed.
"""
import argparse
import datetime
import importlib.metadata
import os
import platform
import random
import statistics
import sys
import time
import zoneinfo

from z3c.taskqueue.cron._cron import CronSchedule
from z3c.taskqueue.cron._cron import LegacySchedule

import _harness


try:
    import croniter
except ImportError:     # pragma: no cover
    croniter = None


GOAL_US = 20

# A mixed set: frequent and sparse, wall-clock and fixed-time entries,
# names, steps, both day fields, and zones with 1-hour, 30-minute and no
# DST changes.  Runs start just before Europe's spring change.
EXPRESSIONS = (
    '*/15 9-17 * * MON-FRI',
    '30 2 * * *',
    '*/5 * * * *',
    '0 * * * *',
    '0 0 1 1 *',
    '0 8 13 * FRI',
    '10-50/20 6 * JUN-AUG SUN',
    '0 0 29 2 *',
    '@weekly',
    '45 23 28-31 * *',
)
ZONES = ('UTC', 'Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe',
         'Asia/Kolkata')
LEGACY = (
    ('minute=(10, 13)', dict(minute=(10, 13))),
    ('hour=(8,) dayOfWeek=(0,)', dict(hour=(8,), dayOfWeek=(0,))),
    ('month=(2,) dayOfMonth=(29,)', dict(month=(2,), dayOfMonth=(29,))),
)

# Instants to ask from: where a service asks, over ten years, a fifth of
# them within two days of a change of the zone's offset.
FIRST_YEAR, YEARS = 2024, 10
NEAR_CHANGES = 0.2
SEED = 2026


def instants(zone, count, rng):
    """Seconds since the epoch, from ``FIRST_YEAR`` on, some near changes.
    """
    begin = datetime.datetime(FIRST_YEAR, 1, 1,
                              tzinfo=datetime.timezone.utc).timestamp()
    span = YEARS * 365.25 * 86400
    changes = offset_changes(zone, begin, begin + span)
    result = []
    for _ in range(count):
        if changes and rng.random() < NEAR_CHANGES:
            result.append(rng.choice(changes) + rng.uniform(-2, 2) * 86400)
        else:
            result.append(begin + rng.uniform(0, span))
    return result


def offset_changes(zone, begin, end):
    tz = zoneinfo.ZoneInfo(zone)
    changes = []
    instant = begin
    previous = datetime.datetime.fromtimestamp(instant, tz).utcoffset()
    while instant < end:
        instant += 3600
        offset = datetime.datetime.fromtimestamp(instant, tz).utcoffset()
        if offset != previous:
            changes.append(instant)
            previous = offset
    return changes


def random_expression(rng):
    """A random crontab expression: numbers, lists, ranges, steps, names."""
    def field(lo, hi, names=None):
        kind = rng.random()
        if kind < 0.25:
            return '*'
        if kind < 0.4:
            return '*/%d' % rng.randint(2, max(2, (hi - lo) // 2))
        if kind < 0.7:
            value = rng.randint(lo, hi)
            return names[value - lo] if names and rng.random() < 0.3 \
                else str(value)
        if kind < 0.85:
            values = sorted(rng.sample(range(lo, hi + 1), 3))
            return ','.join(map(str, values))
        first = rng.randint(lo, hi - 1)
        last = rng.randint(first + 1, hi)
        return '%d-%d' % (first, last)
    while True:
        expression = ' '.join([
            field(0, 59), field(0, 23), field(1, 28), field(1, 12),
            field(0, 6, ('SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI',
                         'SAT'))])
        try:
            CronSchedule(expression, 'UTC')
        except ValueError:
            continue
        return expression


def cold(count, rng):
    """Microseconds of the first next fire time of a schedule just made
    (a cron job just created, or loaded: nothing of it cached), over
    random expressions and zones."""
    queries = {zone: instants(zone, count, rng) for zone in ZONES}
    cases = []
    for unused in range(count):
        zone = rng.choice(ZONES)
        cases.append((random_expression(rng), zone,
                      rng.choice(queries[zone])))
    clock = time.perf_counter_ns
    samples = []
    for expression, zone, query in cases:
        before = clock()
        CronSchedule(expression, zone).nextAfter(query)
        samples.append(clock() - before)
    return samples


def ours(expression, zone, queries):
    schedule = CronSchedule(expression, zone)
    clock = time.perf_counter_ns
    samples, answers = [], []
    for query in queries:
        before = clock()
        answer = schedule.nextAfter(query)
        samples.append(clock() - before)
        answers.append(answer)
    return samples, answers


def theirs(expression, zone, queries):
    tz = zoneinfo.ZoneInfo(zone)
    starts = [datetime.datetime.fromtimestamp(query, tz)
              for query in queries]
    iterator = croniter.croniter(expression, starts[0])
    clock = time.perf_counter_ns
    samples, answers = [], []
    for start in starts:
        before = clock()
        iterator.set_current(start, force=True)
        answer = iterator.get_next(float)
        samples.append(clock() - before)
        answers.append(answer)
    return samples, answers


def chained(expression, zone, begin, end):
    """Both libraries' fire times in ``(begin, end]``, one after another.

    This is how a scheduler walks a schedule: each next time from the
    last one.
    """
    schedule = CronSchedule(expression, zone)
    ours, instant = [], begin
    while True:
        instant = schedule.nextAfter(instant)
        if instant > end:
            break
        ours.append(instant)
    tz = zoneinfo.ZoneInfo(zone)
    iterator = croniter.croniter(
        expression, datetime.datetime.fromtimestamp(begin, tz))
    theirs = []
    while True:
        instant = iterator.get_next(float)
        if instant > end:
            break
        theirs.append(instant)
    return ours, theirs


def print_chains():
    print('Fire times chained through each change of offset in %d (two'
          ' days either' % FIRST_YEAR)
    print('side); only the expressions and zones where the two differ:')
    print()
    begin = datetime.datetime(FIRST_YEAR, 1, 1,
                              tzinfo=datetime.timezone.utc).timestamp()
    differ = 0
    for zone in ZONES:
        tz = zoneinfo.ZoneInfo(zone)
        for change in offset_changes(zone, begin, begin + 366 * 86400):
            for expression in EXPRESSIONS:
                ours, theirs = chained(expression, zone, change - 2 * 86400,
                                       change + 2 * 86400)
                if ours == theirs:
                    continue
                differ += 1
                print('  %s in %s: %d fire times, croniter %d' % (
                    expression, zone, len(ours), len(theirs)))
                for who, times in (('ours only', set(ours) - set(theirs)),
                                   ('croniter only',
                                    set(theirs) - set(ours))):
                    print('    %-14s %s' % (who + ':', ', '.join(
                        local(t, tz) for t in sorted(times)) or '-'))
    if not differ:
        print('  none')
    print()


def local(instant, tz):
    return datetime.datetime.fromtimestamp(instant, tz).isoformat()


def us(ns):
    return ns / 1000


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--calls', type=int, default=1000,
                        help='next fire times asked per expression and zone')
    _harness.add_no_fail(parser)
    arguments = parser.parse_args(argv)
    count = arguments.calls
    rng = random.Random(SEED)

    print('z3c.taskqueue cron benchmark: microseconds per next fire time')
    print('after %d instants per expression and zone, from %d to %d, %d %%'
          ' of them' % (count, FIRST_YEAR, FIRST_YEAR + YEARS,
                        100 * NEAR_CHANGES))
    print('within two days of a change of the zone\'s offset.  Each'
          ' library is asked')
    print('the same question: ours CronSchedule.nextAfter(t), croniter'
          ' set_current(t)')
    print('and get_next().  Time zone data: the system\'s, through'
          ' zoneinfo.')
    print('%s, %s; %s, %d CPUs; croniter %s.' % (
        _harness.python(), platform.platform(terse=True),
        platform.machine(), os.cpu_count(),
        importlib.metadata.version('croniter') if croniter
        else 'not installed'))
    print()
    header = '%-26s %-20s %8s %9s %7s %10s' % (
        'expression', 'zone', 'ours', 'croniter', 'ratio', 'same')
    print(header)
    print('-' * len(header))
    all_ours, all_theirs = [], []
    for expression in EXPRESSIONS:
        for zone in ZONES:
            queries = instants(zone, count, rng)
            our_samples, our_answers = ours(expression, zone, queries)
            our_median = statistics.median(our_samples)
            all_ours.extend(our_samples)
            if croniter is None:
                print('%-26s %-20s %8.2f' % (expression, zone,
                                             us(our_median)))
                continue
            their_samples, their_answers = theirs(expression, zone, queries)
            their_median = statistics.median(their_samples)
            all_theirs.extend(their_samples)
            same = sum(a == b for a, b in zip(our_answers, their_answers))
            print('%-26s %-20s %8.2f %9.2f %6.1fx %5d/%-4d' % (
                expression, zone, us(our_median), us(their_median),
                their_median / our_median, same, count))
    print('-' * len(header))
    overall = statistics.median(all_ours)
    line = '%-47s %8.2f' % ('median over all', us(overall))
    if all_theirs:
        line += ' %9.2f %6.1fx' % (us(statistics.median(all_theirs)),
                                   statistics.median(all_theirs) / overall)
    print(line)
    line = '%-47s %8.2f' % ('90th percentile over all',
                            us(statistics.quantiles(all_ours, n=10)[-1]))
    if all_theirs:
        line += ' %9.2f' % us(statistics.quantiles(all_theirs, n=10)[-1])
    print(line)
    print()
    print('Legacy tuples (UTC), ours only:')
    for label, fields in LEGACY:
        schedule = LegacySchedule(**fields)
        samples = []
        for query in instants('UTC', count, rng):
            before = time.perf_counter_ns()
            schedule.nextAfter(query)
            samples.append(time.perf_counter_ns() - before)
        print('  %-45s %8.2f' % (label, us(statistics.median(samples))))
    print()
    if croniter is not None:
        print_chains()
    cold_samples = cold(count, rng)
    cold_median = statistics.median(cold_samples)
    print('Cold: a schedule made and asked once, as for a cron job just')
    print('created or loaded, over %d random expressions and zones:'
          % count)
    print('  median %.2f us, 90th percentile %.2f us' % (
        us(cold_median), us(statistics.quantiles(cold_samples, n=10)[-1])))
    print()
    met = [us(overall) <= GOAL_US, us(cold_median) <= GOAL_US]
    print('Goal: median <= %d us per next fire time: %s.'
          % (GOAL_US, 'met' if met[0] else 'NOT met'))
    print('Goal: cold median <= %d us: %s.'
          % (GOAL_US, 'met' if met[1] else 'NOT met'))
    if croniter is not None:
        print('"same": answers equal to croniter\'s.  Where they differ,'
              ' the two libraries')
        print('disagree on a rule; cron.rst documents ours (cronie\'s).')
    return _harness.exit_status(all(met), arguments)


if __name__ == '__main__':
    sys.exit(main())
