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
"""What the benchmark scripts share: their common options and exit status,
progress and header lines, rows that take turns, temporary directories,
real ZEO servers and worker processes, and names for conflicted objects.

The scripts run as ``python benchmarks/bench_X.py``, which puts this
directory on ``sys.path``: they import this module as ``_harness``.  It
is no part of the package.  ``z3c.taskqueue.testing`` is imported only
where a server or a worker is started, because importing it registers
its test tasks.
"""
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

import persistent

from z3c.taskqueue.model.service import TaskService


# What a worker process logs once it runs, and as it stops.
READY = re.compile(r'Worker \S+: \d+ threads? on .*, tasks ')
STOPPED = re.compile(r'Worker \S+ stopped: (\d+) jobs completed,'
                     r' (\d+) failed, (\d+) conflicts')

MISSED_GOAL = 'exit with status 0 even when a goal is missed'


def echo(input):
    """A task's function that returns its input."""
    return input


# Options and exit status

def add_quick(parser, help):
    parser.add_argument('--quick', action='store_true', help=help)


def add_tmpdir(parser, help):
    parser.add_argument('--tmpdir', metavar='DIRECTORY', help=help)


def add_no_fail(parser, help=MISSED_GOAL):
    parser.add_argument('--no-fail', action='store_true', help=help)


def exit_status(met, arguments):
    """1 when a goal was missed, unless --no-fail; else 0."""
    return 0 if met or arguments.no_fail else 1


# Printing

def progress(message):
    print('...', message, file=sys.stderr, flush=True)


def versions(*names):
    """``name version, ...`` of the distributions that are installed."""
    found = []
    for name in names:
        try:
            found.append('%s %s' % (name, importlib.metadata.version(name)))
        except importlib.metadata.PackageNotFoundError:
            pass
    return ', '.join(found)


def python():
    return 'Python %s (%s)' % (platform.python_version(),
                               platform.python_implementation())


def machine():
    return '%s %s, %d CPUs' % (platform.system(), platform.machine(),
                               os.cpu_count())


def load_average():
    try:
        return '%.2f' % os.getloadavg()[0]
    except OSError:
        return 'unknown'


def verdict(met):
    return 'ok' if met else 'MISS'


def print_row(form, *cells):
    print((form % cells).rstrip())


def print_wrapped(paragraphs):
    for paragraph in paragraphs:
        print(textwrap.fill(paragraph, 79, break_on_hyphens=False))


class Run:
    """When a benchmark's run started, the load then, and its clock."""

    def __init__(self):
        self.started_at = datetime.datetime.now(datetime.timezone.utc)
        self.load = load_average()
        self.clock = time.perf_counter()

    @property
    def started(self):
        return self.started_at.strftime('%Y-%m-%d %H:%M UTC')

    def loads(self):
        return '1-minute load average %s at the start, %s at the end' % (
            self.load, load_average())

    def seconds(self):
        return time.perf_counter() - self.clock

    def end(self, met, arguments, goals=True):
        """Print how long the run took and, with ``goals``, whether its
        goals were ``met``; return the exit status (see exit_status)."""
        print('Whole run: %.0f s.%s' % (
            self.seconds(),
            ' Goals %s.' % ('met' if met else 'MISSED') if goals else ''))
        return exit_status(met, arguments)


# Rows that take turns

class Result:
    """What a row measured in one round, or in all its rounds: ``a + b``
    adds up the attributes named in ``SUMMED`` (None where either is
    None) and leaves the others None."""

    SUMMED = ('jobs', 'seconds')

    def __add__(self, other):
        total = type(self).__new__(type(self))
        total.__dict__.update(dict.fromkeys(vars(self)))
        for name in self.SUMMED:
            a, b = getattr(self, name), getattr(other, name)
            setattr(total, name, None if a is None or b is None else a + b)
        return total

    @property
    def rate(self):
        return self.jobs / self.seconds


def take_turns(rounds, rows):
    """Measure ``rows``, ``(key, label, measure)`` each, round by round,
    so that what else the machine does meanwhile touches them alike;
    return ``{key: the sum of what measure() returned}``."""
    results = {}
    for number in range(1, rounds + 1):
        for key, label, measure in rows:
            progress('round %d of %d: %s' % (number, rounds, label))
            result = measure()
            results[key] = results[key] + result if key in results \
                else result
    return results


# Files, processes and servers

def temporary_directory(kind, tmpdir=None):
    return tempfile.TemporaryDirectory(dir=tmpdir, prefix='bench-%s-' % kind)


def read(path):
    """The text of the file ``path``; '' if there is none."""
    try:
        with open(path, errors='replace') as f:
            return f.read()
    except OSError:
        return ''


def tail(path, size=3000):
    return read(path)[-size:]


def wait_until(condition, timeout, pause, failure, processes=()):
    """Call ``condition()`` every ``pause`` seconds until it is true;
    raise RuntimeError(failure()) once one of ``processes`` has exited,
    or ``timeout`` seconds have passed."""
    deadline = time.monotonic() + timeout
    while not condition():
        if (any(process.poll() is not None for process in processes)
                or time.monotonic() > deadline):
            raise RuntimeError(failure())
        time.sleep(pause)


def wait_for_line(pattern, processes, logs, timeout=60, pause=0.05):
    """Wait until each of the files ``logs`` has a line that ``pattern``
    finds, while ``processes`` run."""
    wait_until(
        lambda: all(pattern.search(read(log)) for log in logs),
        timeout, pause, lambda: 'no line %r in %s:\n%s' % (
            pattern.pattern, ', '.join(logs), tails(logs)),
        processes)


def tails(logs, size=2000):
    return '\n'.join('--- %s\n%s' % (log, tail(log, size)) for log in logs)


def stop_processes(processes, timeout=60):
    """Send SIGTERM to each of ``processes`` that runs; kill each that has
    not exited ``timeout`` seconds later."""
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def stopped_counts(log):
    """The jobs completed, the jobs failed and the conflicts a worker
    logged in ``log`` as it stopped; None if it did not."""
    found = STOPPED.search(read(log))
    return None if found is None else tuple(map(int, found.groups()))


def new_service(root, name='tasks'):
    """Store a new task service at ``root[name]``, named so; return it.
    """
    root[name] = service = TaskService()
    service.__name__ = name
    return service


class Resource:
    """A context manager that calls ``start()`` on entering and
    ``close()`` on leaving, and when ``start()`` fails: ``close()``
    undoes whatever part of ``start()`` has run."""

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc_info):
        self.close()


class Directory(Resource):
    """A temporary directory, ``bench-<kind>-...`` in ``tmpdir`` (or in
    the system's)."""

    tmp = None

    def __init__(self, kind, tmpdir=None):
        self.kind = kind
        self.tmpdir = tmpdir

    def start(self):
        self.tmp = temporary_directory(self.kind, self.tmpdir)
        self.directory = self.tmp.name

    def close(self):
        if self.tmp is not None:
            self.tmp.cleanup()


class ZEOServer(Directory):
    """A real ZEO server (runzeo) on a FileStorage ``Data.fs`` in a
    temporary directory; its output goes to ``server.log`` there (the
    open file ``log``)."""

    log = server = None

    def start(self):
        from z3c.taskqueue import testing
        super().start()
        self.log = open(os.path.join(self.directory, 'server.log'), 'w')
        self.server = testing.ZEOServer(
            os.path.join(self.directory, 'Data.fs'), log=self.log)
        self.server.start()

    def close(self):
        try:
            if self.server is not None:
                self.server.stop()
        finally:
            if self.log is not None:
                self.log.close()
            super().close()

    @property
    def addr(self):
        return self.server.addr

    @property
    def uri(self):
        return 'zeo://%s:%d' % self.addr


class Workers(Resource):
    """``count`` ``z3c-taskqueue worker`` processes on ``uri``, one
    thread each, each logging to ``worker-N.log`` in ``directory``;
    ``options`` go to ``z3c.taskqueue.testing.startWorker``."""

    def __init__(self, uri, directory, count, **options):
        self.uri = uri
        self.options = options
        self.logs = [os.path.join(directory, 'worker-%d.log' % number)
                     for number in range(count)]
        self.processes = []

    def start(self):
        from z3c.taskqueue import testing
        for path in self.logs:
            with open(path, 'w') as log:
                self.processes.append(testing.startWorker(
                    self.uri, threads=1, log=log, **self.options))

    def close(self):
        stop_processes(self.processes)

    @property
    def pids(self):
        return [process.pid for process in self.processes]

    def wait_until_ready(self, timeout=60, pause=0.05):
        """Wait until each worker has logged that it runs."""
        wait_for_line(READY, self.processes, self.logs, timeout, pause)

    def tails(self):
        return tails(self.logs)


# Names of conflicted objects

class ObjectNames(dict):
    """Names of persistent objects by oid, to say which objects conflict:
    a task service's indexes by the attribute that holds them, a BTree's
    parts (the tree, an inner node, a bucket), and whatever else is
    added.  The first name given to an object stays."""

    def add(self, label, obj, values=True):
        """Name ``obj``; if it is a BTree or a TreeSet, its parts too, and
        with ``values`` the persistent objects among its values
        (``label[]``)."""
        if obj._p_oid is None or obj._p_oid in self:
            return
        if not _is_tree(obj):
            self[obj._p_oid] = label
            return
        for node, part in _nodes(obj):
            if node._p_oid is not None:
                self.setdefault(node._p_oid, '%s (%s)' % (label, part))
        if values and type(obj).__name__[1:2] not in ('I', 'L'):
            for value in obj.values():
                for item in _persistent(value):
                    self.add(label + '[]', item)

    def add_service(self, service):
        """Name the indexes of a task service: ``jobs``, each attribute
        that holds a persistent object, and the persistent objects among
        that object's attributes (``attribute.name``)."""
        self.add('jobs', service.jobs, values=False)
        for attr, index in sorted(vars(service).items()):
            if attr == 'jobs' or not isinstance(index,
                                                persistent.Persistent):
                continue
            self.add(attr, index)
            index._p_activate()
            for sub, value in sorted(vars(index).items()):
                for item in _persistent(value):
                    self.add('%s.%s' % (attr, sub), item,
                             values=(attr, sub) != ('_claims', '_byJob'))


def _is_tree(obj):
    return type(obj).__name__.endswith(('BTree', 'TreeSet'))


def _nodes(tree):
    """Yield ``(node, part)`` of a BTree or TreeSet: the tree, its inner
    nodes and its buckets."""
    stack = [(tree, 'tree')]
    while stack:
        node, part = stack.pop()
        yield node, part
        if not _is_tree(node):
            continue
        node._p_activate()
        state = node.__getstate__()
        if state is None or len(state) != 2:
            continue        # empty, or one bucket stored in the tree
        for child in state[0][0::2]:
            stack.append((child, 'inner node' if _is_tree(child)
                          else 'bucket'))


def _persistent(value):
    """Yield the persistent objects in ``value``, a persistent object or
    a tuple, list or dict of them."""
    if isinstance(value, persistent.Persistent):
        yield value
    elif isinstance(value, (tuple, list)):
        for item in value:
            yield from _persistent(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _persistent(item)
