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
"""Print a worker process's memory while it runs half a million jobs.

A worker runs for months: its memory must level off once its caches are
full, whatever number of jobs it has run.  This starts a real
``z3c-taskqueue worker`` on a ``file://`` database, as an operator runs
it (the worker serves the FileStorage to the other processes of the
machine, and uses it through that socket too), and reads the worker's
resident memory (VmRSS of ``/proc/PID/status``) at every tenth of the
jobs.  It exits with status 1 when the memory at the end is more than
10 % above what it was once the worker was warm.
"""
import argparse
import importlib
import os
import subprocess
import sys
import tempfile
import time

import transaction

from z3c.taskqueue.database import _sharing
from z3c.taskqueue import interfaces
from z3c.taskqueue.commands.command import workerCommand

import _harness


JOBS = 500_000
# The worker's connections (10,000 objects each, zodburi's default) and
# its ZEO client's cache fill during the first tens of thousands of jobs.
WARMUP = 50_000
STEPS = 10
LIMIT = 1.10
# Over the socket each job is a commit of its own, a round trip: two
# threads overlap them (about 650 jobs a second here, against 550 with
# one), which keeps the whole run within a quarter of an hour.
THREADS = 2

# The jobs are added (and committed) this many at a time.
ADD_BATCH = 5_000
# How often the benchmark looks how far the worker has got (seconds).
POLL = 0.5
# A worker that takes no job for this long is stuck (seconds).
STALL = 120
# The variable of the environment that fixes glibc's mmap threshold.
THRESHOLD = 'MALLOC_MMAP_THRESHOLD_'
# The tasks of z3c.taskqueue.testing: a no-op, claimed a batch at a
# time and committed one job a commit; and the same, batchable, whose
# jobs share commits.
TASKS = {False: 'noop', True: 'noop-shared'}

ROW = '%-6s %9s %8s %8s %9s %8s'


def rss(pid):
    """Return the resident memory of process ``pid``, in bytes."""
    with open('/proc/%d/status' % pid) as status:
        for line in status:
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) * 1024
    raise RuntimeError('process %d shows no VmRSS' % pid)


def addJobs(uri, task, count):
    """Create the service and add ``count`` jobs, before the worker
    starts, with the file opened in this process."""
    db = _sharing.openFile(uri, create=True)
    try:
        tm = transaction.TransactionManager()
        connection = db.open(transaction_manager=tm)
        service = _harness.new_service(connection.root())
        tm.commit()
        for first in range(0, count, ADD_BATCH):
            for number in range(first, min(count, first + ADD_BATCH)):
                service.add(task)
            tm.commit()
            connection.cacheMinimize()
        connection.close()
    finally:
        db.close()


class Worker:
    """A ``z3c-taskqueue worker`` process, and the database it serves,
    seen through its socket."""

    def __init__(self, uri, directory, threads):
        self.uri = uri
        self.logPath = os.path.join(directory, 'worker.log')
        self.log = open(self.logPath, 'w')
        self.process = subprocess.Popen(
            workerCommand() + [
                'worker', uri, '--service', 'tasks',
                '--import', 'z3c.taskqueue.testing',
                '--threads', str(threads)],
            stdout=self.log, stderr=subprocess.STDOUT)
        self.db = self.connection = None

    @property
    def pid(self):
        return self.process.pid

    def connect(self):
        """Wait until the worker serves the file; open it through its
        socket."""
        address = _sharing.socketPath(_sharing.filePath(self.uri))
        deadline = time.monotonic() + STALL
        while not _sharing.answers(address):
            self.checkAlive()
            if time.monotonic() > deadline:
                raise RuntimeError('the worker serves nothing at %s:\n%s'
                                   % (address, self.tail()))
            time.sleep(0.1)
        self.db = _sharing.openFile(self.uri)
        self.tm = transaction.TransactionManager()
        self.connection = self.db.open(transaction_manager=self.tm)

    def queued(self):
        """Return how many jobs wait in the queues (a cheap count)."""
        self.tm.begin()
        return sum(self.connection.root()['tasks'].countQueued().values())

    def waitUntilCompleted(self, jobs):
        """Wait until ``jobs`` jobs completed (each look costs a scan);
        return the number of jobs in each status."""
        deadline = time.monotonic() + STALL
        while True:
            self.checkAlive()
            self.tm.begin()
            counts = self.connection.root()['tasks'].countJobs()
            if (counts[interfaces.COMPLETED] >= jobs
                    or time.monotonic() > deadline):
                return counts
            time.sleep(1)

    def checkAlive(self):
        if self.process.poll() is not None:
            raise RuntimeError('the worker exited with status %s:\n%s'
                               % (self.process.returncode, self.tail()))

    def tail(self, lines=20):
        with open(self.logPath) as log:
            return ''.join(log.readlines()[-lines:])

    def stop(self):
        """Close our connection, stop the worker (SIGTERM) and return its
        exit status."""
        if self.connection is not None:
            self.tm.abort()
            self.connection.close()
            self.db.close()
            self.connection = None
        _harness.stop_processes([self.process])
        self.log.close()
        return self.process.returncode


class Sample:

    def __init__(self, label, done, seconds, memory):
        self.label = label
        self.done = done
        self.seconds = seconds
        self.rss = memory


def soak(worker, jobs):
    """Sample the worker's memory at the start and at every tenth of the
    jobs; return the samples."""
    started = time.monotonic()
    samples = [Sample('start', 0, 0.0, rss(worker.pid))]
    targets = [jobs * step // STEPS for step in range(1, STEPS + 1)]
    last, lastChange = 0, started
    while targets:
        time.sleep(POLL)
        worker.checkAlive()
        # Taken from the queue: claimed, and done but for the last
        # batch, which is nothing next to a tenth of the jobs.
        done = jobs - worker.queued()
        now = time.monotonic()
        if done != last:
            last, lastChange = done, now
        elif now - lastChange > STALL:
            raise RuntimeError('the worker took no job for %d s:\n%s'
                               % (STALL, worker.tail()))
        while targets and done >= targets[0]:
            step = len(samples) * 100 // STEPS
            samples.append(Sample('%d %%' % step, done, now - started,
                                  rss(worker.pid)))
            _harness.progress('%d %% of the jobs: %.0f MB' % (
                step, samples[-1].rss / 2 ** 20))
            targets.pop(0)
    return samples


def baselineOf(samples, warmup):
    """Return the first sample after ``warmup`` jobs, None if none."""
    for sample in samples[1:-1]:
        if sample.done >= warmup:
            return sample
    return None


def printTable(samples, baseline):
    print(ROW % ('jobs', 'done', 's', 'jobs/s', 'RSS MB', 'ratio'))
    previous = None
    for sample in samples:
        rate = ''
        if previous is not None and sample.seconds > previous.seconds:
            rate = '%.0f' % ((sample.done - previous.done)
                             / (sample.seconds - previous.seconds))
        ratio = '-'
        if baseline is not None and sample.done >= baseline.done:
            ratio = '%.3f' % (sample.rss / baseline.rss)
        label = sample.label + (' *' if sample is baseline else '')
        print(ROW % (label, format(sample.done, ','),
                     '%.0f' % sample.seconds, rate,
                     '%.1f' % (sample.rss / 2 ** 20), ratio))
        previous = sample


NOTES = """\
RSS: VmRSS of the worker process, in MB of 2**20 bytes.  ratio: the RSS
of the row over that of the first row after the warm-up (%(warmup)s
jobs), marked *.  jobs/s: in the tenth of the jobs that the row ends.
done counts the jobs taken from the queue (the worker may still be
running its last batch).
All the jobs are added before the worker starts, %(batch)s a commit,
so that the FileStorage's index of oids (in the worker's process, which
serves the file) holds them all from the start: jobs added while it ran
would grow that index by some bytes each, which is the database growing,
not the worker.  Finished jobs are kept, neither cleaned nor packed:
they grow the database on disk, and the worker holds no more of them
than its caches do.
glibc's malloc raises its mmap threshold each time a block it had
mapped is freed (up to 32 MB): later blocks that large (the table of
a connection cache's dict, which grows and shrinks with the ghosts it
holds, is megabytes) come from the heap, whose free space then grows
with the jobs (mallinfo2() counts it free, not in use).  Run with
MALLOC_MMAP_THRESHOLD_=131072 in the environment to fix the threshold;
the worker command now fixes it itself (z3c.taskqueue.processing._malloc).
"""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument(
        '--jobs', type=int, default=JOBS,
        help='jobs to run (default %s)' % format(JOBS, ','))
    parser.add_argument(
        '--threads', type=int, default=THREADS,
        help="the worker's --threads (default %d)" % THREADS)
    parser.add_argument(
        '--batchable', action='store_true',
        help='batchable no-op jobs, which share commits, rather than'
        ' jobs claimed in batches and committed one by one')
    parser.add_argument(
        '--warmup', type=int, default=WARMUP,
        help='jobs after which the worker counts as warm (default %s)'
        % format(WARMUP, ','))
    _harness.add_tmpdir(
        parser, 'put the database there, not in %s' % tempfile.gettempdir())
    _harness.add_no_fail(
        parser, 'exit with status 0 even when the memory grew too much')
    arguments = parser.parse_args(argv)
    if arguments.jobs < STEPS:
        parser.error('--jobs must be at least %d' % STEPS)
    jobs = arguments.jobs
    task = TASKS[arguments.batchable]
    # Registers the tasks here, as --import does in the worker.
    importlib.import_module('z3c.taskqueue.testing')
    run = _harness.Run()
    with _harness.temporary_directory('soak', arguments.tmpdir) as directory:
        path = os.path.join(directory, 'Data.fs')
        uri = 'file://' + path
        _harness.progress('adding %s %s jobs' % (format(jobs, ','), task))
        adding = time.perf_counter()
        addJobs(uri, task, jobs)
        adding = time.perf_counter() - adding
        _harness.progress('starting the worker')
        worker = Worker(uri, directory, arguments.threads)
        try:
            worker.connect()
            samples = soak(worker, jobs)
            _harness.progress('checking that every job completed')
            counts = worker.waitUntilCompleted(jobs)
        finally:
            status = worker.stop()
        size = os.path.getsize(path)
    if counts[interfaces.COMPLETED] != jobs:
        raise RuntimeError('%d jobs completed, not %d: %r'
                           % (counts[interfaces.COMPLETED], jobs, counts))
    if status != 0:
        raise RuntimeError('the worker exited with status %s' % status)

    print('z3c.taskqueue soak benchmark: the memory of a worker process'
          ' over %s no-op jobs' % format(jobs, ','))
    print('%s; %s;' % (_harness.python(), _harness.versions(
        'ZODB', 'ZEO', 'BTrees', 'persistent')))
    print('%s; run started %s; %s.' % (_harness.machine(), run.started,
                                       run.loads()))
    print("glibc's malloc: %s." % (
        'MALLOC_MMAP_THRESHOLD_=%s, fixed' % os.environ[THRESHOLD]
        if THRESHOLD in os.environ else 'fixed by the worker at 131072'
        ' (z3c.taskqueue.processing._malloc; see the notes)'))
    print('z3c-taskqueue worker file://.../Data.fs --threads %d, task %r'
          ' (%s); jobs added in %.0f s; the file ends at %.0f MB.'
          % (arguments.threads, task,
             'shared commits' if arguments.batchable
             else 'claimed in batches, a commit a job', adding,
             size / 2 ** 20))
    print()
    baseline = baselineOf(samples, arguments.warmup)
    printTable(samples, baseline)
    print()
    print(NOTES % {'warmup': format(arguments.warmup, ','),
                   'batch': format(ADD_BATCH, ',')})
    if baseline is None:
        print('Too few jobs to judge: the worker is warm after %s.'
              % format(arguments.warmup, ','))
        met = True
    else:
        ratio = samples[-1].rss / baseline.rss
        met = ratio <= LIMIT
        print('Memory at the end over memory once warm (%s): %.3f, goal'
              ' <= %.2f: %s' % (baseline.label, ratio, LIMIT,
                                _harness.verdict(met)))
    return run.end(met, arguments, goals=False)


if __name__ == '__main__':
    sys.exit(main())
