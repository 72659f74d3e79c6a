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
"""The lease keeper: renews the leases of a processor's running jobs."""
import logging
import threading

import transaction
from ZODB.POSException import ConflictError

from z3c.taskqueue.model import progress
from z3c.taskqueue.model._outcome import UNAVAILABLE
from z3c.taskqueue.model._servicepath import findService
from z3c.taskqueue.processing._heartbeat import Heartbeat


log = logging.getLogger('z3c.taskqueue')

#: The longest time the lease keeper's connection goes without beginning
#: a new transaction (seconds).  Until it does, its storage collects the
#: oid of every object that the workers change (ZODB's invalidations,
#: polled at the next transaction): an idle connection would keep them
#: all, and grow with every job.
SYNC_INTERVAL = 1.0


class LeaseKeeper:
    """Renews the leases of running jobs, coarsely, in a thread of its own.

    It writes only while jobs run longer than a third of the lease time,
    and the processor's heartbeat (see ``_heartbeat``): an idle processor
    writes nothing else.
    """

    def __init__(self, processor):
        self.processor = processor
        self.leases = {}
        self.lock = threading.Lock()
        self.thread = None
        self.trouble = processor.trouble

    def add(self, lease):
        with self.lock:
            self.leases[lease._p_oid] = lease.expires

    def remove(self, lease):
        with self.lock:
            self.leases.pop(lease._p_oid, None)

    def held(self):
        """Return the oids of the leases of the batches being run."""
        with self.lock:
            return list(self.leases)

    def start(self):
        self.thread = threading.Thread(
            target=self.run, name=self.processor.name + '.leases',
            daemon=True)
        self.thread.start()

    def run(self):
        p = self.processor
        tm = transaction.TransactionManager()
        generation, connection = p.connect(tm)
        heartbeat = Heartbeat(p)
        try:
            heartbeat.beat(connection, tm)
            while not p.stopping.wait(min(p.leaseTime / 6,
                                          SYNC_INTERVAL)):
                if generation != p.generation:
                    p.disconnect(connection, tm)
                    generation, connection = p.connect(tm)
                try:
                    # Only the workers' commits say that the storage works
                    # again: a renewal is small, and may fit a full disk.
                    self.renewDue(connection, tm)
                    progress.refresh(p.db)
                except Exception as error:
                    tm.abort()
                    if not isinstance(error, UNAVAILABLE):
                        # The cache may hold what a failed commit left.
                        p.resetCache(connection)
                    self.trouble.report('renew leases', error)
                heartbeat.beat(connection, tm)
        finally:
            heartbeat.stop(connection, tm)
            p.disconnect(connection, tm)

    def renewDue(self, connection, tm):
        p = self.processor
        now = p.clock()
        with self.lock:
            due = [oid for oid, expires in self.leases.items()
                   if expires - now < p.leaseTime * 2 / 3]
        tm.begin()
        if not due:
            tm.abort()      # no more than a new view, and what it drops
            return
        service = findService(connection.root(), p.servicePath)
        renewed = {}
        for oid in due:
            lease = connection.get(oid)
            service.renewLease(lease, p.leaseTime, now)
            renewed[oid] = lease.expires
        try:
            tm.commit()
        except ConflictError:
            tm.abort()
            return
        with self.lock:
            for oid, expires in renewed.items():
                if oid in self.leases:
                    self.leases[oid] = expires
