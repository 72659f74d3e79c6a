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
"""The heartbeat: a processor's record of itself (see ``workers``), kept
from its lease keeper's thread.

The lease keeper runs as long as the processor does, whatever its jobs
do: a job that runs for an hour does not make its worker look gone.
Each beat is a commit of its own, of the worker's record only, made when
the processor starts and then at most every ``heartbeat`` seconds; the
record is removed when the processor stops.  A beat that fails (a
conflict, a database that does not answer) is tried again a little
later; it never stops the lease keeper, and says so only at DEBUG.
"""
import logging
import os
import random
import socket
import time

import zope.component
from ZODB.POSException import ConflictError

from z3c.taskqueue.model import _migration
from z3c.taskqueue.model._outcome import UNAVAILABLE
from z3c.taskqueue.model._outcome import message
from z3c.taskqueue.model._servicepath import findService
from z3c.taskqueue.model.workers import INTERVAL


# What the old package never logged (see docs/operations.rst).
detail = logging.getLogger('z3c_taskqueue')

#: How soon a beat that failed is tried again, at most (seconds).
RETRY = 5.0

#: How often a worker removes the records of long gone workers (seconds).
PRUNE_INTERVAL = 3600.0

#: How often the record of a stopping worker is tried to be removed.
STOP_TRIES = 3


def workerName(processor):
    """Name the worker that ``processor`` is: its host, its process and
    its own name.  Its threads' leases are owned by this name, or by
    this name and a dot and a number (see ``_runner.owner()``)."""
    return '%s:%d:%s' % (socket.gethostname(), os.getpid(), processor.name)


class Heartbeat:
    """Keeps the record of ``processor`` in its service; used by one
    thread, with that thread's connection."""

    def __init__(self, processor):
        self.processor = processor
        self.name = workerName(processor)
        self.interval = getattr(processor, 'heartbeat', INTERVAL)
        self.started = processor.clock()
        self.due = 0            # time.monotonic() of the next beat
        self.nextPrune = 0      # processor.clock() of the next pruning
        self.written = False

    @property
    def enabled(self):
        return bool(self.interval)

    def info(self, service):
        p = self.processor
        return {
            'started': self.started, 'interval': self.interval,
            'host': socket.gethostname(), 'pid': os.getpid(),
            'processor': p.name,
            'threads': getattr(p, 'maxThreads', 1),
            'queues': p.queues,
            'tasks': sorted(name for name, task in
                            zope.component.getUtilitiesFor(
                                service.taskInterface)),
            'completed': p.processed, 'failed': p.failed,
        }

    def beat(self, connection, tm):
        """Write the record, in a commit of its own, if a beat is due."""
        now = time.monotonic()
        if not self.enabled or now < self.due:
            return
        p = self.processor
        try:
            tm.begin()
            service = findService(connection.root(), p.servicePath)
            if service._layout != _migration.LAYOUT:
                # The worker migrates it first, in a commit of its own.
                tm.abort()
                self.due = now + 1
                return
            stamp = p.clock()
            prune = stamp >= self.nextPrune
            service._workerBeat(self.name, stamp, self.info(service),
                                prune=prune)
            tm.get().note('z3c.taskqueue: heartbeat of %s' % self.name)
            tm.commit()
        except ConflictError:
            tm.abort()
            self.due = now + random.uniform(0.5, 1) * RETRY
            return
        except Exception as error:
            tm.abort()
            if not isinstance(error, UNAVAILABLE):
                p.resetCache(connection)
            detail.debug('Processor %s: no heartbeat: %s', p.name,
                         message(error))
            self.due = now + min(self.interval, RETRY)
            return
        self.written = True
        self.due = now + self.interval
        if prune:
            self.nextPrune = stamp + PRUNE_INTERVAL

    def stop(self, connection, tm):
        """Remove the record: the worker stopped."""
        if not self.written:
            return
        p = self.processor
        for attempt in range(STOP_TRIES):
            try:
                tm.begin()
                findService(connection.root(),
                            p.servicePath)._workerStopped(self.name)
                tm.get().note('z3c.taskqueue: %s stopped' % self.name)
                tm.commit()
                self.written = False
                return
            except ConflictError:
                tm.abort()
            except Exception as error:
                tm.abort()
                detail.debug('Processor %s: its record stays: %s', p.name,
                             message(error))
                return
