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
"""The process pool: a supervisor that runs worker processes.

``z3c-taskqueue worker ... --processes N`` starts a supervisor, which
spawns N worker processes (``z3c-taskqueue worker`` without
``--processes``), each with its own connection, and:

- restarts any that dies, waiting longer after each quick death;
- kills a worker whose job runs past its hard limit (the job's timeout
  plus ``--kill-grace``), which the ``JobTimeout`` of its thread did not
  end (a C call that never returns, say).  That job ends in ``error``
  "killed after S s", charged one attempt; the other jobs the worker
  had claimed are given back at once, not after their lease expired;
- on SIGTERM or SIGINT, stops the workers (each finishes its running
  jobs within ``--stop-timeout``), kills those that outlive it, and
  gives back their jobs.

A worker whose supervisor died (SIGKILL) stops by itself, and at once
if the database went with the supervisor (``_workercommand.work``).

Workers report each job with a time limit that starts and ends, one
line each on a pipe (see ``_timelimit.setReporter``).  A ``file://``
database, which only one process may open, is served to the workers by
a ZEO server in the supervisor (``ZEO.server()``).
"""
import logging
import os
import selectors
import signal
import socket
import subprocess
import threading
import time

from ZODB.POSException import ConflictError

from z3c.taskqueue.database import _uri
from z3c.taskqueue.model import _servicepath
from z3c.taskqueue.model import _timelimit
from z3c.taskqueue.model._outcome import message
from z3c.taskqueue.model.retry import jitteredBackoff


log = logging.getLogger('z3c.taskqueue')
# What the old package never logged (see docs/operations.rst).
detail = logging.getLogger('z3c_taskqueue')

#: The longest wait before a worker that died is started again (seconds).
MAX_RESTART_DELAY = 30

#: A worker that ran this long before it died is restarted at once.
HEALTHY = 60


class Child:
    """One worker process of the pool."""

    def __init__(self, number):
        self.number = number
        self.process = None
        self.reader = None
        self.buffer = b''
        self.running = {}       # job id: (started, limit)
        self.killed = {}        # job id: error, for the recovery
        self.started = None
        self.restartAt = 0
        self.deaths = 0

    @property
    def alive(self):
        return self.process is not None and self.process.poll() is None

    @property
    def owner(self):
        """The prefix of the owners of this worker's leases."""
        return '%s:%d:' % (socket.gethostname(), self.process.pid)


class ProcessPool:
    """Runs ``processes`` workers, each started with ``command`` plus a
    ``--report-fd``; ``uri`` and ``path`` name the database and service
    it recovers their jobs in."""

    def __init__(self, command, processes, uri, path, stopTimeout,
                 killGrace, exitWhenDone=False):
        self.command = command
        self.children = [Child(number + 1) for number in range(processes)]
        self.uri = uri
        self.path = path
        self.stopTimeout = stopTimeout
        self.killGrace = killGrace
        self.exitWhenDone = exitWhenDone
        self.selector = selectors.DefaultSelector()
        self.stopping = threading.Event()
        self.db = None

    def stop(self, signum=None, frame=None):
        if signum is not None:
            detail.info('Pool: %s received, stopping the workers',
                        signal.Signals(signum).name)
        self.stopping.set()

    def run(self):
        """Run the workers until asked to stop (or, with ``exitWhenDone``,
        until they all ended); return the exit status."""
        previous = {signum: signal.signal(signum, self.stop)
                    for signum in (signal.SIGTERM, signal.SIGINT)}
        try:
            for child in self.children:
                self.start(child)
            while not self.stopping.is_set():
                self.watch(0.2)
                if self.exitWhenDone and not any(
                        child.alive or child.restartAt
                        for child in self.children):
                    detail.info('Pool: every worker is done')
                    break
            self.drain()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            if self.db is not None:
                self.db.close()
        return 0

    def start(self, child):
        read, write = os.pipe()
        try:
            child.process = subprocess.Popen(
                self.command + ['--report-fd', str(write)],
                pass_fds=(write,))
        finally:
            os.close(write)
        os.set_blocking(read, False)
        child.reader = read
        child.buffer = b''
        child.running = {}
        child.killed = {}
        child.started = time.monotonic()
        child.restartAt = 0
        self.selector.register(read, selectors.EVENT_READ, child)
        detail.info('Pool: started worker %d (pid %d)', child.number,
                    child.process.pid)

    def watch(self, timeout):
        """Read the workers' reports, kill those past their limits, and
        recover and restart those that ended."""
        for key, unused in self.selector.select(timeout):
            self.read(key.data)
        now = time.monotonic()
        for child in self.children:
            if child.alive:
                self.enforce(child, now)
            elif child.process is not None:
                self.ended(child, now)
            elif child.restartAt and now >= child.restartAt \
                    and not self.stopping.is_set():
                self.start(child)

    def read(self, child):
        try:
            data = os.read(child.reader, 65536)
        except BlockingIOError:
            return
        child.buffer += data
        *lines, child.buffer = child.buffer.split(b'\n')
        for line in lines:
            try:
                event, jobid, seconds = line.decode('ascii').split()
                jobid, seconds = int(jobid), float(seconds)
            except ValueError:
                log.warning('Pool: worker %d reported %r', child.number,
                            line)
                continue
            if event == 'start':
                child.running[jobid] = (time.monotonic(), seconds)
            else:
                child.running.pop(jobid, None)

    def enforce(self, child, now):
        for jobid, (started, limit) in list(child.running.items()):
            ran = now - started
            if ran > limit + self.killGrace and jobid not in child.killed:
                log.error('Pool: job %d of worker %d (pid %d) ran %.0f s,'
                          ' past its limit of %g s and the grace of %g s:'
                          ' killing the worker', jobid, child.number,
                          child.process.pid, ran, limit, self.killGrace)
                child.killed[jobid] = 'killed after %.0f s' % ran
                child.process.kill()

    def ended(self, child, now):
        """Recover the jobs of ``child``, which ended; restart it later
        unless the pool stops."""
        status = child.process.wait()
        self.read(child)
        self.selector.unregister(child.reader)
        os.close(child.reader)
        if status == 0 and (self.exitWhenDone or self.stopping.is_set()):
            detail.info('Pool: worker %d (pid %d) is done', child.number,
                        child.process.pid)
            child.process = None
            return
        reason = ('the worker process %d was killed after its job ran past'
                  ' its limit' % child.process.pid if child.killed else
                  'the worker process %d ended with status %d'
                  % (child.process.pid, status))
        self.recover(child, reason)
        if now - child.started >= HEALTHY:
            child.deaths = 0
        delay = 0 if child.killed else min(2 ** child.deaths,
                                           MAX_RESTART_DELAY)
        child.deaths += 1
        log.warning('Pool: worker %d (pid %d) ended with status %d;'
                    ' starting it again in %d s', child.number,
                    child.process.pid, status, delay)
        child.process = None
        child.restartAt = now + delay if not self.stopping.is_set() else 0

    def recover(self, child, reason):
        """Give back the jobs of ``child``'s leases at once; end those it
        was killed for in ``error``.

        The database is opened for it and closed after: between two
        recoveries, which are rare, a connection waiting in the
        database's pool would keep the id of every object the workers
        change (its invalidations), for as long as the pool runs.
        """
        try:
            self.recoverIn(child, reason)
        finally:
            if self.db is not None:
                self.db.close()
                self.db = None

    def recoverIn(self, child, reason):
        for attempt in range(1, 11):
            try:
                if self.db is None:
                    self.db = _uri.openDatabase(self.uri)
                connection = self.db.open()
                try:
                    tm = connection.transaction_manager
                    tm.begin()
                    service = _servicepath.findService(connection.root(),
                                                       self.path)
                    ids = service.recoverProcess(child.owner, reason,
                                                 child.killed)
                    tm.commit()
                finally:
                    connection.transaction_manager.abort()
                    connection.close()
                if ids:
                    log.warning('Pool: gave back the jobs %s of worker %d',
                                ', '.join(map(str, ids)), child.number)
                return
            except ConflictError:
                time.sleep(jitteredBackoff(attempt, 0.01, 1.0))
            except Exception as error:
                log.error('Pool: could not give back the jobs of worker %d:'
                          ' %s; their leases will expire', child.number,
                          message(error))
                return

    def drain(self):
        """Stop the workers: each gets the stop timeout to finish its
        jobs; those still running then are killed, their jobs given
        back."""
        for child in self.children:
            if child.alive:
                child.process.terminate()
        deadline = time.monotonic() + self.stopTimeout + 5
        while any(child.alive for child in self.children):
            if time.monotonic() >= deadline:
                for child in self.children:
                    if child.alive:
                        log.warning('Pool: worker %d (pid %d) did not stop'
                                    ' in time: killing it', child.number,
                                    child.process.pid)
                        child.process.kill()
            self.watch(0.1)
        for child in self.children:
            if child.process is not None:
                self.ended(child, time.monotonic())


def reporter(fd):
    """Return a ``_timelimit`` reporter that writes to the pipe ``fd``."""
    lock = threading.Lock()

    def report(event, jobid, seconds):
        with lock:
            os.write(fd, ('%s %d %r\n' % (event, jobid, seconds)).encode())
    return report


def installReporter(fd):
    _timelimit.setReporter(reporter(fd))
