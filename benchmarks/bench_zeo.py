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
"""Print how fast worker processes run jobs on a real ZEO server."""
import argparse
import datetime
import importlib.metadata
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import textwrap
import time

import transaction
import ZEO
from BTrees.Length import Length

from z3c.taskqueue import interfaces
from z3c.taskqueue import testing
from z3c.taskqueue.service import TaskService


ROUNDS = 4
QUICK_ROUNDS = 1
# Jobs (or commits, in the raw row) of each row in each round.
NOOP_JOBS = 1_500
SLEEP_JOBS = 100
RAW_COMMITS = 1_000
QUICK_NOOP_JOBS = 400
QUICK_SLEEP_JOBS = 80
QUICK_RAW_COMMITS = 300

SLEEP = 0.05            # seconds a sleeping job sleeps
WAIT = 0.05             # the workers' --wait
LEASE = 60.0            # the workers' --lease
POLL = 0.02             # how often the main process looks (seconds)
SETTLE = 0.5            # seconds the workers get to go idle once up
START_TIMEOUT = 60      # seconds for workers to start
TIMEOUT = 300           # seconds for a row: only a bug takes that long

SCALE_GOAL = 1.0        # 4 processes / 1 process, no-op jobs
CONFLICT_GOAL = 0.1     # ConflictErrors per job, no-op jobs
SLEEP_GOAL = 3.0        # 4 processes / 1 process, sleeping jobs

TMPDIR = None

READY = re.compile(r'Worker \S+: \d+ threads on .*, tasks ')
STOPPED = re.compile(r'Worker \S+ stopped: (\d+) jobs completed,'
                     r' (\d+) failed')


# Measuring

def cpu_seconds(pid):
    """Return the CPU time (user + system) of process ``pid`` so far.

    Linux only; None elsewhere or if the process is gone.
    """
    try:
        with open('/proc/%d/stat' % pid) as f:
            fields = f.read().rsplit(')', 1)[1].split()
    except OSError:
        return None
    # utime and stime, fields 14 and 15 of proc(5), in clock ticks.
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def machine_busy():
    """Return the busy time of all the machine's CPUs so far, in clock
    ticks (Linux only; None elsewhere)."""
    try:
        with open('/proc/stat') as f:
            fields = [int(n) for n in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    # user nice system idle iowait ...: idle and iowait are not busy.
    return sum(fields) - fields[3] - fields[4]


def cpu_total(pids):
    times = [cpu_seconds(pid) for pid in pids]
    return None if None in times else sum(times)


def difference(after, before):
    if after is None or before is None:
        return None
    return after - before


class Result:
    """What a row measured in a round, or in all its rounds (a sum)."""

    FIELDS = ('jobs', 'seconds', 'conflicts', 'commits', 'loads',
              'worker_cpu', 'server_cpu', 'busy_cpu')

    def __init__(self, jobs, watch, per_worker=()):
        self.jobs = jobs
        for name in self.FIELDS[1:]:
            setattr(self, name, getattr(watch, name))
        # The jobs each worker process completed.
        self.per_worker = list(per_worker)
        self.rounds = [self]

    def __add__(self, other):
        total = Result.__new__(Result)
        for name in self.FIELDS:
            a, b = getattr(self, name), getattr(other, name)
            setattr(total, name, None if a is None or b is None else a + b)
        total.per_worker = None
        total.rounds = self.rounds + other.rounds
        return total

    @property
    def rate(self):
        return self.jobs / self.seconds


class Server:
    """A fresh ZEO server on a FileStorage in a temporary directory, and a
    client of the main process."""

    def __enter__(self):
        self.tmp = tempfile.TemporaryDirectory(dir=TMPDIR,
                                               prefix='bench-zeo-')
        self.directory = self.tmp.name
        self.log = open(os.path.join(self.directory, 'server.log'), 'w')
        self.server = testing.ZEOServer(
            os.path.join(self.directory, 'Data.fs'), log=self.log)
        self.db = None
        try:
            self.server.start()
            self.db = ZEO.DB(self.server.addr)
            self.countLoads(self.db.storage)
            self.tm = transaction.TransactionManager()
            self.connection = self.db.open(transaction_manager=self.tm)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc_info):
        try:
            if self.db is not None:
                self.db.close()     # closes the connection too
        finally:
            self.server.stop()
            self.log.close()
            self.tmp.cleanup()

    def countLoads(self, storage):
        """Count the loads of this client that go to the server."""
        self.loads = 0
        load = storage.loadBefore

        def loadBefore(oid, tid):
            if storage._cache.loadBefore(oid, tid) is None:
                self.loads += 1
            return load(oid, tid)
        storage.loadBefore = loadBefore

    @property
    def uri(self):
        return 'zeo://%s:%d' % self.server.addr

    @property
    def root(self):
        return self.connection.root()

    def status(self):
        """The server's own counts: commits, conflicts and more."""
        return self.db.storage.server_status()

    def cpu(self):
        return cpu_seconds(self.server.process.pid)


class Watch:
    """Wall time from start(); the server's counts, CPU times and the
    main process's loads from snapshot(), until stop()."""

    def __init__(self, server, pids):
        self.server = server
        self.pids = pids

    def start(self):
        self.started = time.perf_counter()

    def snapshot(self):
        self.status = self.server.status()
        self.main_loads = self.server.loads
        self.server_cpu = self.server.cpu()
        self.worker_cpu = cpu_total(self.pids) if self.pids else None
        self.busy = machine_busy()

    def stop(self):
        self.seconds = time.perf_counter() - self.started
        busy = machine_busy()
        self.worker_cpu = difference(cpu_total(self.pids), self.worker_cpu)
        self.server_cpu = difference(self.server.cpu(), self.server_cpu)
        self.busy_cpu = None
        if busy is not None and self.busy is not None:
            self.busy_cpu = ((busy - self.busy)
                             / os.sysconf('SC_CLK_TCK'))
        status = self.server.status()
        self.conflicts = status['conflicts'] - self.status['conflicts']
        self.commits = status['commits'] - self.status['commits']
        # The server's loads, less those of the main process.
        self.loads = (status['loads'] - self.status['loads']
                      - (self.server.loads - self.main_loads))


# 1. Raw ZEO commits

def raw_commits(commits):
    """One client commits ``commits`` times, each changing one tiny
    object."""
    with Server() as server:
        server.root['counter'] = counter = Length()
        server.tm.commit()
        watch = Watch(server, ())
        watch.start()
        watch.snapshot()
        for unused in range(commits):
            counter.change(1)
            server.tm.commit()
        watch.stop()
        server.tm.begin()
        if server.root['counter']() != commits:
            raise RuntimeError('the counter is %d, not %d'
                               % (server.root['counter'](), commits))
    return Result(commits, watch)


# 2. Worker processes

class Workers:
    """``z3c-taskqueue worker`` processes, one thread each, with logs."""

    def __init__(self, server, count):
        self.server = server
        self.logs = [os.path.join(server.directory, 'worker-%d.log' % i)
                     for i in range(count)]
        self.processes = []

    def __enter__(self):
        try:
            for path in self.logs:
                with open(path, 'w') as log:
                    self.processes.append(testing.startWorker(
                        self.server.uri, threads=1, wait=WAIT,
                        lease=LEASE, log=log))
        except BaseException:
            self.terminate()
            raise
        return self

    def __exit__(self, *exc_info):
        self.terminate()

    @property
    def pids(self):
        return [process.pid for process in self.processes]

    def read(self, path):
        with open(path) as f:
            return f.read()

    def waitUntilIdle(self):
        """Wait until each worker says it runs, then a little longer."""
        deadline = time.perf_counter() + START_TIMEOUT
        while not all(READY.search(self.read(path)) for path in self.logs):
            for process in self.processes:
                if process.poll() is not None:
                    raise RuntimeError('a worker exited at start:\n%s'
                                       % self.tails())
            if time.perf_counter() > deadline:
                raise RuntimeError('the workers did not start:\n%s'
                                   % self.tails())
            time.sleep(POLL)
        time.sleep(SETTLE)

    def terminate(self):
        """Stop the workers with SIGTERM, or SIGKILL if they hang."""
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def stop(self):
        """Stop the workers with SIGTERM; return the jobs each completed.
        """
        self.terminate()
        completed = []
        for path, process in zip(self.logs, self.processes):
            found = STOPPED.search(self.read(path))
            if process.returncode != 0 or found is None:
                raise RuntimeError('a worker did not stop cleanly (exit'
                                   ' status %s):\n%s'
                                   % (process.returncode, self.tails()))
            if int(found.group(2)):
                raise RuntimeError('jobs failed:\n%s' % self.tails())
            completed.append(int(found.group(1)))
        self.processes = []
        return completed

    def tails(self):
        return '\n'.join('--- %s\n%s' % (path, self.read(path)[-2000:])
                         for path in self.logs)


def process(workers, jobs, input=None):
    """Time ``workers`` processes through ``jobs`` jobs of task noop."""
    with Server() as server:
        root = server.root
        root['tasks'] = service = TaskService()
        service.__name__ = 'tasks'
        server.tm.commit()
        with Workers(server, workers) as running:
            running.waitUntilIdle()
            watch = Watch(server, running.pids)
            server.tm.begin()
            for unused in range(jobs):
                service.add('noop', input)
            server.tm.commit()
            watch.start()
            watch.snapshot()
            deadline = watch.started + TIMEOUT
            while not done(server):
                if time.perf_counter() > deadline:
                    raise RuntimeError('timed out:\n%s' % running.tails())
                time.sleep(POLL)
            watch.stop()
            per_worker = running.stop()
        server.tm.begin()
        counts = {status: count for status, count
                  in service.countJobs().items() if count}
    if counts != {interfaces.COMPLETED: jobs} or sum(per_worker) != jobs:
        raise RuntimeError('jobs by status: %r; the workers say they'
                           ' completed %r, not %d in all'
                           % (counts, per_worker, jobs))
    return Result(jobs, watch, per_worker)


def done(server):
    """Look in a fresh transaction whether no job waits or runs."""
    server.tm.begin()
    service = server.root['tasks']
    return (not service.hasJobsWaiting() and not service._idsInStatus(
        interfaces.PROCESSING))


# Printing

def progress(message):
    print('...', message, file=sys.stderr, flush=True)


def verdict(met):
    return 'ok' if met else 'MISS'


def versions(*names):
    found = []
    for name in names:
        try:
            found.append('%s %s' % (name, importlib.metadata.version(name)))
        except importlib.metadata.PackageNotFoundError:
            pass
    return ', '.join(found)


def load_average():
    try:
        return '%.2f' % os.getloadavg()[0]
    except OSError:
        return 'unknown'


def print_header(sizes, rounds, started_at, load):
    print('z3c.taskqueue on ZEO: jobs per second of 1, 2 and 4 worker'
          ' processes')
    print('(z3c-taskqueue worker, one thread each) on a real ZEO server,'
          ' and its')
    print('ConflictErrors, next to raw commits of one ZEO client.')
    print('Python %s (%s); %s;' % (
        platform.python_version(), platform.python_implementation(),
        versions('ZEO', 'ZODB', 'BTrees')))
    print('%s;' % versions('persistent', 'transaction', 'z3c.taskqueue'))
    print('%s %s, %d CPUs; FileStorage in temporary directories of %s;'
          % (platform.system(), platform.machine(), os.cpu_count(),
             TMPDIR or tempfile.gettempdir()))
    print('run started %s; %d round%s, in which the rows take turns,'
          % (started_at.strftime('%Y-%m-%d %H:%M UTC'), rounds,
             '' if rounds == 1 else 's'))
    print('each', end=' ')
    print('with %s no-op jobs, %s sleeping jobs or %s raw commits a row.'
          % tuple(format(n, ',') for n in sizes))
    print('1-minute load average %s at the start, %s at the end (other'
          % (load, load_average()))
    print('processes compete for the CPUs when it is well above 0).')
    print()


ROWS = [
    ('2', 'noop-1', 'no-op jobs, 1 process'),
    ('3', 'noop-2', 'no-op jobs, 2 processes'),
    ('4', 'noop-4', 'no-op jobs, 4 processes'),
    ('5', 'sleep-1', '50 ms jobs, 1 process'),
    ('6', 'sleep-4', '50 ms jobs, 4 processes'),
]
ALL_ROWS = [('1', 'raw', 'raw ZEO commits, 1 client')] + ROWS

RESULT_ROW = '%-2s %-27s %6s %6s %7s %9s  %s'
COST_ROW = '%-2s %-27s %7s %7s %7s %7s %7s'


def print_row(form, *cells):
    print((form % cells).rstrip())


def print_results(results):
    print_row(RESULT_ROW, '', '', '', '', 'jobs', 'Conflict-', '')
    print_row(RESULT_ROW, '', 'row', 'jobs', 's', 'per s', 'Errors/job',
              'ratio')
    ratios = {'noop-2': ('noop-1', '(3)/(2)'), 'noop-4': ('noop-1',
                                                         '(4)/(2)'),
              'sleep-4': ('sleep-1', '(6)/(5)'), 'noop-1': ('raw',
                                                            '(2)/(1)')}
    for number, key, label in ALL_ROWS:
        result = results[key]
        ratio = ''
        if key in ratios:
            base, name = ratios[key]
            ratio = '%s %.2f' % (name, result.rate / results[base].rate)
        print_row(RESULT_ROW, number, label, format(result.jobs, ','),
                  '%.1f' % result.seconds, '%.0f' % result.rate,
                  '%.3f' % (result.conflicts / result.jobs), ratio)
    print()


def print_costs(results):
    def per_job(value, result, scale=1, form='%.2f'):
        return '-' if value is None else form % (value / result.jobs
                                                 * scale)

    def share(value, result):
        return '-' if value is None else '%.2f' % (value / result.seconds)

    print('Where the time goes (per job, or CPUs busy on average):')
    print_row(COST_ROW, '', '', 'server', 'server', 'worker', 'ZEO', 'all')
    print_row(COST_ROW, '', '', 'commits', 'loads', 'CPU ms', 'server',
              'CPUs')
    print_row(COST_ROW, '', 'row', 'per job', 'per job', 'per job', 'CPUs',
              'busy')
    for number, key, label in ALL_ROWS:
        result = results[key]
        print_row(COST_ROW, number, label, per_job(result.commits, result),
                  per_job(result.loads, result),
                  per_job(result.worker_cpu, result, 1000),
                  share(result.server_cpu, result),
                  share(result.busy_cpu, result))
    print()


def print_goals(results):
    met = []

    def goal(text, value, limit, at_least=True):
        ok = value >= limit if at_least else value <= limit
        met.append(ok)
        print('%-47s %6.3f %s %.1f  %s' % (
            text, value, '>=' if at_least else '<=', limit, verdict(ok)))

    print('Goals:')
    goal('(4)/(2) no-op jobs/s, 4 processes vs 1',
         results['noop-4'].rate / results['noop-1'].rate, SCALE_GOAL)
    for number, key, label in ROWS[:3]:
        goal('(%s) ConflictErrors/job, %s' % (number, label),
             results[key].conflicts / results[key].jobs, CONFLICT_GOAL,
             at_least=False)
    goal('(6)/(5) 50 ms jobs/s, 4 processes vs 1',
         results['sleep-4'].rate / results['sleep-1'].rate, SLEEP_GOAL)
    print()
    return all(met)


def print_rounds(results):
    print('Each round on its own: jobs/s, ConflictErrors/job:')
    for number, key, label in ROWS:
        print(textwrap.fill('; '.join(
            '%.0f %.3f' % (result.rate, result.conflicts / result.jobs)
            for result in results[key].rounds), 79,
            initial_indent='(%s) ' % number, subsequent_indent='    '))
    print('Jobs each worker process completed, round by round:')
    for number, key, label in ROWS:
        if len(results[key].rounds[0].per_worker) > 1:
            print(textwrap.fill('; '.join(
                ' '.join(map(str, result.per_worker))
                for result in results[key].rounds), 79,
                initial_indent='(%s) ' % number, subsequent_indent='    '))
    print()


NOTES = [
    ('', 'Each row of each round starts a new ZEO server (runzeo,'
     ' FileStorage in a new temporary directory, on 127.0.0.1).'),
    ('(1) ', 'The main process, a ZEO client, changes a BTrees.Length and'
     ' commits, again and again; jobs means commits.'),
    ('(2)-(6) ', 'The main process creates a task service; then the'
     ' workers start (z3c-taskqueue worker URI --service tasks --threads 1'
     ' --wait %(wait)g --lease %(lease)g --import z3c.taskqueue.testing)'
     ' and once each has logged that it runs, and %(settle)g s more have'
     ' passed, the main process adds the jobs of task noop in one'
     ' transaction, with input None or %(sleep)g (the task then sleeps'
     ' that long).  The clock runs from the end of that commit until the'
     ' main process, looking every %(poll)g ms in a fresh transaction,'
     ' sees no job waiting or running.  Then every job must be completed,'
     ' and the workers, stopped with SIGTERM, must have logged as many'
     ' completed jobs and no failed one.  Worker start-up and shut-down'
     ' are not timed.'),
    ('', 'ConflictErrors: the worker command does not log its conflicts,'
     ' so they are the ZEO server\'s count (server_status()[\'conflicts\'])'
     ' over the timed part: each a commit that failed with a ConflictError'
     ' or ReadConflictError that the server could not resolve.  Only the'
     ' workers commit then.  Conflicts the server resolved (BTrees merging'
     ' concurrent changes) are no errors and not counted.'),
    ('', 'Server commits and loads: the server\'s counts over the timed'
     ' part, per job.  Loads leave out those of the main process (its'
     ' cache misses): they are the objects the workers had to fetch,'
     ' mostly ones that another worker\'s commit had changed.  Worker CPU:'
     ' the CPU time of all worker processes, per job.  ZEO server CPUs and'
     ' all CPUs busy: the CPU time of the server process and of the whole'
     ' machine (this benchmark and anything else that runs), per second'
     ' of wall time, from /proc: how many CPUs were busy on average.'),
]


def print_notes():
    values = {'wait': WAIT, 'lease': LEASE, 'settle': SETTLE,
              'sleep': SLEEP, 'poll': POLL * 1000}
    for prefix, text in NOTES:
        print(textwrap.fill(text % values, 72, initial_indent=prefix,
                            subsequent_indent=' ' * min(len(prefix), 4),
                            break_on_hyphens=False))
    print()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        '--quick', action='store_true',
        help='%d round of %d no-op jobs, %d sleeping jobs and %d raw'
        ' commits a row, instead of %d rounds of %d, %d and %d'
        % (QUICK_ROUNDS, QUICK_NOOP_JOBS, QUICK_SLEEP_JOBS,
           QUICK_RAW_COMMITS, ROUNDS, NOOP_JOBS, SLEEP_JOBS, RAW_COMMITS))
    parser.add_argument(
        '--rounds', type=int, help='rounds (default %d)' % ROUNDS)
    parser.add_argument(
        '--tmpdir', metavar='DIRECTORY',
        help='put the databases there (e.g. /dev/shm, where fsync costs'
        ' nothing), not in %s' % tempfile.gettempdir())
    arguments = parser.parse_args(argv)
    global TMPDIR
    TMPDIR = arguments.tmpdir
    if arguments.quick:
        rounds = QUICK_ROUNDS
        noop, sleep, raw = QUICK_NOOP_JOBS, QUICK_SLEEP_JOBS, \
            QUICK_RAW_COMMITS
    else:
        rounds = ROUNDS
        noop, sleep, raw = NOOP_JOBS, SLEEP_JOBS, RAW_COMMITS
    rounds = max(1, arguments.rounds or rounds)

    started_at = datetime.datetime.now(datetime.timezone.utc)
    load = load_average()
    clock = time.perf_counter()
    measures = {
        'raw': lambda: raw_commits(raw),
        'noop-1': lambda: process(1, noop),
        'noop-2': lambda: process(2, noop),
        'noop-4': lambda: process(4, noop),
        'sleep-1': lambda: process(1, sleep, SLEEP),
        'sleep-4': lambda: process(4, sleep, SLEEP),
    }
    # The rows take turns, round by round, so that what else the machine
    # does meanwhile touches them alike.
    results = {}
    for number in range(1, rounds + 1):
        for unused, key, label in ALL_ROWS:
            measure = measures[key]
            progress('round %d of %d: %s' % (number, rounds, label))
            result = measure()
            results[key] = results[key] + result if key in results \
                else result

    print_header((noop, sleep, raw), rounds, started_at, load)
    print_results(results)
    met = print_goals(results)
    print_costs(results)
    print_rounds(results)
    print_notes()
    print('Whole run: %.0f s. Goals %s.' % (
        time.perf_counter() - clock, 'met' if met else 'MISSED'))


if __name__ == '__main__':
    main()
