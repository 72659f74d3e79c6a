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
"""Print how fast processors run jobs, next to raw commits and to Huey."""
import argparse
import contextlib
import cProfile
import functools
import importlib
import inspect
import io
import logging
import os
import pstats
import signal
import sqlite3
import statistics
import sys
import tempfile
import threading
import time

import transaction
import ZODB
import ZODB.FileStorage
import zope.component
from BTrees.Length import Length

from z3c.taskqueue import interfaces
from z3c.taskqueue.processing.processor import MultiProcessor
from z3c.taskqueue.processing.processor import SimpleProcessor
from z3c.taskqueue.model.task import SimpleTask

import _harness


try:
    import huey
    import huey.consumer
    import huey.signals
except ImportError:     # pragma: no cover
    huey = None


JOBS = 5_000
QUICK_JOBS = 1_000
SAMPLES = 200
QUICK_SAMPLES = 50
WARMUP_SAMPLES = 3
# Samples of the worker process's latency (4c): each takes about --wait.
WORKER_SAMPLES = 50
WORKER_WAIT = 1.0       # z3c-taskqueue worker's default --wait
ROUNDS = 5
MULTI_THREADS = 4

# Jobs are added and committed in batches of this many, before the clock
# starts.
ENQUEUE_BATCH = 500

# How often the main thread looks whether all jobs are done (seconds).
POLL = 0.005

# Where the databases go; None for the system's default.
TMPDIR = None

# A row that does not finish in this time (seconds) is a bug, not a
# result; nor is a single job or a worker that goes idle after it.
TIMEOUT = 600
STEP_TIMEOUT = 60

RAW_RATIO_GOAL = 0.75
BATCHED_RAW_GOAL = 5.0
BATCHED_HUEY_GOAL = 2.0
LATENCY_GOAL_MS = 20

# Start times recorded by the latency tasks, and the signals they give.
STARTS = []
job_started = threading.Event()
worker_idle = threading.Event()


def noop(input):
    return None


def stamp(input):
    """Record when the job started, for the latency measurements."""
    STARTS.append(time.perf_counter())
    # Cleared here, in the worker's own thread, so that only its going
    # idle after this job sets it again.
    worker_idle.clear()
    job_started.set()


# Measuring

class Stopwatch:
    """Wall time, CPU time of the process, and FileStorage's fsyncs.

    FileStorage calls its module's ``fsync`` once a commit; we time it.
    """

    seconds = cpu = None

    def __enter__(self):
        self.fsyncs = 0
        self.fsync_seconds = 0.0
        self.module = importlib.import_module('ZODB.FileStorage.FileStorage')
        self.real_fsync = self.module.fsync
        if self.real_fsync is not None:
            self.module.fsync = self.fsync
        self.cpu_start = time.process_time()
        self.start = time.perf_counter()
        return self

    def fsync(self, fd):
        start = time.perf_counter()
        try:
            self.real_fsync(fd)
        finally:
            if self.seconds is None:
                self.fsyncs += 1
                self.fsync_seconds += time.perf_counter() - start

    def stop(self):
        if self.seconds is None:
            self.seconds = time.perf_counter() - self.start
            self.cpu = time.process_time() - self.cpu_start

    def __exit__(self, *exc_info):
        self.stop()
        self.module.fsync = self.real_fsync


class Result(_harness.Result):
    """How many jobs took how long, and what else was counted."""

    SUMMED = ('jobs', 'seconds', 'cpu', 'fsyncs', 'fsync_seconds',
              'conflicts')

    def __init__(self, jobs, watch, conflicts=0, profile=None):
        self.jobs = jobs
        self.seconds = watch.seconds
        self.cpu = watch.cpu
        self.fsyncs = watch.fsyncs
        self.fsync_seconds = watch.fsync_seconds
        self.conflicts = conflicts
        self.profile = profile

    @property
    def cpu_us(self):
        """CPU time of the whole process per job, in microseconds."""
        return self.cpu / self.jobs * 1e6

    @property
    def fsync_ms(self):
        """Mean time of one of FileStorage's fsyncs, None if none ran."""
        if not self.fsyncs:
            return None
        return self.fsync_seconds / self.fsyncs * 1000


def wait_for(event, what):
    if not event.wait(STEP_TIMEOUT):
        raise RuntimeError('timed out waiting for %s' % what)


def poll_until(condition, what):
    """Call ``condition()`` every POLL seconds until it is true."""
    deadline = time.perf_counter() + TIMEOUT
    while not condition():
        if time.perf_counter() > deadline:
            raise RuntimeError('timed out waiting for %s' % what)
        time.sleep(POLL)


@contextlib.contextmanager
def database(directory, name='Data.fs'):
    db = ZODB.DB(ZODB.FileStorage.FileStorage(
        os.path.join(directory, name)))
    try:
        yield db
    finally:
        db.close()


# 1. Raw FileStorage commits

def raw_commits(jobs):
    """Commit ``jobs`` times, each changing one tiny persistent object.

    As in the other rows, a thread does the work while the main thread
    polls the database.
    """
    with _harness.temporary_directory('raw', TMPDIR) as tmp, \
            database(tmp) as db:
        tm = transaction.TransactionManager()
        connection = db.open(transaction_manager=tm)
        connection.root()['counter'] = Length()
        tm.commit()

        def commit():
            own = transaction.TransactionManager()
            counter = db.open(transaction_manager=own).root()['counter']
            for _ in range(jobs):
                counter.change(1)
                own.commit()
            counter._p_jar.close()

        def done():
            alive = thread.is_alive()
            tm.begin()
            if connection.root()['counter']() == jobs:
                return True
            if not alive:
                raise RuntimeError('the committing thread failed')
            return False

        thread = threading.Thread(target=commit)
        with Stopwatch() as watch:
            thread.start()
            poll_until(done, 'the commits')
        thread.join()
        connection.close()
    return Result(jobs, watch)


# 2. and 5. z3c.taskqueue processors

class Service:
    """A task service stored in a FileStorage, seen by the main thread."""

    def __init__(self, db):
        self.db = db
        self.tm = transaction.TransactionManager()
        self.connection = db.open(transaction_manager=self.tm)
        _harness.new_service(self.connection.root())
        self.tm.commit()

    @property
    def service(self):
        return self.connection.root()['tasks']

    def add(self, task, count):
        for first in range(0, count, ENQUEUE_BATCH):
            for i in range(first, min(count, first + ENQUEUE_BATCH)):
                self.service.add(task, i)
            self.tm.commit()

    def done(self):
        """Look in a fresh transaction whether no job waits or runs."""
        self.tm.begin()
        service = self.service
        return (not service.hasJobsWaiting() and not service._idsInStatus(
            interfaces.PROCESSING))

    def count(self, status):
        self.tm.begin()
        return self.service.countJobs()[status]

    def status(self, jobid):
        self.tm.begin()
        return self.service.getStatus(jobid)

    def close(self):
        self.tm.abort()
        self.connection.close()


class Profiled:
    """Run a processor under cProfile, in the thread that calls it."""

    def __init__(self, processor):
        self.processor = processor
        self.profile = cProfile.Profile()

    def __call__(self):
        self.profile.runcall(self.processor)


def process(factory, jobs, profile=False, task='noop', **kw):
    """Time a processor through ``jobs`` queued no-op jobs."""
    with _harness.temporary_directory('z3c', TMPDIR) as tmp:
        with database(tmp) as db:
            stored = Service(db)
            stored.add(task, jobs)
            processor = factory(db, ['tasks'], **kw)
            target = Profiled(processor) if profile else processor
            thread = threading.Thread(target=target, name=processor.name)
            try:
                with Stopwatch() as watch:
                    thread.start()
                    poll_until(stored.done, 'the processor to finish')
            finally:
                processor.stop()
                thread.join()
            completed = stored.count(interfaces.COMPLETED)
            stored.close()
    if completed != jobs or processor.processed != jobs:
        raise RuntimeError('%d jobs completed, %d processed, not %d'
                           % (completed, processor.processed, jobs))
    return Result(jobs, watch, processor.conflicts,
                  target.profile if profile else None)


# 4. Enqueue-to-start latency of z3c.taskqueue

class IdleProbe(SimpleProcessor):
    """A SimpleProcessor that tells when it goes idle."""

    def idle(self, seen):
        worker_idle.set()
        super().idle(seen)


def sample_latency(enqueue, samples):
    """Enqueue one job at a time, each once the worker is idle again.

    ``enqueue()`` returns the perf_counter just before its commit.
    """
    del STARTS[:]
    latencies = []
    for number in range(WARMUP_SAMPLES + samples):
        wait_for(worker_idle, 'the worker to go idle')
        job_started.clear()
        before = enqueue()
        wait_for(job_started, 'the job to start')
        if number >= WARMUP_SAMPLES:
            latencies.append((STARTS[-1] - before) * 1000)
    wait_for(worker_idle, 'the worker to go idle')
    return latencies


def z3c_latency(samples):
    with _harness.temporary_directory('latency', TMPDIR) as tmp:
        with database(tmp) as db:
            stored = Service(db)
            processor = IdleProbe(db, ['tasks'])
            thread = threading.Thread(target=processor, name=processor.name)
            worker_idle.clear()
            thread.start()

            def enqueue():
                stored.tm.begin()
                stored.service.add('stamp')
                before = time.perf_counter()
                stored.tm.commit()
                return before

            try:
                latencies = sample_latency(enqueue, samples)
            finally:
                processor.stop()
                thread.join()
                stored.close()
    return latencies


# 4c. Enqueue-to-start latency of a worker process

def worker_latency(samples, wait):
    """Enqueue one job at a time for a ``z3c-taskqueue worker`` process
    that looks for jobs on a ZEO server every ``wait`` seconds.

    Return the milliseconds from just before each adding commit until the
    job started, as the worker recorded it (``job.started``: wall clock,
    which both processes share).  Each job is added at a random moment of
    the worker's wait, as a request would come.
    """
    import random
    import ZEO
    rng = random.Random(4)
    latencies = []
    with _harness.ZEOServer('worker', TMPDIR) as server:
        db = ZEO.DB(server.addr)
        stored = Service(db)
        try:
            with _harness.Workers(server.uri, server.directory, 1,
                                  wait=wait):
                for number in range(WARMUP_SAMPLES + samples):
                    time.sleep(rng.uniform(0, wait))
                    stored.tm.begin()
                    jobid = stored.service.add('noop')
                    before = time.time()
                    stored.tm.commit()
                    poll_until(lambda: stored.status(jobid)
                               == interfaces.COMPLETED,
                               'the worker process to run a job')
                    started = stored.service.jobs[jobid].started
                    if number >= WARMUP_SAMPLES:
                        latencies.append(
                            (started.timestamp() - before) * 1000)
        finally:
            stored.close()
            db.close()
    return latencies


# 3. Huey

class Counter:
    """Count the tasks for which Huey sent SIGNAL_COMPLETE."""

    count = 0

    def __call__(self, signal, task, *args):
        self.count += 1


def probe_consumer(queue):
    """Return Huey's default consumer, telling when its worker idles."""

    class ProbeWorker(huey.consumer.Worker):

        def sleep(self):
            # The queue was empty: the worker waits before looking again.
            worker_idle.set()
            super().sleep()

    class ProbeConsumer(huey.consumer.Consumer):
        worker_class = ProbeWorker

    return ProbeConsumer(queue)


@contextlib.contextmanager
def sqlite_huey():
    """A SqliteHuey with its default settings, in a temporary directory.
    """
    with _harness.temporary_directory('huey', TMPDIR) as tmp:
        queue = huey.SqliteHuey(filename=os.path.join(tmp, 'huey.db'))
        try:
            yield queue
        finally:
            queue.storage.close()


@contextlib.contextmanager
def running(consumer):
    """Run a Huey consumer in this process, as ``huey_consumer`` would.

    ``start()`` installs signal handlers, which we restore afterwards.
    """
    signals = [getattr(signal, name) for name in ('SIGINT', 'SIGTERM',
                                                  'SIGHUP')
               if hasattr(signal, name)]
    handlers = {number: signal.getsignal(number) for number in signals}
    consumer.start()
    try:
        yield consumer
    finally:
        consumer.stop(graceful=True)
        for number, handler in handlers.items():
            signal.signal(number, handler)


def enqueue_all(queue, task, count):
    """Put ``count`` tasks in Huey's queue in one SQLite transaction.

    The rows are those ``SqliteStorage.enqueue()`` writes, but without a
    commit (and an fsync) for each, which only the setup would measure.
    """
    storage = queue.storage
    with storage.db(commit=True) as cursor:
        for i in range(count):
            cursor.execute(
                'insert into task (queue, data, priority) values (?, ?, ?)',
                (storage.name,
                 storage.to_blob(queue.serialize_task(task.s(i))), 0))
    assert queue.pending_count() == count


def huey_throughput(func, jobs):
    with sqlite_huey() as queue:
        task = queue.task(name=func.__name__)(func)
        enqueue_all(queue, task, jobs)
        counter = Counter()
        queue.signal(huey.signals.SIGNAL_COMPLETE)(counter)
        # The main thread reads the queue with a connection of its own,
        # as it reads the database of the other rows.
        reader = sqlite3.connect(queue.storage.filename)

        def done():
            (pending,), = reader.execute(
                'select count(*) from task where queue = ?',
                (queue.storage.name,)).fetchall()
            return pending == 0 and counter.count == jobs

        consumer = huey.consumer.Consumer(queue)
        try:
            with Stopwatch() as watch, running(consumer):
                poll_until(done, 'Huey to finish')
                watch.stop()
        finally:
            reader.close()
        stored = queue.result_count()
    expected = jobs if func is _harness.echo else 0
    if counter.count != jobs or stored != expected:
        raise RuntimeError('Huey completed %d tasks and stored %d results,'
                           ' not %d and %d' % (counter.count, stored, jobs,
                                               expected))
    return Result(jobs, watch)


def huey_latency(samples):
    with sqlite_huey() as queue:
        task = queue.task(name='stamp')(stamp)
        consumer = probe_consumer(queue)
        worker_idle.clear()
        with running(consumer):

            def enqueue():
                call = task.s(0)
                before = time.perf_counter()
                queue.enqueue(call)
                return before

            return sample_latency(enqueue, samples)


# Printing

def percentile(samples, p):
    return statistics.quantiles(samples, n=100, method='inclusive')[p - 1]


def print_header(jobs, rounds, samples, run, tmp):
    print('z3c.taskqueue processing benchmark: jobs per second of one worker,')
    print('next to raw FileStorage commits and to Huey\'s SqliteHuey, and')
    print('enqueue->start latency of an idle worker.')
    print('%s; %s;' % (_harness.python(), _harness.versions(
        'ZODB', 'BTrees', 'persistent', 'transaction', 'huey')))
    print('SQLite %s; %s; temporary files in %s;' % (
        sqlite3.sqlite_version, _harness.machine(), tmp))
    print('run started %s; %s jobs a throughput row, split into %d'
          % (run.started, format(jobs, ','), rounds))
    print('rounds that take turns; %d latency samples a row.' % samples)
    print('%s (other' % run.loads())
    print('processes compete for the CPUs when it is well above 0).')
    print()


ROW = '%-3s %-36s %7s %6s %6s %6s  %-13s %s'


def print_throughput(jobs, results):
    _harness.print_row(ROW, '', '', 'per', '', 'CPU', 'fsync', '', '')
    _harness.print_row(ROW, '', 'throughput, %s jobs a row'
                       % format(jobs, ','),
                       'second', 's', 'us/job', 'ms', 'ratio', 'goal')
    met = []

    def row(number, label, result, ratio='', goal=''):
        fsync = result.fsync_ms
        _harness.print_row(ROW, number, label, '%.0f' % result.rate,
                           '%.1f' % result.seconds, '%.0f' % result.cpu_us,
                           '-' if fsync is None else '%.1f' % fsync, ratio,
                           goal)

    def judged(ratio, goal):
        met.append(ratio >= goal)
        return '>= %g %s' % (goal, _harness.verdict(ratio >= goal))

    raw, simple = results['raw'], results['simple']
    row('1', 'raw FileStorage commits, 1 object', raw)
    ratio = simple.rate / raw.rate
    row('2', 'SimpleProcessor, no-op jobs', simple,
        '(2)/(1) %.2f' % ratio, judged(ratio, RAW_RATIO_GOAL))
    batched = results.get('batched')
    if batched is not None:
        ratio = batched.rate / raw.rate
        row('2b', 'SimpleProcessor, batchable no-op', batched,
            '(2b)/(1) %.2f' % ratio, judged(ratio, BATCHED_RAW_GOAL))
    for number, key, label in (
            ('3', 'huey', 'Huey SqliteHuey, defaults, no-op'),
            ('3b', 'huey-echo', 'Huey, task returns its input')):
        if key in results:
            ratio = simple.rate / results[key].rate
            row(number, label, results[key],
                '(2)/(%s) %.2f' % (number, ratio))
            if batched is not None and number == '3':
                ratio = batched.rate / results[key].rate
                _harness.print_row(ROW, '', '', '', '', '', '',
                                   '(2b)/(3) %.2f' % ratio,
                                   judged(ratio, BATCHED_HUEY_GOAL))
    if 'multi' in results:
        multi = results['multi']
        row('5', 'MultiProcessor, %d threads' % MULTI_THREADS, multi,
            '(5)/(1) %.2f' % (multi.rate / raw.rate),
            '%.3f conflicts/job' % (multi.conflicts / multi.jobs))
    print()
    return all(met)


LATENCY_ROW = '%-3s %-42s %7s %6s %6s %6s  %s'


def print_latency(ours, theirs, process, wait):
    _harness.print_row(LATENCY_ROW, '', 'enqueue->start latency, ms',
                       'samples', 'p50', 'p90', 'p99', 'goal')
    rows = [('4', 'SimpleProcessor thread, woken on commit', ours)]
    if theirs is not None:
        rows.append(('4b', 'Huey default consumer, polling', theirs))
    if process is not None:
        rows.append(('4c', 'worker process over ZEO, polls every %g s' % wait,
                     process))
    met = True
    for number, label, samples in rows:
        p50 = percentile(samples, 50)
        goal = ''
        if number == '4':
            met = p50 <= LATENCY_GOAL_MS
            goal = 'p50 <= %d %s' % (LATENCY_GOAL_MS, _harness.verdict(met))
        _harness.print_row(LATENCY_ROW, number, label, len(samples),
                           '%.1f' % p50, '%.1f' % percentile(samples, 90),
                           '%.1f' % percentile(samples, 99), goal)
    print()
    return met


NOTES = """\
CPU us/job: CPU time of the whole process (all its threads) during the
row, per job.  fsync ms: the mean time of one of FileStorage's fsyncs,
one a commit ('-': SQLite's are not timed).  When fsync takes
milliseconds, it, not the CPU, sets the pace of rows 1, 2 and 5.
Each throughput row is the sum of its rounds; in each round every row
runs its share of the jobs on a new database, one row after the other.
In every throughput row the work runs in threads while the main thread
polls every %(poll)g ms, in a fresh transaction of a connection of its own,
until it sees all done; the clock runs from the start of the threads.
(1) a thread changes a BTrees.Length and commits, on a new FileStorage.
(2) the jobs are added and committed (%(batch)d a transaction) first; done
    when no job waits or runs; then all must be completed (checked).
    The task returns None.  Each job's outcome is one commit; claims are
    batched (up to batchSize=%(batchsize)d jobs a commit).  (2b) the same
    with a batchable task: up to batchSize jobs share a commit, each run
    in a savepoint.
(3) the same number of tasks, put into Huey's queue in one SQLite
    transaction, then run by huey.consumer.Consumer(huey) with its defaults
    (1 worker thread, polling from 0.1 s with backoff 1.15 up to 10 s, WAL
    journal, SQLite's default synchronous); done when the task table is
    empty and SIGNAL_COMPLETE has fired for every task.  A task that
    returns None stores no result (store_none=False, Huey's default); (3b)
    returns its input, which Huey stores: one more commit a task.
(4) one job at a time, each added just after the worker went idle; from
    just before the adding commit until the task starts, %(warmup)d warm-up
    samples dropped.  The SimpleProcessor runs in this process: the commit
    that adds a job wakes it at once (waitTime=1.0 is how long it waits
    without one), which no other process's commit does.  (4b) Huey's
    worker, once idle, polls: it sleeps its initial_delay (0.1 s) before it
    looks again, growing by 1.15 with every empty look up to 10 s, so after
    a longer idle time its latency is larger still.  (4c) is the
    comparable case for z3c.taskqueue: a z3c-taskqueue worker process
    (--threads 1 --wait %(wait)g) on a ZEO server polls every --wait
    seconds; each job is added at a random moment of that wait, and its
    start is the job's started time the worker recorded; %(workers)d
    samples at most.
(5) like (2), with %(threads)d worker threads on one DB; conflicts counts the
    ConflictErrors of claims and of jobs, which were retried.
""" % {'batch': ENQUEUE_BATCH, 'poll': POLL * 1000,
       'batchsize': inspect.signature(
           SimpleProcessor).parameters['batchSize'].default,
       'warmup': WARMUP_SAMPLES, 'threads': MULTI_THREADS,
       'wait': WORKER_WAIT, 'workers': WORKER_SAMPLES}


def print_profile(profile, limit=25):
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats('cumulative').print_stats(limit)
    stats.sort_stats('tottime').print_stats(limit)
    print(out.getvalue())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        '--jobs', type=int,
        help='jobs per throughput row (default %s, --quick %s)'
        % (format(JOBS, ','), format(QUICK_JOBS, ',')))
    parser.add_argument(
        '--samples', type=int,
        help='latency samples (default %d, --quick %d)'
        % (SAMPLES, QUICK_SAMPLES))
    parser.add_argument(
        '--rounds', type=int, default=ROUNDS,
        help='split each throughput row into this many turns (default %d)'
        % ROUNDS)
    _harness.add_quick(parser, 'fewer jobs and samples')
    parser.add_argument(
        '--no-huey', action='store_true', help='leave out Huey')
    parser.add_argument(
        '--no-multi', action='store_true',
        help='leave out the MultiProcessor')
    _harness.add_tmpdir(
        parser, 'put the databases there (e.g. /dev/shm, where fsync costs'
        ' nothing), not in %s' % tempfile.gettempdir())
    parser.add_argument(
        '--profile', action='store_true',
        help='also run (2) under cProfile and print where its time goes')
    parser.add_argument(
        '--no-worker', action='store_true',
        help='leave out the latency of a worker process (4c)')
    _harness.add_no_fail(parser)
    arguments = parser.parse_args(argv)
    jobs = arguments.jobs or (QUICK_JOBS if arguments.quick else JOBS)
    samples = arguments.samples or (
        QUICK_SAMPLES if arguments.quick else SAMPLES)
    rounds = max(1, min(arguments.rounds, jobs))
    with_huey = not arguments.no_huey
    global TMPDIR
    TMPDIR = arguments.tmpdir
    if with_huey and huey is None:
        parser.error('Huey is not installed: pip install huey,'
                     ' or pass --no-huey')

    logging.basicConfig(level=logging.WARNING)
    zope.component.provideUtility(SimpleTask(noop), name='noop')
    zope.component.provideUtility(SimpleTask(noop, batchable=True),
                                  name='batchable')
    zope.component.provideUtility(SimpleTask(stamp), name='stamp')
    run = _harness.Run()

    # The throughput rows take turns, round by round, so that what else
    # the machine (and its disk) does meanwhile touches them alike.
    rows = [('raw', 'raw FileStorage commits', raw_commits),
            ('simple', 'SimpleProcessor',
             lambda count: process(SimpleProcessor, count)),
            ('batched', 'SimpleProcessor, batchable tasks',
             lambda count: process(SimpleProcessor, count,
                                   task='batchable'))]
    if with_huey:
        rows.append(('huey', 'Huey, no-op tasks',
                     lambda count: huey_throughput(noop, count)))
        rows.append(('huey-echo', 'Huey, tasks that return their input',
                     lambda count: huey_throughput(_harness.echo, count)))
    if not arguments.no_multi:
        rows.append(('multi', 'MultiProcessor', lambda count: process(
            MultiProcessor, count, maxThreads=MULTI_THREADS)))
    per_round = jobs // rounds
    jobs = per_round * rounds
    results = _harness.take_turns(rounds, [
        (key, label, functools.partial(measure, per_round))
        for key, label, measure in rows])

    _harness.progress('SimpleProcessor latency')
    ours = z3c_latency(samples)
    theirs = None
    if with_huey:
        _harness.progress('Huey latency')
        theirs = huey_latency(samples)
    in_worker = None
    if not arguments.no_worker:
        _harness.progress('worker process latency')
        in_worker = worker_latency(min(samples, WORKER_SAMPLES),
                                   WORKER_WAIT)
    profiled = None
    if arguments.profile:
        _harness.progress('SimpleProcessor under cProfile')
        profiled = process(SimpleProcessor, jobs, profile=True)

    print_header(jobs, rounds, samples, run,
                 TMPDIR or tempfile.gettempdir())
    met = print_throughput(jobs, results)
    met = print_latency(ours, theirs, in_worker, WORKER_WAIT) and met
    print(NOTES)
    if profiled is not None:
        print('(2) under cProfile: %.0f jobs/s; the worker thread:'
              % profiled.rate)
        print_profile(profiled.profile)
    return run.end(met, arguments)


if __name__ == '__main__':
    sys.exit(main())
