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
"""Print how the task service's costs grow with the number of stored jobs."""
import argparse
import calendar
import gc
import os
import random
import statistics
import sys
import time

import transaction
import ZODB
import ZODB.FileStorage
import zope.component
from ZODB.POSException import POSKeyError
from ZODB.serialize import referencesf
from ZODB.utils import z64

from z3c.taskqueue.model.job import CronJob
from z3c.taskqueue.model.service import TaskService
from z3c.taskqueue.model.task import SimpleTask

import _harness


SIZES = (1_000, 100_000, 1_000_000)
QUICK_SIZES = (1_000, 10_000, 100_000)

TASK = 'bench'

# Jobs are built and committed in batches of this many.
BUILD_BATCH = 10_000

# Each operation is timed CALLS_PER_BATCH times in one transaction, which
# is then aborted, so every batch sees the same stored jobs; BATCHES such
# batches (after one untimed warm-up batch) give the samples.
CALLS_PER_BATCH = 100
BATCHES = 20

# Before measuring, a worker runs this many queued and as many cron jobs,
# so that the heads of the queue and the schedule are where they stay
# while a service runs (past the first bucket of each index).
SETTLE = 256

# ZODB's default: most jobs and buckets must be loaded from the storage.
SMALL_CACHE = 400

RATIO_GOAL = 2
CRON_GOAL_US = 20

# The old search gave up after a year of minutes.
MINUTES_A_YEAR = 365 * 24 * 60

# (label, keyword arguments of addCronJob); m minute, h hour, dom
# dayOfMonth, dow dayOfWeek, mon month.
CRON_SPECS = (
    ('m=10,13', dict(minute=(10, 13))),
    ('h=2,13', dict(hour=(2, 13))),
    ('mon=1,5,12', dict(month=(1, 5, 12))),
    ('dow=0,2,4,5', dict(dayOfWeek=(0, 2, 4, 5))),
    ('dom=1,12,21,30', dict(dayOfMonth=(1, 12, 21, 30))),
    ('m=10 h=4 dom=1,12,21,30',
     dict(minute=(10,), hour=(4,), dayOfMonth=(1, 12, 21, 30))),
    ('m=30 h=8 dow=0', dict(minute=(30,), hour=(8,), dayOfWeek=(0,))),
    ('mon=2 dom=29', dict(month=(2,), dayOfMonth=(29,))),
    ('(none: every minute)', dict()),
)

# Besides the run's own "now", the answers of both searches are compared
# from these instants (UTC): the seed's epoch, a leap day's eve, a year's
# last second, and an exact minute (the answer must lie strictly after).
CHECK_INSTANTS = (
    0,
    calendar.timegm((2024, 2, 28, 23, 59, 30)),
    calendar.timegm((2025, 12, 31, 23, 59, 59)),
    calendar.timegm((2026, 3, 1, 0, 0, 0)),
    calendar.timegm((2027, 6, 15, 4, 10, 0)),
)


# Measuring the service

def open_db(directory, cache_size):
    storage = ZODB.FileStorage.FileStorage(
        os.path.join(directory, 'Data.fs'))
    return ZODB.DB(storage, cache_size=cache_size)


class Population:
    """A service in a real database, grown batch by batch to each size.

    Half the jobs are added as queued jobs, half as cron jobs that run
    once an hour at different minutes.  ``now`` is the fixed instant that
    all calls pass to ``processNext``: the cron jobs are due within the
    hour after it.
    """

    def __init__(self, db):
        self.db = db
        self.connection = db.open()
        self.recorder = ChangeRecorder(self.connection)
        self.service = self.connection.root()['tasks'] = TaskService()
        transaction.commit()
        self.now = time.time()
        self.size = 0
        self.queued = []
        self.cron = []
        self.build_seconds = 0.0

    def grow(self, size):
        service = self.service
        start = time.perf_counter()
        while self.size < size:
            count = min(BUILD_BATCH, size - self.size)
            for i in range(count // 2):
                self.queued.append(service.add(TASK, i))
            for i in range(count - count // 2):
                self.cron.append(
                    service.addCronJob(TASK, i, minute=(i % 60,)))
            # Compute the new cron jobs' due times before they are first
            # stored, so that they are written once.  This also runs the
            # oldest queued job, which stays stored as completed.
            service.processNext(now=self.now)
            transaction.commit()
            self.size += count
        self.settle()
        self.build_seconds += time.perf_counter() - start

    def settle(self):
        """Run queued and cron jobs, as a worker would have by now."""
        for now in (self.now, self.now + 3600):
            for _ in range(SETTLE):
                self.service.processNext(now=now)
            transaction.commit()


class ChangeRecorder:
    """Remember the objects that a connection's transaction changes.

    Aborting turns them into ghosts, which the next batch would have to
    load again; after a commit they would stay in memory.  ``abort()``
    loads them again (untimed), so that batches measure what a running
    service sees.  Persistent objects report their first change to
    ``jar.register``, which this wraps.
    """

    def __init__(self, connection):
        self.connection = connection
        self.changed = {}
        register = connection.register

        def recording_register(obj):
            self.changed[id(obj)] = obj
            register(obj)

        connection.register = recording_register

    def abort(self):
        transaction.abort()
        for obj in self.changed.values():
            try:
                obj._p_activate()
            except POSKeyError:
                pass            # created in the aborted transaction
        self.changed.clear()


class Samples(list):
    """Times in ns of single calls, and how many objects they loaded."""

    loads = 0

    def loads_per_call(self):
        return self.loads / len(self)


def time_calls(recorder, call, argument_batches, check):
    """Time ``call(argument)``; abort after each batch of arguments."""
    samples = Samples()
    transfer_counts = recorder.connection.getTransferCounts
    for arguments in argument_batches:
        transfer_counts(True)
        for argument in arguments:
            start = time.perf_counter_ns()
            call(argument)
            samples.append(time.perf_counter_ns() - start)
        samples.loads += transfer_counts(True)[0]
        check(arguments)
        recorder.abort()
    return samples


def operations(population, rng):
    """Yield (name, call, argument batches, check) for each operation."""
    service = population.service
    now = population.now
    batches = BATCHES + 1

    def distinct_targets(kinds):
        # Distinct jobs within a batch, still in ``status`` when drawn.
        result = []
        for _ in range(batches):
            targets = []
            for ids, status in kinds:
                drawn = rng.sample(ids, min(len(ids), 2 * CALLS_PER_BATCH))
                targets.extend(jobid for jobid in drawn
                               if service.getStatus(jobid) == status)
            rng.shuffle(targets)
            result.append(targets[:CALLS_PER_BATCH])
        return result

    def expect(status):
        def check(ids):
            wrong = [jobid for jobid in ids
                     if service.getStatus(jobid) != status]
            if wrong:
                raise AssertionError('%d jobs are not %r, such as %r' % (
                    len(wrong), status, wrong[0]))
        return check

    inputs = [range(CALLS_PER_BATCH * batch, CALLS_PER_BATCH * (batch + 1))
              for batch in range(batches)]
    ran = []

    def process(now):
        ran.append(service.processNext(now=now))

    def check_ran(arguments):
        if not all(ran):
            raise AssertionError('processNext found no job to run')
        del ran[:]

    yield ('add', lambda i: service.add(TASK, i), inputs,
           lambda inputs: None)
    yield ('processNext', lambda i: process(now), inputs, check_ran)
    yield ('processNext (cron)', lambda i: process(now + 3600), inputs,
           check_ran)
    yield ('cancel', service.cancel,
           distinct_targets([(population.queued, 'queued'),
                             (population.cron, 'cronjob')]),
           expect('cancelled'))
    yield ('reschedule', service.reschedule,
           distinct_targets([(population.cron, 'cronjob')]),
           expect('cronjob'))
    # For comparison: one lookup in ``jobs`` and nothing else.
    yield ('(getStatus)', service.getStatus,
           [rng.sample(population.queued, CALLS_PER_BATCH // 2)
            + rng.sample(population.cron, CALLS_PER_BATCH // 2)
            for _ in range(batches)],
           lambda ids: None)


def measure(population, rng, savepoint=False):
    """Return {operation: samples in ns} for the population as it is.

    With ``savepoint``, each call is followed by a savepoint, which
    pickles and writes what the call changed, as a commit would.
    """
    results = {}
    for name, call, batches, check in operations(population, rng):
        if savepoint:
            call = with_savepoint(call)
        gc.collect()
        recorder = population.recorder
        time_calls(recorder, call, batches[:1], check)  # warm-up
        results[name] = time_calls(recorder, call, batches[1:], check)
    return results


def with_savepoint(call):
    def call_and_savepoint(argument):
        call(argument)
        transaction.savepoint(optimistic=True)
    return call_and_savepoint


def measure_small_cache(population, rng):
    """Measure with ZODB's default cache size, then restore the cache."""
    db, connection = population.db, population.connection
    size = db.getCacheSize()
    db.setCacheSize(SMALL_CACHE)
    connection.cacheGC()
    try:
        return measure(population, rng)
    finally:
        db.setCacheSize(size)


def load_everything(db, connection):
    """Load every object reachable from the root into the cache."""
    seen = set()
    todo = [z64]
    while todo:
        oid = todo.pop()
        if oid not in seen:
            seen.add(oid)
            connection.get(oid)._p_activate()
            data, _ = db.storage.load(oid)
            todo.extend(referencesf(data))


def resident_bytes():
    try:
        with open('/proc/self/statm') as statm:
            return int(statm.read().split()[1]) * os.sysconf('SC_PAGESIZE')
    except (OSError, ValueError, IndexError):
        return None


def run_service_benchmark(sizes):
    rng = random.Random(2026)
    warm, saved, cold, builds = {}, {}, {}, {}
    with _harness.temporary_directory('taskqueue') as tmp:
        db = open_db(tmp, cache_size=2 * max(sizes) + 100_000)
        try:
            population = Population(db)
            for size in sizes:
                _harness.progress('building %s jobs' % format(size, ','))
                population.grow(size)
                builds[size] = (
                    population.build_seconds, resident_bytes(),
                    os.path.getsize(os.path.join(tmp, 'Data.fs')))
                _harness.progress('measuring at %s jobs' % format(size, ','))
                warm[size] = measure(population, rng)
                saved[size] = measure(population, rng, savepoint=True)
                cold[size] = measure_small_cache(population, rng)
                if size != sizes[-1]:
                    _harness.progress(
                        'loading all objects into the cache again')
                    load_everything(db, population.connection)
            population.connection.close()
        finally:
            db.close()
    return warm, saved, cold, builds


# Cron: ours next to the old package's minute-stepping search

def old_style_next_call(spec, now):
    """Step minute by minute from ``now``, for up to a year.

    The Python 2 z3c.taskqueue searched like this: one ``time.gmtime`` per
    minute (per hour, day or month when no finer field was given), giving
    up after a year.  Unlike it, this one starts on the minute after
    ``now`` and pins the fields finer than the finest given one to their
    smallest value, the semantics the new code keeps, so that the two can
    be compared.  Return None when nothing matches within the year.
    """
    minutes, hours, days, weekdays, months = effective_fields(spec)
    moment = (int(now) // 60 + 1) * 60
    gmtime = time.gmtime
    for _ in range(MINUTES_A_YEAR):
        fields = gmtime(moment)
        if ((months is None or fields.tm_mon in months)
                and (days is None or fields.tm_mday in days)
                and (weekdays is None or fields.tm_wday in weekdays)
                and (hours is None or fields.tm_hour in hours)
                and (minutes is None or fields.tm_min in minutes)):
            return moment
        moment += 60
    return None


def effective_fields(spec):
    """Return the sets each field must be in, None for any value."""
    levels = {'minute': 0, 'hour': 1, 'dayOfMonth': 2, 'dayOfWeek': 2,
              'month': 3}
    given = {name: set(values) for name, values in spec.items() if values}
    finest = min((levels[name] for name in given), default=None)

    def pinned(name, smallest):
        if name in given:
            return given[name]
        if finest is not None and levels[name] < finest:
            return {smallest}
        return None

    days = given.get('dayOfMonth')
    if days is None and finest == 3:
        days = {1}
    return (pinned('minute', 0), pinned('hour', 0), days,
            given.get('dayOfWeek'), given.get('month'))


def sample_calls(call, minimum, seconds):
    """Time ``call()`` at least ``minimum`` times and for ``seconds``."""
    samples = []
    deadline = time.perf_counter() + seconds
    while len(samples) < minimum or time.perf_counter() < deadline:
        start = time.perf_counter_ns()
        call()
        samples.append(time.perf_counter_ns() - start)
    return samples


def run_cron_benchmark(now):
    rows = []
    for label, spec in CRON_SPECS:
        _harness.progress('timeOfNextCall %s' % label)
        job = CronJob(-1, TASK, None, **spec)
        job.timeOfNextCall(now)                         # warm-up
        ours = sample_calls(lambda: job.timeOfNextCall(now), 2000, 0.1)
        old = sample_calls(lambda: old_style_next_call(spec, now), 3, 0.5)
        rows.append((label, ours, old, int(job.timeOfNextCall(now)),
                     old_style_next_call(spec, now)))
    return rows


def check_cron_agreement(now):
    """Compare both searches; return (agreed, beyond a year, mismatches)."""
    agreed, beyond, mismatches = 0, 0, []
    for instant in (now,) + CHECK_INSTANTS:
        for label, spec in CRON_SPECS:
            ours = CronJob(-1, TASK, None, **spec).timeOfNextCall(instant)
            old = old_style_next_call(spec, instant)
            if old is None:
                beyond += 1
                # The old search found nothing within a year: ours must
                # lie beyond it, not inside.
                if ours <= (int(instant) // 60 + MINUTES_A_YEAR) * 60:
                    mismatches.append((label, instant, ours, old))
            elif ours == old:
                agreed += 1
            else:
                mismatches.append((label, instant, ours, old))
    return agreed, beyond, mismatches


# Printing

def short_size(size):
    for unit, suffix in ((10 ** 6, 'M'), (10 ** 3, 'k')):
        if size >= unit and size % unit == 0:
            return '%d%s' % (size // unit, suffix)
    return str(size)


def microseconds(ns):
    us = ns / 1000
    if us < 10:
        return '%.2f' % us
    if us < 1000:
        return '%.1f' % us
    return format(round(us), ',')


def median(samples):
    return statistics.median(samples)


def p90(samples):
    return statistics.quantiles(samples, n=10, method='inclusive')[-1]


def utc(timestamp):
    return time.strftime('%Y-%m-%d %H:%M', time.gmtime(timestamp))


def megabytes(size):
    return '-' if size is None else '%s MB' % format(
        round(size / 2 ** 20), ',')


def print_header(sizes, run):
    print('z3c.taskqueue benchmark: add, processNext, cancel, reschedule')
    print('at %s stored jobs; cron timeOfNextCall against a'
          % ' / '.join(format(size, ',') for size in sizes))
    print('minute-stepping search like the old package\'s.')
    print('%s, %s;' % (_harness.python(),
                       _harness.versions('ZODB', 'BTrees', 'persistent')))
    print('%s; run started %s.' % (_harness.machine(), run.started))
    print()


def print_operations(title, caption, results, sizes, goal,
                     loads=False):
    names = list(results[sizes[0]])
    first, last = sizes[0], sizes[-1]
    ratio_title = '%s÷%s' % (short_size(last), short_size(first))
    width = 15
    print(title)
    for line in caption:
        print('  ' + line)
    print()
    print('%-18s' % 'operation'
          + ''.join('%*s' % (width, format(size, ',')) for size in sizes)
          + '%10s' % ratio_title)
    print('%-18s' % ''
          + ''.join('%*s' % (width, '%7s %6s' % (
              'median', 'loads' if loads else 'p90')) for size in sizes))
    failures = []
    for name in names:
        cells = ''.join(
            '%*s' % (width, '%s %6s' % (
                microseconds(median(results[size][name])).rjust(7),
                '%.1f' % results[size][name].loads_per_call() if loads
                else microseconds(p90(results[size][name]))))
            for size in sizes)
        ratio = median(results[last][name]) / median(results[first][name])
        judged = ''
        if goal and not name.startswith('('):
            judged = '  ' + _harness.verdict(ratio <= goal)
            if ratio > goal:
                failures.append((name, ratio))
        print('%-18s%s%10.2f%s' % (name, cells, ratio, judged))
    print()
    return failures


def print_builds(builds, sizes):
    width = 15
    print('4. Building the stored jobs')
    print('  add() and addCronJob(), committed in batches of %s, then a'
          % format(BUILD_BATCH, ','))
    print('  worker runs %d queued and %d cron jobs; cumulative, since each'
          % (SETTLE, SETTLE))
    print('  size grows the previous one.')
    print()
    print('%-18s' % 'stored jobs'
          + ''.join('%*s' % (width, format(size, ',')) for size in sizes))
    rows = (
        ('build time', lambda b: '%.1f s' % b[0]),
        ('per stored job', lambda b: None),
        ('process RSS', lambda b: megabytes(b[1])),
        ('Data.fs', lambda b: megabytes(b[2])),
    )
    for label, cell in rows:
        cells = []
        for size in sizes:
            text = cell(builds[size])
            if text is None:
                text = '%.1f µs' % (builds[size][0] / size * 1e6)
            cells.append('%*s' % (width, text))
        print('%-18s' % label + ''.join(cells))
    print()


def print_cron(rows, agreement, now):
    print('5. Cron: timeOfNextCall from now (%s UTC), µs per call;'
          % utc(now))
    print('  "old-style" steps minute by minute with time.gmtime for up to')
    print('  a year (525,600 steps), as the Python 2 package did.')
    print('  m minute, h hour, dom dayOfMonth, dow dayOfWeek, mon month.')
    print()
    print('%-24s%8s%8s%11s%9s  %s' % (
        'spec', 'ours', 'p90', 'old-style', 'old÷ours',
        'next call (UTC)'))
    ours_medians, old_medians = [], []
    for label, ours, old, ours_answer, old_answer in rows:
        ours_medians.append(median(ours))
        old_medians.append(median(old))
        answer = utc(ours_answer)
        if old_answer is None:
            answer += ' (old: none in a year)'
        elif old_answer != ours_answer:
            answer += ' (old: %s)' % utc(old_answer)
        print('%-24s%8s%8s%11s%9s  %s' % (
            label, microseconds(median(ours)), microseconds(p90(ours)),
            microseconds(median(old)),
            format(round(median(old) / median(ours)), ','), answer))
    ours_median = median(ours_medians)
    old_median = median(old_medians)
    print()
    print('median of the specs\' medians: ours %s µs (goal <= %d: %s),'
          % (microseconds(ours_median), CRON_GOAL_US,
             _harness.verdict(ours_median / 1000 <= CRON_GOAL_US)))
    print('  old-style %s µs, old÷ours %s; slowest spec: ours %s µs.' % (
        microseconds(old_median),
        format(round(old_median / ours_median), ','),
        microseconds(max(ours_medians))))
    agreed, beyond, mismatches = agreement
    print('agreement over %d instants x %d specs: %d agree, %d beyond the'
          % (len(CHECK_INSTANTS) + 1, len(CRON_SPECS), agreed, beyond))
    print('  old search\'s year (ours lies beyond it too), %d mismatches.'
          % len(mismatches))
    for label, instant, ours, old in mismatches:
        print('!!! MISMATCH %s from %s: ours %s, old-style %s !!!' % (
            label, utc(instant), utc(ours),
            'none' if old is None else utc(old)))
    print()
    return ours_median / 1000 <= CRON_GOAL_US, mismatches


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    _harness.add_quick(parser, 'use %s stored jobs' % ' / '.join(
        format(size, ',') for size in QUICK_SIZES))
    parser.add_argument(
        '--sizes', type=lambda text: tuple(
            sorted(int(size) for size in text.split(','))),
        help='comma-separated numbers of stored jobs')
    _harness.add_no_fail(parser)
    arguments = parser.parse_args(argv)
    sizes = arguments.sizes or (QUICK_SIZES if arguments.quick else SIZES)

    run = _harness.Run()
    zope.component.provideUtility(SimpleTask(_harness.echo), name=TASK)

    warm, saved, cold, builds = run_service_benchmark(sizes)
    now = time.time()
    cron_rows = run_cron_benchmark(now)
    _harness.progress('comparing the two cron searches')
    agreement = check_cron_agreement(now)

    print_header(sizes, run)
    failures = print_operations(
        '1. Service operations, µs per call (median, p90), all jobs cached',
        ['A FileStorage DB; each batch of %d calls runs in one transaction'
         % CALLS_PER_BATCH,
         'that is then aborted, so every batch sees the same stored jobs',
         '(%d timed batches after one warm-up); what a batch changed is'
         % BATCHES,
         'loaded again, untimed, as it would stay in memory after a commit.',
         'Half the jobs were added queued, half as hourly cron jobs; then',
         'a worker ran %d of each. processNext runs the oldest queued job'
         % SETTLE,
         'with a trivial task; processNext (cron) runs the first due cron',
         'job and computes its next call; cancel hits random queued or',
         'cron jobs; reschedule random cron jobs (the next processNext',
         'computes their next call); getStatus of random jobs, one BTree',
         'lookup, shows what memory alone adds. Goal: ratio <= %d.'
         % RATIO_GOAL],
        warm, sizes, RATIO_GOAL)
    print_operations(
        '2. The same calls, each followed by a savepoint',
        ['transaction.savepoint() pickles and writes (to a temporary file)',
         'every object the call changed, as its commit would; batches are',
         'still aborted.'],
        saved, sizes, None)
    print_operations(
        '3. The calls of table 1 with a %d-object cache (ZODB\'s default)'
        % SMALL_CACHE,
        ['µs per call (median) and objects loaded per call (mean): jobs',
         'and buckets that are not cached load from the FileStorage (the',
         'file itself is in the OS page cache). processNext loads nothing',
         'here because every batch runs the same jobs at the head.'],
        cold, sizes, None, loads=True)
    print_builds(builds, sizes)
    cron_met, mismatches = print_cron(cron_rows, agreement, now)
    missed = ['%s (ratio %.2f)' % failure for failure in failures]
    if not cron_met:
        missed.append('timeOfNextCall (median)')
    print('Whole run: %.0f s. Goals missed: %s.%s' % (
        run.seconds(), ', '.join(missed) or 'none',
        ' !!! %d CRON MISMATCHES !!!' % len(mismatches)
        if mismatches else ''))
    # A mismatch of the two cron searches fails the run too.
    return _harness.exit_status(not (missed or mismatches), arguments)


if __name__ == '__main__':
    sys.exit(main())
