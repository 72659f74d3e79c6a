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
"""Helpers for tests: tasks that record their effects, servers, workers.

Importing this module registers the tasks ``record``, ``record-shared``,
``noop``, ``noop-shared``, ``exit``, ``pause``, ``hang`` and ``after``,
so that worker
processes can run them with ``z3c-taskqueue worker ... --import
z3c.taskqueue.testing``.
"""
import os
import socket
import subprocess
import sys
import time

import zope.component
import zope.interface
from BTrees.OOBTree import OOBTree

from z3c.taskqueue import interfaces
from z3c.taskqueue.commands.command import pythonCommand
from z3c.taskqueue.commands.command import workerCommand
from z3c.taskqueue.model.retry import RetryPolicy


#: Where ``record`` counts its runs: a key of the database root.
EFFECTS = 'z3c.taskqueue.testing.effects'


def effects(root):
    """Return the BTree in which ``record`` counts each job's runs."""
    if EFFECTS not in root:
        root[EFFECTS] = OOBTree()
    return root[EFFECTS]


@zope.interface.implementer(interfaces.ITask)
class RecordTask:
    """Counts its committed runs of each job next to the service.

    The count is written in the job's own transaction, so it is a
    committed side effect: exactly-once processing leaves 1 for each job.
    The input, if any, is a number of seconds to sleep first.
    """

    inputSchema = outputSchema = None
    # Many workers writing one BTree conflict now and then, and the fault
    # tests kill workers again and again: a job must survive both.
    retryPolicy = RetryPolicy(maxAttempts=100, conflictRetries=100)

    def __call__(self, service, jobid, input):
        if input:
            time.sleep(input)
        done = service._p_jar.root()[EFFECTS]
        key = (jobid, _instant(service, jobid))
        done[key] = done.get(key, 0) + 1
        return os.getpid()


@zope.interface.implementer(interfaces.ITask)
class SharedRecordTask(RecordTask):
    """``record``, batchable: its jobs share commits (``ITask.batchable``).
    """

    batchable = True


def _instant(service, jobid):
    scheduled = getattr(service.jobs[jobid], 'scheduledFor', None)
    return None if scheduled is None else scheduled.timestamp()


@zope.interface.implementer(interfaces.ITask)
class NoopTask:
    """Does nothing, after sleeping ``input`` seconds if given."""

    inputSchema = outputSchema = retryPolicy = None

    def __call__(self, service, jobid, input):
        if input:
            time.sleep(input)


@zope.interface.implementer(interfaces.ITask)
class SharedNoopTask(NoopTask):
    """``noop``, batchable: its jobs share commits."""

    batchable = True


@zope.interface.implementer(interfaces.ITask)
class ExitTask:
    """Calls ``sys.exit(input)``, as a library such as argparse may."""

    inputSchema = outputSchema = retryPolicy = None

    def __call__(self, service, jobid, input):
        sys.exit(input)


@zope.interface.implementer(interfaces.ITask)
class PauseTask(RecordTask):
    """Waits while the file named by ``input`` exists, then records its
    run like ``record``: a job that runs until a test lets it end.  It
    creates the file ``input + '.started'`` when it starts."""

    def __call__(self, service, jobid, input):
        open(input + '.started', 'w').close()
        deadline = time.time() + 300
        while os.path.exists(input) and time.time() < deadline:
            time.sleep(0.02)
        return super().__call__(service, jobid, None)


@zope.interface.implementer(interfaces.ITask)
class HangTask:
    """Sleeps ``input`` seconds in one C call (``time.sleep``), which no
    ``JobTimeout`` interrupts: a job only a process pool can end."""

    inputSchema = outputSchema = retryPolicy = None

    def __call__(self, service, jobid, input):
        time.sleep(input)
        return 'woke up'


@zope.interface.implementer(interfaces.ITask)
class AfterTask(RecordTask):
    """``record``, after checking that every job its job was added after
    has completed: a job that runs too early fails."""

    def __call__(self, service, jobid, input):
        for other in service.jobs[jobid].after:
            status = service.getStatus(other)
            if status != interfaces.COMPLETED:
                raise interfaces.TaskError(
                    'job %r ran while job %r it waits for is %s'
                    % (jobid, other, status))
        return super().__call__(service, jobid, input)


def registerTasks():
    zope.component.provideUtility(RecordTask(), name='record')
    zope.component.provideUtility(SharedRecordTask(), name='record-shared')
    zope.component.provideUtility(NoopTask(), name='noop')
    zope.component.provideUtility(SharedNoopTask(), name='noop-shared')
    zope.component.provideUtility(ExitTask(), name='exit')
    zope.component.provideUtility(PauseTask(), name='pause')
    zope.component.provideUtility(HangTask(), name='hang')
    zope.component.provideUtility(AfterTask(), name='after')


registerTasks()


def startWorker(uri, service='tasks', threads=1, wait=0.1, lease=60.0,
                imports=('z3c.taskqueue.testing',), log=None, extra=(),
                debug=False):
    """Start a worker process; return its ``subprocess.Popen``.

    With ``debug``, it logs at DEBUG level too (``--debug``).
    """
    command = workerCommand() + ['--debug'] * bool(debug) + [
        'worker', uri, '--service', service, '--threads', str(threads),
        '--wait', str(wait), '--lease', str(lease)]
    for module in imports:
        command += ['--import', module]
    command += list(extra)
    return subprocess.Popen(
        command, stdout=log or subprocess.DEVNULL,
        stderr=subprocess.STDOUT if log else subprocess.DEVNULL)


def freePort():
    """Return a TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class ZEOServer:
    """A real ZEO server (``runzeo``) on 127.0.0.1, in a process of its own.

    Unlike ``ZEO.server()``, it can be stopped at once and started again
    on the same port, as a server restart in production would.
    """

    def __init__(self, path, port=None, log=None):
        self.path = path
        self.port = port or freePort()
        self.log = log
        self.process = None

    @property
    def addr(self):
        return ('127.0.0.1', self.port)

    def start(self, timeout=30):
        script = os.path.join(os.path.dirname(sys.executable), 'runzeo')
        command = [script] if os.path.exists(script) else pythonCommand(
            'ZEO.runzeo')
        self.process = subprocess.Popen(
            command + ['-a', '%s:%d' % self.addr, '-f', self.path],
            stdout=self.log or subprocess.DEVNULL,
            stderr=subprocess.STDOUT if self.log else subprocess.DEVNULL)
        deadline = time.time() + timeout
        while True:
            try:
                socket.create_connection(self.addr, 1).close()
                return self
            except OSError:
                if self.process.poll() is not None or time.time() > deadline:
                    raise RuntimeError('the ZEO server did not start')
                time.sleep(0.05)

    def stop(self, timeout=30):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
