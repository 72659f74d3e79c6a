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
"""Worker records and heartbeats (``workers``, ``_heartbeat``), on a real
FileStorage: which writes merge, what an idle worker writes, and what
the service says of its workers."""
import os
import socket
import threading
import time
import unittest

import zope.component
import zope.component.testing
import zope.interface
from zope.testing.wait import wait

from z3c.taskqueue import interfaces
from z3c.taskqueue.tests._support import openConnection
from z3c.taskqueue.tests._support import openFileStorageDB


WAIT = 30


class WorkerRecordTests(unittest.TestCase):

    def _makeOne(self):
        from z3c.taskqueue.model.workers import Workers
        return Workers()

    def test_a_beat_makes_the_record_then_updates_it(self):
        workers = self._makeOne()
        first = workers.beat('h:1:p', 100.0, started=90.0, interval=30.0,
                             host='h', pid=1, processor='p', threads=4,
                             queues=['mail'], tasks=['a', 'b'])
        again = workers.beat('h:1:p', 130.0, completed=3, failed=1)
        self.assertIs(first, again)
        report = first.report(131.0)
        self.assertEqual(report, {
            'name': 'h:1:p', 'state': 'alive', 'host': 'h', 'pid': 1,
            'processor': 'p', 'threads': 4, 'queues': ['mail'],
            'tasks': ['a', 'b'], 'started': 90.0, 'last seen': 130.0,
            'interval': 30.0, 'completed': 3, 'failed': 1})

    def test_a_worker_that_missed_three_beats_is_gone(self):
        from z3c.taskqueue.model.workers import MISSED
        record = self._makeOne().beat('w', 100.0, interval=10.0)
        self.assertEqual(record.state(100.0 + MISSED * 10), 'alive')
        self.assertEqual(record.state(100.1 + MISSED * 10), 'gone')

    def test_only_what_changed_is_set(self):
        record = self._makeOne().beat('w', 1.0, tasks=['a'], queues=None)
        tasks = record.tasks
        record.update(2.0, tasks=['a'], queues=None)
        self.assertIs(record.tasks, tasks)
        self.assertNotIn('queues', record.__dict__)

    def test_an_unknown_field_is_refused(self):
        with self.assertRaises(TypeError):
            self._makeOne().beat('w', 1.0, colour='red')

    def test_prune_and_remove(self):
        from z3c.taskqueue.model.workers import KEEP
        workers = self._makeOne()
        workers.beat('old', 0.0)
        workers.beat('new', KEEP)
        self.assertEqual(workers.prune(KEEP + 1), ['old'])
        self.assertEqual([r.name for r in workers.records()], ['new'])
        self.assertTrue(workers.remove('new'))
        self.assertFalse(workers.remove('new'))
        self.assertEqual(workers.records(), [])


class ServiceTestBase(unittest.TestCase):

    def setUp(self):
        from z3c.taskqueue.model.service import TaskService
        zope.component.testing.setUp(self)
        self.addCleanup(zope.component.testing.tearDown, self)
        self.db = openFileStorageDB(self)
        self.connection, self.tm = openConnection(self, self.db)
        self.connection.root()['tasks'] = self.service = TaskService()
        self.tm.commit()

    def other(self):
        """Another connection, with a transaction manager of its own;
        return its manager and its service."""
        connection, tm = openConnection(self, self.db)
        return tm, connection.root()['tasks']


class ConcurrentBeatTests(ServiceTestBase):
    """Two workers' writes, each on a connection of its own."""

    def test_beats_of_two_workers_do_not_conflict(self):
        self.service._workerBeat('a', 1.0, {})
        self.service._workerBeat('b', 1.0, {})
        self.tm.commit()
        tm1, service1 = self.other()
        tm2, service2 = self.other()
        service1._workerBeat('a', 2.0, {'completed': 5})
        service2._workerBeat('b', 2.0, {'completed': 7})
        tm1.commit()
        tm2.commit()
        self.tm.begin()
        self.assertEqual([(w['name'], w['last seen'], w['completed'])
                          for w in self.service.workers()],
                         [('a', 2.0, 5), ('b', 2.0, 7)])

    def test_workers_that_start_and_stop_at_once_do_not_conflict(self):
        # 'a' is the first worker: its removal changes no first key of a
        # bucket, which BTrees could not merge.
        self.service._workerBeat('a', 1.0, {})
        self.tm.commit()
        tm1, service1 = self.other()
        tm2, service2 = self.other()
        tm3, service3 = self.other()
        service1._workerBeat('b', 2.0, {})
        service2._workerBeat('c', 2.0, {})
        service3._workerStopped('a')
        tm1.commit()
        tm2.commit()
        tm3.commit()
        self.tm.begin()
        self.assertEqual([w['name'] for w in self.service.workers()],
                         ['b', 'c'])

    def test_an_old_service_gets_its_records_at_the_first_beat(self):
        del self.service._workers       # as stored before 1.0
        self.tm.commit()
        self.assertEqual(self.service.workers(), [])
        self.service._workerStopped('nobody')
        self.assertFalse(self.service._p_changed)
        self.service._workerBeat('a', 1.0, {})
        self.tm.commit()
        self.assertEqual([w['name'] for w in self.service.workers()], ['a'])


class StatusReportTests(ServiceTestBase):
    """What ``z3c-taskqueue status`` (and the dashboard) make of the
    records and the claims."""

    def setUp(self):
        super().setUp()
        from z3c.taskqueue import testing
        testing.registerTasks()
        self.ids = [self.service.add('record', number) for number in
                    range(3)]
        self.tm.commit()

    def test_records_and_the_claims_of_their_threads(self):
        from z3c.taskqueue.commands._statuscommand import describeWorker
        from z3c.taskqueue.commands._statuscommand import statusReport
        now = time.time()
        self.service._workerBeat('h:1:p', now - 5, {
            'started': now - 7200, 'interval': 30.0, 'completed': 12,
            'failed': 1})
        self.service._workerBeat('h:2:p', now - 600, {
            'started': now - 9000, 'interval': 30.0})
        self.service.claimJobs('h:1:p.1', 60, now, limit=1)
        self.service.claimJobs('h:1:p.2', 60, now, limit=1)
        self.service.claimJobs('elsewhere:3:Thread-1', 60, now, limit=1)
        self.tm.commit()
        report = statusReport(self.service, now)
        workers = {worker['owner']: worker for worker in report['workers']}
        self.assertEqual(sorted(workers), ['elsewhere:3:Thread-1', 'h:1:p',
                                           'h:2:p'])
        busy = workers['h:1:p']
        self.assertEqual((busy['state'], busy['jobs'], len(busy['claimed'])),
                         ('alive', 2, 2))
        self.assertEqual(describeWorker(busy, now),
                         'alive  seen 5 s ago  up 2 h  12 completed,'
                         ' 1 failed  2 jobs claimed')
        self.assertEqual(describeWorker(workers['h:2:p'], now),
                         'gone   seen 10 m ago  up 2 h  0 completed,'
                         ' 0 failed')
        unknown = workers['elsewhere:3:Thread-1']
        self.assertEqual((unknown['state'], unknown['jobs'],
                          unknown['last seen']), ('unknown', 1, None))
        self.assertEqual(describeWorker(unknown, now),
                         'no record (no heartbeat)  1 jobs claimed')
        # The claims by thread, as before.
        self.assertEqual([claim['owner'] for claim in report['claims']],
                         ['elsewhere:3:Thread-1', 'h:1:p.1', 'h:1:p.2'])


@zope.interface.implementer(interfaces.ITask)
class Blocking:
    """Runs until ``release`` is set."""

    inputSchema = outputSchema = retryPolicy = None

    def __init__(self):
        self.started = threading.Event()
        self.release = threading.Event()

    def __call__(self, service, jobid, input):
        self.started.set()
        self.release.wait(WAIT)
        return input


class HeartbeatTests(ServiceTestBase):
    """Processors keep their records."""

    def setUp(self):
        super().setUp()
        self.task = Blocking()
        zope.component.provideUtility(self.task, name='block')
        zope.component.provideUtility(Blocking(), name='other')

    def start(self, factory=None, **kw):
        from z3c.taskqueue.processing import processor
        factory = factory or processor.SimpleProcessor
        kw.setdefault('waitTime', 0.01)
        # Renewals every 0.1 s: so the lease keeper looks for a due beat.
        kw.setdefault('leaseTime', 0.6)
        worker = factory(self.db, ['tasks'], **kw)
        thread = threading.Thread(target=worker, name=worker.name)
        thread.start()

        def stop():
            self.task.release.set()
            worker.stop()
            thread.join(WAIT)
            self.assertFalse(thread.is_alive())
        self.addCleanup(stop)
        return worker, stop

    def workers(self):
        self.tm.abort()
        return self.service.workers()

    def waitForBeats(self, beats, name=None):
        """Wait until a worker was seen ``beats`` times; return it."""
        seen = []

        def beaten():
            for worker in self.workers():
                if name in (None, worker['name']):
                    if not seen or worker['last seen'] != seen[-1]:
                        seen.append(worker['last seen'])
                    return len(seen) >= beats
            return False
        wait(beaten, timeout=WAIT)
        return [w for w in self.workers()
                if name in (None, w['name'])][0]

    def test_a_processor_says_who_it_is_and_leaves_when_it_stops(self):
        from z3c.taskqueue.processing.processor import MultiProcessor
        worker, stop = self.start(MultiProcessor, maxThreads=3,
                                  queues=['mail', 'default'], heartbeat=5)
        wait(lambda: self.workers(), timeout=WAIT)
        record, = self.workers()
        self.assertEqual(record['name'], '%s:%d:taskqueue.tasks'
                         % (socket.gethostname(), os.getpid()))
        self.assertEqual(record['state'], 'alive')
        self.assertEqual((record['host'], record['pid'],
                          record['processor'], record['threads'],
                          record['queues'], record['tasks'],
                          record['interval']),
                         (socket.gethostname(), os.getpid(),
                          'taskqueue.tasks', 3, ['mail', 'default'],
                          ['block', 'other'], 5))
        self.assertLess(abs(record['started'] - time.time()), WAIT)
        stop()
        self.assertEqual(self.workers(), [])

    def test_an_idle_worker_writes_its_record_only(self):
        worker, stop = self.start(heartbeat=0.05)
        record = self.waitForBeats(2)
        oid = self.service._workers.get(record['name'])._p_oid
        after = self.db.lastTransaction()
        self.waitForBeats(4)
        stop()
        written = [[r.oid for r in txn] for txn in
                   self.db.storage.iterator(start=after)][1:]
        self.assertGreaterEqual(len(written), 2)
        # Every beat wrote the record and nothing else; the last commit
        # removed it from its tree.
        for oids in written[:-1]:
            self.assertEqual(oids, [oid])
        self.assertNotIn(oid, written[-1])
        self.assertGreater(worker.idlePolls, 10)

    def test_a_worker_beats_while_its_job_runs(self):
        worker, stop = self.start(heartbeat=0.05)
        jobid = self.service.add('block')
        self.tm.commit()
        self.assertTrue(self.task.started.wait(WAIT))
        running = self.waitForBeats(3)
        self.assertEqual(running['completed'], 0)
        self.task.release.set()
        wait(lambda: self.workers()[0]['completed'] == 1, timeout=WAIT)
        self.assertEqual(self.service.getStatus(jobid), 'completed')

    def test_no_heartbeat_no_record(self):
        worker, stop = self.start(heartbeat=0)
        wait(lambda: worker.idlePolls > 20, timeout=WAIT)
        self.assertEqual(self.workers(), [])

    def test_a_worker_that_does_not_stop_cleanly_is_gone_then_pruned(self):
        from z3c.taskqueue.model.workers import KEEP
        from z3c.taskqueue.model.workers import MISSED
        from z3c.taskqueue.processing import _heartbeat
        # A worker killed long ago: its record stays.
        self.service._workerBeat('host:1:killed', time.time() - 60,
                                 {'interval': 5.0})
        self.service._workerBeat('host:2:long-gone', time.time() - KEEP - 1,
                                 {'interval': 5.0})
        self.tm.commit()
        states = {w['name']: w['state'] for w in self.workers()}
        self.assertEqual(states, {'host:1:killed': 'gone',
                                  'host:2:long-gone': 'gone'})
        # A worker that starts removes the records gone for a day.
        worker, stop = self.start(heartbeat=5)
        name = _heartbeat.workerName(worker)
        wait(lambda: name in [w['name'] for w in self.workers()],
             timeout=WAIT)
        names = [w['name'] for w in self.workers()]
        self.assertEqual(names, sorted(['host:1:killed',
                                        _heartbeat.workerName(worker)]))
        later = self.service.workers(time.time() + MISSED * 5 - 1)
        self.assertEqual({w['name']: w['state'] for w in later},
                         {'host:1:killed': 'gone', name: 'alive'})

    def test_a_service_of_an_old_layout_is_migrated_first(self):
        from z3c.taskqueue.processing import _heartbeat
        from z3c.taskqueue.processing.processor import SimpleProcessor
        worker = SimpleProcessor(self.db, ['tasks'], heartbeat=5)
        beat = _heartbeat.Heartbeat(worker)
        self.service._layout = 1
        self.tm.commit()
        connection, tm = openConnection(self, self.db)
        beat.beat(connection, tm)
        self.assertFalse(beat.written)
        self.assertEqual(self.workers(), [])
        self.service._layout = 2
        self.tm.commit()
        beat.due = 0
        beat.beat(connection, tm)
        self.assertTrue(beat.written)
        beat.stop(connection, tm)
        self.assertEqual(self.workers(), [])

    def test_a_conflicting_beat_is_tried_again_soon(self):
        from unittest import mock
        from ZODB.POSException import ConflictError
        from z3c.taskqueue.model.workers import WorkersMixin
        from z3c.taskqueue.processing import _heartbeat
        from z3c.taskqueue.processing.processor import SimpleProcessor
        worker = SimpleProcessor(self.db, ['tasks'], heartbeat=60)
        beat = _heartbeat.Heartbeat(worker)
        connection, tm = openConnection(self, self.db)
        with mock.patch.object(WorkersMixin, '_workerBeat',
                               side_effect=ConflictError()):
            beat.beat(connection, tm)
        self.assertFalse(beat.written)
        self.assertLess(beat.due - time.monotonic(), _heartbeat.RETRY)
        with mock.patch.object(WorkersMixin, '_workerBeat',
                               side_effect=OSError('disk full')):
            beat.due = 0
            beat.beat(connection, tm)
        self.assertFalse(beat.written)
        beat.due = 0
        beat.beat(connection, tm)
        self.assertTrue(beat.written)
        self.assertGreater(beat.due - time.monotonic(), 50)


def test_suite():
    return unittest.defaultTestLoader.loadTestsFromName(__name__)
