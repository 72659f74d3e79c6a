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
"""Print how fast worker processes run jobs on a real ZEO server, and on
RelStorage/PostgreSQL when TASKQUEUE_PG_DSN names a database."""
import argparse
import functools
import os
import sys
import tempfile
import textwrap
import time

import transaction
import ZEO
import ZODB
from BTrees.Length import Length

from z3c.taskqueue import interfaces

import _harness


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
SHARED_GOAL = 3.0       # batchable jobs, 4 processes / raw commits

TMPDIR = None

# A PostgreSQL database that this benchmark may erase, as a libpq
# connection string naming a TCP host (README.rst, "Development"); as for
# the tests in z3c.taskqueue.tests.test_relstorage.  Without it the
# RelStorage rows are skipped.
DSN = os.environ.get('TASKQUEUE_PG_DSN', '').strip()
SKIPPED = ('RelStorage rows SKIPPED: TASKQUEUE_PG_DSN is not set'
           ' (README.rst, Development).')


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


def cpu_of_tree(parent):
    """Return {pid: CPU seconds} of process ``parent`` and its children
    (Linux only; None elsewhere or if ``parent`` is gone)."""
    times = {parent: cpu_seconds(parent)}
    if times[parent] is None:
        return None
    for name in os.listdir('/proc'):
        if name.isdigit():
            try:
                with open('/proc/%s/stat' % name) as f:
                    fields = f.read().rsplit(')', 1)[1].split()
            except OSError:
                continue        # gone meanwhile
            if int(fields[1]) == parent:        # ppid, field 4 of proc(5)
                times[int(name)] = (int(fields[11]) + int(fields[12])) \
                    / os.sysconf('SC_CLK_TCK')
    return times


def cpu_of_tree_since(before, parent):
    """The CPU seconds the tree of ``parent`` spent since ``before``, a
    cpu_of_tree(): processes that were born meanwhile count in full,
    those that ended meanwhile not at all."""
    after = cpu_of_tree(parent) if before is not None else None
    if after is None:
        return None
    return sum(seconds - before.get(pid, 0.0)
               for pid, seconds in after.items())


def difference(after, before):
    if after is None or before is None:
        return None
    return after - before


class Result(_harness.Result):
    """What a row measured in a round, or in all its rounds (a sum)."""

    # From a Watch.
    FIELDS = ('seconds', 'conflicts', 'commits', 'loads', 'worker_cpu',
              'server_cpu', 'busy_cpu')
    SUMMED = ('jobs', 'logged', 'rounds') + FIELDS

    def __init__(self, jobs, watch, per_worker=(), logged=None):
        self.jobs = jobs
        for name in self.FIELDS:
            setattr(self, name, getattr(watch, name))
        # The jobs each worker process completed, and the ConflictErrors
        # the workers logged in all.
        self.per_worker = list(per_worker)
        self.logged = logged
        self.rounds = [self]


class Client:
    """A client of the main process, on ``db``, with a connection of its
    own."""

    db = None

    def open(self, db):
        self.db = db
        self.tm = transaction.TransactionManager()
        self.connection = db.open(transaction_manager=self.tm)

    def close(self):
        try:
            if self.db is not None:
                self.db.close()     # closes the connection too
        finally:
            super().close()

    @property
    def root(self):
        return self.connection.root()


class Server(Client, _harness.ZEOServer):
    """A fresh ZEO server on a FileStorage in a temporary directory, and a
    client of the main process."""

    def __init__(self):
        super().__init__('zeo', TMPDIR)

    def start(self):
        super().start()
        self.open(ZEO.DB(self.addr))
        self.countLoads(self.db.storage)

    def countLoads(self, storage):
        """Count the loads of this client that go to the server."""
        self.loads = 0
        load = storage.loadBefore

        def loadBefore(oid, tid):
            if storage._cache.loadBefore(oid, tid) is None:
                self.loads += 1
            return load(oid, tid)
        storage.loadBefore = loadBefore

    def status(self):
        """The server's own counts: commits, conflicts and more."""
        return self.db.storage.server_status()

    def cpu(self):
        return cpu_seconds(self.server.process.pid)

    def cpuSince(self, before):
        return difference(self.cpu(), before)


class PostgreSQL:
    """What the benchmark learns of the PostgreSQL server of DSN."""

    def __init__(self, dsn):
        import psycopg2
        from psycopg2.extensions import parse_dsn

        # The workers' URI, as the tests make it; it checks the DSN.
        from z3c.taskqueue.tests.test_relstorage import relStorageURI
        self.uri = relStorageURI(dsn, keepHistory=False)
        params = parse_dsn(dsn)
        self.address = '%s:%s' % (params.get('host', 'localhost'),
                                  params.get('port', '5432'))
        connection = psycopg2.connect(dsn)
        try:
            cursor = connection.cursor()
            cursor.execute(
                "SELECT current_setting('server_version'),"
                " current_setting('fsync'),"
                " current_setting('synchronous_commit'), pg_backend_pid()")
            self.version, self.fsync, self.synchronous_commit, backend = \
                cursor.fetchone()
            self.postmaster = self.findPostmaster(
                params.get('host', 'localhost'), backend)
        finally:
            connection.close()

    @staticmethod
    def findPostmaster(host, backend):
        """Return the pid of the server's postmaster if it runs on this
        machine (and we can see it), else None."""
        if host not in ('127.0.0.1', 'localhost', '::1'):
            return None
        try:
            with open('/proc/%d/stat' % backend) as f:
                comm, rest = f.read().split(') ', 1)
            parent = int(rest.split()[1])
            with open('/proc/%d/comm' % parent) as f:
                parentComm = f.read().strip()
        except (OSError, ValueError, IndexError):
            return None
        if not (comm.endswith('(postgres') and parentComm == 'postgres'):
            return None
        return parent


POSTGRESQL = None       # a PostgreSQL, if DSN is set


class PGServer(Client, _harness.Directory):
    """A fresh history-free RelStorage database on PostgreSQL (RelStorage's
    tables dropped and created again), a client of the main process, and
    a temporary directory for the workers' logs."""

    def __init__(self):
        super().__init__('pg', TMPDIR)

    def start(self):
        from relstorage.adapters.postgresql import PostgreSQLAdapter
        from relstorage.options import Options
        from relstorage.storage import RelStorage
        super().start()
        # As z3c.taskqueue.tests.test_relstorage does.
        options = Options(keep_history=False)
        PostgreSQLAdapter(dsn=DSN, options=options).schema.drop_all()
        adapter = PostgreSQLAdapter(dsn=DSN, options=options)
        self.open(ZODB.DB(RelStorage(adapter, options=options)))

    @property
    def uri(self):
        return POSTGRESQL.uri

    def status(self):
        """No counts of commits, conflicts or loads: see NOTES."""
        return None

    def cpu(self):
        if POSTGRESQL.postmaster is None:
            return None
        return cpu_of_tree(POSTGRESQL.postmaster)

    def cpuSince(self, before):
        return cpu_of_tree_since(before, POSTGRESQL.postmaster)


class Watch:
    """Wall time from start(); the server's counts, CPU times and the
    main process's loads from snapshot(), until stop().

    Without the server's counts (RelStorage), conflicts, commits and
    loads are None.
    """

    def __init__(self, server, pids):
        self.server = server
        self.pids = pids

    def start(self):
        self.started = time.perf_counter()

    def snapshot(self):
        self.status = self.server.status()
        self.main_loads = getattr(self.server, 'loads', None)
        self.server_cpu = self.server.cpu()
        self.worker_cpu = cpu_total(self.pids) if self.pids else None
        self.busy = machine_busy()

    def stop(self):
        self.seconds = time.perf_counter() - self.started
        busy = machine_busy()
        self.worker_cpu = difference(cpu_total(self.pids), self.worker_cpu)
        self.server_cpu = self.server.cpuSince(self.server_cpu)
        self.busy_cpu = None
        if busy is not None and self.busy is not None:
            self.busy_cpu = ((busy - self.busy)
                             / os.sysconf('SC_CLK_TCK'))
        if self.status is None:
            self.conflicts = self.commits = self.loads = None
            return
        status = self.server.status()
        self.conflicts = status['conflicts'] - self.status['conflicts']
        self.commits = status['commits'] - self.status['commits']
        # The server's loads, less those of the main process.
        self.loads = (status['loads'] - self.status['loads']
                      - (self.server.loads - self.main_loads))


# 1. Raw commits

def raw_commits(backend, commits):
    """One client commits ``commits`` times, each changing one tiny
    object."""
    with backend() as server:
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
    if watch.conflicts is None:
        # One client has no one to conflict with; a ConflictError would
        # have stopped the run.
        watch.conflicts = 0
    return Result(commits, watch)


# 2. Worker processes

class Workers(_harness.Workers):
    """``z3c-taskqueue worker`` processes, one thread each, with logs."""

    def __init__(self, server, count):
        super().__init__(server.uri, server.directory, count, wait=WAIT,
                         lease=LEASE)

    def stop(self):
        """Stop the workers with SIGTERM; return the jobs each completed
        and the ConflictErrors each met, as each logged them."""
        self.close()
        completed = []
        conflicts = []
        for path, process in zip(self.logs, self.processes):
            found = _harness.stopped_counts(path)
            if process.returncode != 0 or found is None:
                raise RuntimeError('a worker did not stop cleanly (exit'
                                   ' status %s):\n%s'
                                   % (process.returncode, self.tails()))
            if found[1]:
                raise RuntimeError('jobs failed:\n%s' % self.tails())
            completed.append(found[0])
            conflicts.append(found[2])
        self.processes = []
        return completed, conflicts


def process(backend, workers, jobs, input=None, task='noop'):
    """Time ``workers`` processes through ``jobs`` jobs of ``task``."""
    with backend() as server:
        service = _harness.new_service(server.root)
        server.tm.commit()
        with Workers(server, workers) as running:
            # Once each says it runs, and a little longer.
            running.wait_until_ready(START_TIMEOUT, POLL)
            time.sleep(SETTLE)
            watch = Watch(server, running.pids)
            server.tm.begin()
            for unused in range(jobs):
                service.add(task, input)
            server.tm.commit()
            watch.start()
            watch.snapshot()
            deadline = watch.started + TIMEOUT
            while not done(server):
                if time.perf_counter() > deadline:
                    raise RuntimeError('timed out:\n%s' % running.tails())
                time.sleep(POLL)
            watch.stop()
            per_worker, conflicts = running.stop()
        server.tm.begin()
        counts = {status: count for status, count
                  in service.countJobs().items() if count}
    if counts != {interfaces.COMPLETED: jobs} or sum(per_worker) != jobs:
        raise RuntimeError('jobs by status: %r; the workers say they'
                           ' completed %r, not %d in all'
                           % (counts, per_worker, jobs))
    if watch.conflicts is None:
        # RelStorage: the workers' own count.
        watch.conflicts = sum(conflicts)
    return Result(jobs, watch, per_worker, sum(conflicts))


def done(server):
    """Look in a fresh transaction whether no job waits or runs."""
    server.tm.begin()
    service = server.root['tasks']
    return (not service.hasJobsWaiting() and not service._idsInStatus(
        interfaces.PROCESSING))


# Printing

def print_header(sizes, rounds, run):
    relstorage = POSTGRESQL is not None
    lines = [
        'z3c.taskqueue on ZEO%s: jobs per second of 1, 2 and 4 worker'
        ' processes (z3c-taskqueue worker, one thread each) on a real ZEO'
        ' server%s, and their ConflictErrors, next to raw commits of one'
        ' client.' % (
            ' and RelStorage' if relstorage else '',
            ' and on RelStorage with PostgreSQL' if relstorage else ''),
        '%s; %s; %s;' % (
            _harness.python(),
            _harness.versions('ZEO', 'ZODB', 'BTrees'),
            _harness.versions('persistent', 'transaction', 'z3c.taskqueue'))]
    if relstorage:
        lines.append(
            '%s; PostgreSQL %s at %s (fsync %s, synchronous_commit %s),'
            ' RelStorage history free;' % (
                _harness.versions('RelStorage', 'psycopg2',
                                  'psycopg2-binary'),
                POSTGRESQL.version.split()[0], POSTGRESQL.address,
                POSTGRESQL.fsync, POSTGRESQL.synchronous_commit))
    lines += [
        '%s; FileStorage in temporary directories of %s;'
        % (_harness.machine(), TMPDIR or tempfile.gettempdir()),
        'run started %s; %d round%s, in which the rows take turns, each'
        ' with %s no-op jobs, %s sleeping jobs or %s raw commits a row.'
        % ((run.started, rounds, '' if rounds == 1 else 's')
           + tuple(format(n, ',') for n in sizes)),
        '%s (other processes compete for the CPUs when it is well above'
        ' 0).' % run.loads()]
    _harness.print_wrapped(lines)
    if not relstorage:
        print()
        print(SKIPPED)
    print()


KINDS = [
    ('raw', 'raw commits, 1 client'),
    ('noop-1', 'no-op jobs, 1 process'),
    ('noop-2', 'no-op jobs, 2 processes'),
    ('noop-4', 'no-op jobs, 4 processes'),
    ('shared-1', 'batchable no-op, 1 process'),
    ('shared-4', 'batchable no-op, 4 procs'),
    ('sleep-1', '50 ms sleeps, 1 process'),
    ('sleep-4', '50 ms sleeps, 4 processes'),
]
# Each of these kinds of row is compared with that one.
BASES = {'noop-1': 'raw', 'noop-2': 'noop-1', 'noop-4': 'noop-1',
         'shared-1': 'raw', 'shared-4': 'raw', 'sleep-4': 'sleep-1'}
BACKENDS = {'zeo': Server, 'pg': PGServer}
NAMES = {'zeo': 'ZEO', 'pg': 'RelStorage'}


class Row:

    def __init__(self, number, backend, kind, label):
        self.number = str(number)
        self.backend = backend
        self.kind = kind
        self.key = (backend, kind)
        self.label = label

    @property
    def ref(self):
        return '(%s)' % self.number


def make_rows(backends):
    """The rows of ``backends``, numbered from 1 on."""
    kinds = [(backend, kind, label) for backend in backends
             for kind, label in KINDS]
    return [Row(number, *row) for number, row in enumerate(kinds, 1)]


def heading(backend):
    if backend == 'zeo':
        return 'ZEO: runzeo, FileStorage'
    return 'RelStorage on PostgreSQL %s, history free' % (
        POSTGRESQL.version.split()[0])


def by_backend(rows):
    """``rows`` grouped by backend: (backend, its rows), ..."""
    groups = []
    for row in rows:
        if not groups or groups[-1][0] != row.backend:
            groups.append((row.backend, []))
        groups[-1][1].append(row)
    return groups


def find(rows, backend, kind):
    for row in rows:
        if row.key == (backend, kind):
            return row
    raise KeyError((backend, kind))


RESULT_ROW = '%-2s %-27s %6s %6s %7s %9s  %s'
COST_ROW = '%-2s %-27s %7s %7s %7s %7s %7s'


def print_results(rows, results):
    _harness.print_row(RESULT_ROW, '', '', '', '', 'jobs', 'Conflict-', '')
    _harness.print_row(RESULT_ROW, '', 'row', 'jobs', 's', 'per s',
                       'Errors/job', 'ratio')
    for backend, group in by_backend(rows):
        print('   %s' % heading(backend))
        for row in group:
            result = results[row.key]
            ratio = ''
            if row.kind in BASES:
                base = find(rows, backend, BASES[row.kind])
                ratio = '%s/%s %.2f' % (row.ref, base.ref,
                                        result.rate / results[base.key].rate)
            _harness.print_row(
                RESULT_ROW, row.number, row.label, format(result.jobs, ','),
                '%.1f' % result.seconds, '%.0f' % result.rate,
                '%.3f' % (result.conflicts / result.jobs), ratio)
    print()


def print_costs(rows, results):
    def per_job(value, result, scale=1, form='%.2f'):
        return '-' if value is None else form % (value / result.jobs
                                                 * scale)

    def share(value, result):
        return '-' if value is None else '%.2f' % (value / result.seconds)

    print('Where the time goes (per job, or CPUs busy on average):')
    _harness.print_row(COST_ROW, '', '', 'server', 'server', 'worker',
                       'server', 'all')
    _harness.print_row(COST_ROW, '', '', 'commits', 'loads', 'CPU ms',
                       'CPUs', 'CPUs')
    _harness.print_row(COST_ROW, '', 'row', 'per job', 'per job', 'per job',
                       'busy', 'busy')
    for backend, group in by_backend(rows):
        print('   %s' % heading(backend))
        for row in group:
            result = results[row.key]
            _harness.print_row(COST_ROW, row.number, row.label,
                               per_job(result.commits, result),
                               per_job(result.loads, result),
                               per_job(result.worker_cpu, result, 1000),
                               share(result.server_cpu, result),
                               share(result.busy_cpu, result))
    print()


def print_goals(rows, results):
    met = []

    def goal(text, value, limit, at_least=True):
        ok = value >= limit if at_least else value <= limit
        met.append(ok)
        print('%-49s %6.3f %s %.1f  %s' % (
            text, value, '>=' if at_least else '<=', limit,
            _harness.verdict(ok)))

    for backend, group in by_backend(rows):
        print('Goals, %s:' % NAMES[backend])

        def row(kind):
            return find(group, backend, kind)

        def ratio(kind, base, what, goal_value):
            goal('%s/%s %s' % (row(kind).ref, row(base).ref, what),
                 results[row(kind).key].rate / results[row(base).key].rate,
                 goal_value)

        ratio('noop-4', 'noop-1', 'no-op jobs/s, 4 processes vs 1',
              SCALE_GOAL)
        ratio('shared-4', 'raw', 'batchable jobs/s, 4 processes vs raw',
              SHARED_GOAL)
        for kind in ('noop-1', 'noop-2', 'noop-4', 'shared-4'):
            result = results[row(kind).key]
            goal('%s ConflictErrors/job, %s' % (row(kind).ref,
                                                row(kind).label),
                 result.conflicts / result.jobs, CONFLICT_GOAL,
                 at_least=False)
        ratio('sleep-4', 'sleep-1', 'sleeps/s, 4 processes vs 1',
              SLEEP_GOAL)
    print()
    return all(met)


def print_rounds(rows, results):
    rows = [row for row in rows if row.kind != 'raw']
    print('Each round on its own: jobs/s, ConflictErrors/job:')
    for row in rows:
        print(textwrap.fill('; '.join(
            '%.0f %.3f' % (result.rate, result.conflicts / result.jobs)
            for result in results[row.key].rounds), 79,
            initial_indent=row.ref + ' ', subsequent_indent='    '))
    print('Jobs each worker process completed, round by round:')
    for row in rows:
        if len(results[row.key].rounds[0].per_worker) > 1:
            print(textwrap.fill('; '.join(
                ' '.join(map(str, result.per_worker))
                for result in results[row.key].rounds), 79,
                initial_indent=row.ref + ' ', subsequent_indent='    '))
    zeo = [row for row in rows if row.backend == 'zeo']
    print('ConflictErrors on ZEO in all rounds, the server\'s count / the'
          ' workers\' logs:')
    print(textwrap.fill('; '.join(
        '%s %d / %d' % (row.ref, results[row.key].conflicts,
                        results[row.key].logged) for row in zeo), 79))
    print()


NOTES = [
    ('', 'Each row of each round starts a new ZEO server (runzeo,'
     ' FileStorage in a new temporary directory, on 127.0.0.1)'
     '%(relstorage)s.'),
    ('%(raw)s ', 'The main process, a client, changes a BTrees.Length and'
     ' commits, again and again; jobs means commits.'),
    ('%(jobs)s ', 'The main process creates a task service; then the'
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
    ('%(sleeps)s ', 'The 50 ms jobs sleep (time.sleep): they use no CPU,'
     ' so processes sleep in parallel on any number of CPUs.  The goal of'
     ' %(sleepgoal)gx with 4 processes measures that, and what claiming'
     ' and committing cost around the sleeps; not CPU-bound work, which'
     ' could not go faster than the CPUs there are.'),
    ('', 'ConflictErrors on ZEO: the ZEO server\'s count'
     ' (server_status()[\'conflicts\']) over the timed part: each a commit'
     ' that failed with a ConflictError or ReadConflictError that the'
     ' server could not resolve.  Only the workers commit then.  Conflicts'
     ' the server resolved (BTrees merging concurrent changes) are no'
     ' errors and not counted.'),
    ('', 'ConflictErrors on RelStorage, and the workers\' logs on ZEO: the'
     ' sum of K in the line each worker logs as it stops ("Worker ...'
     ' stopped: N jobs completed, M failed, K conflicts"), every'
     ' ConflictError (ReadConflictError and RelStorage\'s lock errors'
     ' that subclass it included) the worker met claiming jobs or'
     ' committing a job\'s outcome.  RelStorage resolves conflicts in its'
     ' clients, and PostgreSQL counts no ZODB conflicts, so this is the'
     ' count there.  It spans the workers\' whole life, not just the timed'
     ' part, but they commit nothing outside it here; and it leaves out'
     ' the commits a worker retries quietly (recovering expired leases,'
     ' renewing leases, releasing jobs on stop, recording failures), none'
     ' of which happens here either.  Raw commits on RelStorage: 0, as one'
     ' client has no one to conflict with (a ConflictError would stop the'
     ' run).'),
    ('', 'Server commits and loads: the ZEO server\'s counts over the timed'
     ' part, per job; - on RelStorage.  Loads leave out those of the main'
     ' process (its cache misses): they are the objects the workers had to'
     ' fetch, mostly ones that another worker\'s commit had changed.'
     '  Worker CPU: the CPU time of all worker processes, per job.  Server'
     ' CPUs busy and all CPUs busy: the CPU time of the ZEO server process'
     ' (or of all PostgreSQL\'s processes: the postmaster and its children,'
     ' those that ended meanwhile left out; - unless it runs on this'
     ' machine) and of the whole machine (this benchmark and anything else'
     ' that runs), per second of wall time, from /proc: how many CPUs were'
     ' busy on average.'),
]


def print_notes(rows):
    def refs(kinds):
        found = []
        for backend, group in by_backend(rows):
            numbers = [row.number for row in group if row.kind in kinds]
            found.append('(%s)' % numbers[0] if len(numbers) == 1
                         else '(%s)-(%s)' % (numbers[0], numbers[-1]))
        return ', '.join(found)

    values = {'wait': WAIT, 'lease': LEASE, 'settle': SETTLE,
              'sleep': SLEEP, 'poll': POLL * 1000,
              'raw': refs(('raw',)),
              'jobs': refs([kind for kind, label in KINDS[1:]]),
              'sleeps': refs(('sleep-1', 'sleep-4')),
              'sleepgoal': SLEEP_GOAL,
              'relstorage': ''}
    if POSTGRESQL is not None:
        from z3c.taskqueue.commands.command import redact
        values['relstorage'] = (
            ', or, on RelStorage, drops RelStorage\'s tables in the'
            ' database TASKQUEUE_PG_DSN names and lets RelStorage create them'
            ' again, history free; the workers open it by %s'
            % redact(POSTGRESQL.uri))
    notes = NOTES if POSTGRESQL is not None else [
        note for note in NOTES if not note[1].startswith(
            'ConflictErrors on RelStorage')] + [
        ('', 'The workers\' logs: the sum of K in the line each worker logs'
         ' as it stops ("Worker ... stopped: N jobs completed, M failed, K'
         ' conflicts").')]
    for prefix, text in notes:
        prefix = prefix % values
        print(textwrap.fill(text % values, 72, initial_indent=prefix,
                            subsequent_indent=' ' * min(len(prefix), 4),
                            break_on_hyphens=False))
    print()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    _harness.add_quick(
        parser, '%d round of %d no-op jobs, %d sleeping jobs and %d raw'
        ' commits a row, instead of %d rounds of %d, %d and %d'
        % (QUICK_ROUNDS, QUICK_NOOP_JOBS, QUICK_SLEEP_JOBS,
           QUICK_RAW_COMMITS, ROUNDS, NOOP_JOBS, SLEEP_JOBS, RAW_COMMITS))
    parser.add_argument(
        '--rounds', type=int, help='rounds (default %d)' % ROUNDS)
    _harness.add_tmpdir(
        parser, 'put the ZEO databases and the logs there (e.g. /dev/shm,'
        ' where fsync costs nothing), not in %s' % tempfile.gettempdir())
    _harness.add_no_fail(parser)
    arguments = parser.parse_args(argv)
    global TMPDIR, POSTGRESQL
    TMPDIR = arguments.tmpdir
    if arguments.quick:
        rounds = QUICK_ROUNDS
        noop, sleep, raw = QUICK_NOOP_JOBS, QUICK_SLEEP_JOBS, \
            QUICK_RAW_COMMITS
    else:
        rounds = ROUNDS
        noop, sleep, raw = NOOP_JOBS, SLEEP_JOBS, RAW_COMMITS
    rounds = max(1, arguments.rounds or rounds)
    backends = ['zeo']
    if DSN:
        try:
            POSTGRESQL = PostgreSQL(DSN)
        except ImportError as error:
            parser.exit(2, '%s: RelStorage rows need RelStorage and'
                        ' psycopg2 (pip install -e \'.[relstorage]\'): %s\n'
                        % (parser.prog, error))
        except Exception as error:
            parser.exit(2, '%s: TASKQUEUE_PG_DSN: %s: %s\n' % (
                parser.prog, error.__class__.__name__,
                ' '.join(str(error).split())))
        backends.append('pg')
    rows = make_rows(backends)

    run = _harness.Run()
    measures = {
        'raw': lambda backend: raw_commits(backend, raw),
        'noop-1': lambda backend: process(backend, 1, noop),
        'noop-2': lambda backend: process(backend, 2, noop),
        'noop-4': lambda backend: process(backend, 4, noop),
        'shared-1': lambda backend: process(backend, 1, noop * 4,
                                            task='noop-shared'),
        'shared-4': lambda backend: process(backend, 4, noop * 4,
                                            task='noop-shared'),
        'sleep-1': lambda backend: process(backend, 1, sleep, SLEEP),
        'sleep-4': lambda backend: process(backend, 4, sleep, SLEEP),
    }
    results = _harness.take_turns(rounds, [
        (row.key, '(%s) %s, %s' % (row.number, NAMES[row.backend],
                                   row.label),
         functools.partial(measures[row.kind], BACKENDS[row.backend]))
        for row in rows])

    print_header((noop, sleep, raw), rounds, run)
    print_results(rows, results)
    met = print_goals(rows, results)
    print_costs(rows, results)
    print_rounds(rows, results)
    print_notes(rows)
    return run.end(met, arguments)


if __name__ == '__main__':
    sys.exit(main())
