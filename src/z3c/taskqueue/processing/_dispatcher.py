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
"""The dispatcher: claims jobs for a ``MultiProcessor``'s runner threads.

One thread claims, for every runner that is free, a batch of its own
(with a lease of its own), all in one commit, and hands the batches out:
the runners of one process never race each other for a job, and each
lease is run by one runner, in order, so that a lost process is charged
only for the jobs its runners were running.
"""
import logging
import queue
import threading

from z3c.taskqueue.processing._committing import Abandoned
from z3c.taskqueue.processing._leasekeeper import SYNC_INTERVAL
from z3c.taskqueue.processing._shared import SHARED
from z3c.taskqueue.processing._shared import runShared
from z3c.taskqueue.processing._worker import Worker


log = logging.getLogger('z3c.taskqueue')

#: How long the dispatcher waits at most for its runners to be ready
#: before it claims the first jobs (seconds).
STARTUP_WAIT = 5.0


class Dispatcher(Worker):
    """Claims batches for the free ``runners`` and hands them out."""

    def __init__(self, processor, runners):
        super().__init__(processor)
        self.runners = runners
        self.free = []
        self.freed = threading.Condition()
        self.starting = True
        for runner in runners:
            runner.inbox = queue.Queue()

    def ready(self, runner):
        """Called by ``runner`` when it is free for a batch."""
        with self.freed:
            self.free.append(runner)
            self.freed.notify_all()

    def step(self):
        with self.unlocked():
            with self.freed:
                if self.starting:
                    # The first batches go to all runners at once.
                    self.starting = False
                    self.freed.wait_for(
                        lambda: len(self.free) == len(self.runners),
                        STARTUP_WAIT)
                if not self.free:
                    # Woken by the next runner that is free.
                    self.freed.wait(max(self.processor.waitTime, 0.05))
                runners, self.free = self.free, []
        if not runners:
            # All busy: nothing to claim, but a view to move on.
            sync(self)
            return None
        claimed = []
        try:
            claimed = self.claim(runners) or []
        finally:
            busy = set()
            for runner, lease, ids in claimed:
                runner.inbox.put((lease, ids))
                busy.add(runner)
            with self.freed:
                self.free[:0] = [r for r in runners if r not in busy]
        return bool(claimed)

    def stopRunners(self):
        for runner in self.runners:
            runner.inbox.put(None)


def nextBatch(runner):
    """Wait for the next batch the dispatcher hands ``runner``.

    Meanwhile the runner's connection begins anew every
    ``SYNC_INTERVAL`` seconds: until it does, its storage keeps the oid
    of every object changed in the database.
    """
    while True:
        try:
            return runner.inbox.get(timeout=SYNC_INTERVAL)
        except queue.Empty:
            with runner.lock:
                if not runner.abandoned:
                    sync(runner)


def sync(worker):
    """Begin a new transaction of ``worker``'s connection, and end it:
    ZODB forgets what changed since its last one."""
    try:
        worker.reconnect()
        worker.tm.begin()
        worker.tm.abort()
    except Exception as error:
        # Its next batch says what is wrong, and waits it out.
        log.debug('Processor %s: %s', worker.processor.name, error)


def serve(runner, dispatcher):
    """A runner thread: run each batch the dispatcher hands over."""
    p = runner.processor
    try:
        with runner.lock:
            runner.open()
        while True:
            dispatcher.ready(runner)
            batch = nextBatch(runner)
            if batch is None:
                return
            with runner.lock:
                if runner.abandoned:
                    return
                runner.reconnect()
                try:
                    lease, ids = batch
                    if ids is SHARED:
                        runShared(runner)
                    else:
                        runner.runBatch(lease, ids)
                except Abandoned:
                    raise
                except BaseException as error:
                    # The database failed to load a job, say: the batch
                    # was given back; say so, and wait a little.
                    runner.tm.abort()
                    runner.backOff(runner.trouble.report('run jobs', error))
    except Abandoned:
        return
    finally:
        with runner.lock:
            runner.close()
        if not p.stopping.is_set():
            log.critical('Processor %s: a runner thread ended', p.name)
