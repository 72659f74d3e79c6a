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
"""Faults met by processor threads, on a real FileStorage: the worker
goes on through all of them, and no job fails that did not fail.

Each test names the item of the robustness issue (#8) it reproduces.
"""
import logging
import os
import threading
import unittest

import zope.component
import zope.component.testing
from zope.testing.loggingsupport import InstalledHandler
from zope.testing.wait import wait

from z3c.taskqueue import interfaces
from z3c.taskqueue.model.tests.test_faults import Task


WAIT = 30   # seconds: only a broken processor takes that long


class ProcessorFaultTestBase(unittest.TestCase):

    def setUp(self):
        from z3c.taskqueue.tests import _fragile
        zope.component.testing.setUp(self)
        self.addCleanup(zope.component.testing.tearDown, self)
        self.addCleanup(_fragile.restore)
        self.log = InstalledHandler('z3c.taskqueue')
        self.addCleanup(self.log.uninstall)
        self.openDatabase()
        from z3c.taskqueue.model.service import TaskService
        root = self.connection.root()
        root['tasks'] = TaskService()
        root['tasks'].__name__ = 'tasks'
        self.tm.commit()

    def openDatabase(self):
        from z3c.taskqueue.tests._support import openConnection
        from z3c.taskqueue.tests._support import openFileStorageDB
        self.db = openFileStorageDB(self)
        self.connection, self.tm = openConnection(self, self.db)

    @property
    def service(self):
        return self.connection.root()['tasks']

    def provide(self, action=None, name='task'):
        task = Task(action)
        zope.component.provideUtility(task, name=name)
        return task

    def add(self, *inputs):
        ids = [self.service.add('task', input) for input in inputs]
        self.tm.commit()
        return ids

    def start(self, factory=None, **kw):
        from z3c.taskqueue.processing.processor import SimpleProcessor
        kw.setdefault('waitTime', 0.02)
        processor = (factory or SimpleProcessor)(self.db, ['tasks'], **kw)
        thread = threading.Thread(target=processor, name=processor.name,
                                  daemon=True)
        thread.start()

        def stop():
            processor.stop()
            thread.join(WAIT)
        self.addCleanup(stop)
        return processor, thread

    def statuses(self, ids):
        self.tm.begin()
        return [self.service.getStatus(jobid) for jobid in ids]

    def waitFinished(self, ids):
        def finished():
            return all(status in interfaces.FINISHED
                       for status in self.statuses(ids))
        try:
            wait(finished, timeout=WAIT, wait=0.02)
        except Exception:
            self.fail('jobs not finished: %r\n%s' % (
                self.statuses(ids), self.log))

    def records(self, text, level=logging.ERROR):
        return [record for record in self.log.records
                if record.levelno >= level and text in record.getMessage()]


class BaseExceptionTests(ProcessorFaultTestBase):
    """Item 1: a task that raises SystemExit, KeyboardInterrupt or another
    BaseException fails its job; the worker goes on."""

    def test_each_base_exception_fails_only_its_job(self):
        import sys

        class Custom(BaseException):
            pass

        def raising(service, jobid, input):
            if input == 'argparse':
                sys.exit(2)
            if input is not None:
                raise {'interrupt': KeyboardInterrupt(),
                       'generator': GeneratorExit(),
                       'custom': Custom('mine')}[input]
        self.provide(raising)
        ids = self.add('argparse', 'interrupt', None, 'generator', 'custom',
                       None)
        processor, thread = self.start()
        self.waitFinished(ids)
        self.assertEqual(self.statuses(ids), [
            'error', 'error', 'completed', 'error', 'error', 'completed'])
        self.assertEqual([self.service.getError(jobid) for jobid in ids], [
            'SystemExit: 2', 'KeyboardInterrupt', None, 'GeneratorExit',
            'Custom: mine', None])
        self.assertTrue(thread.is_alive())
        self.assertTrue(processor.running)
        # Each failure is in the log, with its traceback.
        self.assertEqual(len(self.records('failed: SystemExit: 2')), 1)
        later = self.add(None)
        self.waitFinished(later)
        self.assertEqual(self.statuses(later), ['completed'])

    def test_a_multiprocessor_keeps_all_its_threads(self):
        from z3c.taskqueue.processing.processor import MultiProcessor

        def raising(service, jobid, input):
            if input:
                raise SystemExit(input)
        self.provide(raising)
        ids = self.add(*([1, None] * 10))
        processor, thread = self.start(MultiProcessor, maxThreads=3)
        self.waitFinished(ids)
        self.assertEqual(self.statuses(ids), ['error', 'completed'] * 10)
        names = {t.name for t in threading.enumerate()}
        self.assertTrue({'taskqueue.tasks.1', 'taskqueue.tasks.2',
                         'taskqueue.tasks.3'} <= names, names)

    def test_ctrl_c_in_the_main_thread_stops_and_charges_nothing(self):
        # A SimpleProcessor called in the main thread (a script): Ctrl-C
        # stops it, and the interrupted job and the rest of its batch are
        # given back as they were.
        from z3c.taskqueue.processing.processor import SimpleProcessor
        self.assertIs(threading.current_thread(), threading.main_thread())

        def interrupted(service, jobid, input):
            if input == 'stop':
                raise KeyboardInterrupt()
        self.provide(interrupted)
        ids = self.add(None, 'stop', None, None)
        processor = SimpleProcessor(self.db, ['tasks'], waitTime=0.02)
        with self.assertRaises(KeyboardInterrupt):
            processor()
        self.assertFalse(processor.running)
        self.assertFalse(processor.keeper.thread.is_alive())
        self.assertEqual(self.statuses(ids),
                         ['completed', 'queued', 'queued', 'queued'])
        self.assertEqual([self.service.jobs[jobid].attempts for jobid in ids],
                         [1, 0, 0, 0])


class ArgumentTests(ProcessorFaultTestBase):
    """Item 6: processor arguments are checked."""

    def test_bad_arguments_are_refused_naming_them(self):
        from z3c.taskqueue.processing.processor import MultiProcessor
        from z3c.taskqueue.processing.processor import SimpleProcessor
        bad = [('leaseTime', 0), ('leaseTime', -5), ('leaseTime', 1e300 * 10),
               ('waitTime', -1), ('waitTime', float('nan')),
               ('waitTime', float('inf')), ('stopTimeout', float('nan')),
               ('batchSize', 0), ('batchSize', 2.5), ('leaseTime', '60')]
        for name, value in bad:
            with self.assertRaises(ValueError, msg=name) as raised:
                SimpleProcessor(self.db, ['tasks'], **{name: value})
            self.assertIn('%s must be' % name, str(raised.exception))
            self.assertIn(repr(value), str(raised.exception))
        for value in (0, -1, True, 1000):
            with self.assertRaises(ValueError):
                MultiProcessor(self.db, ['tasks'], maxThreads=value)

    def test_waitTime_zero_is_allowed(self):
        # The old package's tests ran processors with waitTime 0.
        from z3c.taskqueue.processing.processor import SimpleProcessor
        self.assertEqual(
            SimpleProcessor(self.db, ['tasks'], waitTime=0.0).waitTime, 0.0)


class JobFaultTests(ProcessorFaultTestBase):
    """Items 5, 8 and 10, in a worker thread."""

    def test_an_unloadable_input_fails_its_job_only(self):
        from z3c.taskqueue.tests import _fragile
        self.provide()
        ids = self.add(_fragile.Fragile('x'), 'after')
        _fragile.breakFragile()
        self.db.cacheMinimize()
        processor, thread = self.start()
        self.waitFinished(ids)
        self.assertEqual(self.statuses(ids), ['error', 'completed'])
        self.assertIn('ValueError: Fragile no longer loads',
                      self.service.getError(ids[0]))

    def test_what_a_task_cannot_commit_fails_its_job(self):
        def faulty(service, jobid, input):
            tm = service._p_jar.transaction_manager
            if input == 'doom':
                tm.get().doom()
            elif input == 'lock':
                return threading.Lock()
            elif input == 'write':
                service._p_jar.root()['lock'] = threading.Lock()
            elif input == 'abort':
                service._p_jar.root()['lost'] = 1
                tm.abort()
                return 'aborted'
            elif input == 'unprintable':
                raise Unprintable()
            return input
        task = self.provide(faulty)
        ids = self.add('doom', 'lock', 'write', 'abort', 'unprintable', 'ok')
        processor, thread = self.start()
        self.waitFinished(ids)
        self.assertEqual(self.statuses(ids), [
            'error', 'error', 'error', 'completed', 'error', 'completed'])
        errors = [self.service.getError(jobid) for jobid in ids]
        self.assertIn('doomed the transaction', errors[0])
        self.assertIn("the output of task 'task' cannot be stored", errors[1])
        self.assertIn("its changes cannot be committed: TypeError: cannot"
                      " pickle '_thread.lock' object", errors[2])
        self.assertEqual(self.service.getResult(ids[3]), 'aborted')
        self.assertEqual(errors[4], 'Unprintable: <the message cannot be'
                         ' shown: its __str__ failed>')
        self.assertEqual(task.calls, 6)     # each ran once
        self.assertNotIn('lost', self.connection.root())
        self.assertNotIn('lock', self.connection.root())
        self.assertTrue(thread.is_alive())


class Unprintable(Exception):

    def __str__(self):
        raise RuntimeError('no')


class StopTimeoutTests(ProcessorFaultTestBase):
    """Item 4: a job that outlives the stop timeout is given back at once,
    and its late result is never written."""

    def test_abandon_gives_the_running_job_back(self):
        release = threading.Event()
        self.addCleanup(release.set)
        running = threading.Event()

        def endless(service, jobid, input):
            if input == 'endless':
                running.set()
                release.wait(WAIT)
            return input
        self.provide(endless)
        ids = self.add('endless', 'next')
        processor, thread = self.start(stopTimeout=0.2)
        self.assertTrue(running.wait(WAIT))
        processor.stop()
        thread.join(0.2)
        self.assertTrue(thread.is_alive())
        given = processor.abandon()
        self.assertEqual(given, ids[:1])    # the second was not claimed
        self.assertEqual(self.statuses(ids), ['queued', 'queued'])
        jobs = [self.service.jobs[jobid] for jobid in ids]
        self.assertEqual([job.attempts for job in jobs], [1, 0])
        self.assertIn('stopped before the job ended', jobs[0].error)
        self.assertIsNone(jobs[1].error)
        # The task ends late: nothing more is written.
        before = self.db.lastTransaction()
        release.set()
        thread.join(WAIT)
        self.assertFalse(thread.is_alive())
        self.assertEqual(self.db.lastTransaction(), before)
        self.assertEqual(self.statuses(ids), ['queued', 'queued'])


class StartStopTests(ProcessorFaultTestBase):
    """Item 13: a processor that did not stop in time is not doubled."""

    def test_start_after_a_stop_that_timed_out_starts_no_second(self):
        release = threading.Event()
        self.addCleanup(release.set)
        running = threading.Event()

        def slow(service, jobid, input):
            running.set()
            release.wait(WAIT)
        self.provide(slow)
        self.add(None)
        self.service.processorArguments = {'waitTime': 0.02}
        self.tm.commit()
        self.service.startProcessing()
        self.addCleanup(self.service.stopProcessing, WAIT)
        self.assertTrue(running.wait(WAIT))
        self.service.stopProcessing(0.1)
        self.assertTrue(self.service.isProcessing())
        self.service.startProcessing()
        names = [t.name for t in threading.enumerate()]
        self.assertEqual(names.count('taskqueue.tasks'), 1)
        self.assertTrue(self.records('still finishing a job',
                                     logging.WARNING))
        release.set()
        self.service.stopProcessing(WAIT)
        self.assertFalse(self.service.isProcessing())


class MissingServiceTests(ProcessorFaultTestBase):
    """A processor whose service path does not resolve says so once, and
    waits longer and longer, instead of a traceback every second."""

    def test_a_bad_path_is_logged_once(self):
        from z3c.taskqueue.processing.processor import SimpleProcessor
        processor = SimpleProcessor(self.db, ['nosuch'], waitTime=0.01)
        thread = threading.Thread(target=processor, daemon=True)
        thread.start()
        self.addCleanup(thread.join, WAIT)
        self.addCleanup(processor.stop)
        # Tried again and again (said at DEBUG level), said once.
        wait(lambda: len(self.records("no task service at 'nosuch'",
                                      logging.DEBUG)) >= 3, timeout=WAIT)
        self.assertEqual(
            len(self.records("no task service at 'nosuch'")), 1)


class FullDiskTests(ProcessorFaultTestBase):
    """Item 7: a full disk (a real tmpfs, filled) fails no job, and the
    worker goes on once there is space again."""

    def openDatabase(self):
        import ZODB
        import ZODB.FileStorage
        from z3c.taskqueue.tests._support import mountSmallDisk
        from z3c.taskqueue.tests._support import openConnection
        self.disk = mountSmallDisk(self, '4m')
        self.path = os.path.join(self.disk, 'Data.fs')
        self.db = ZODB.DB(ZODB.FileStorage.FileStorage(self.path))
        self.addCleanup(lambda: self.db.close())
        self.connection, self.tm = openConnection(self, self.db)

    def test_jobs_wait_for_space_and_then_complete(self):
        from z3c.taskqueue.tests._support import fillDisk

        def writing(service, jobid, input):
            service._p_jar.root()['written'][jobid] = 'x' * 2000
            return jobid
        self.provide(writing)
        from BTrees.OOBTree import OOBTree
        self.connection.root()['written'] = OOBTree()
        ids = self.add(*range(40))
        filler = fillDisk(self.disk)
        processor, thread = self.start(leaseTime=5)
        # The worker tries again and again (said at DEBUG level).
        wait(lambda: len(self.records('No space left on device',
                                      logging.DEBUG)) >= 3, timeout=WAIT)
        self.assertEqual(self.service.countJobs()['error'], 0)
        os.remove(filler)
        self.waitFinished(ids)
        self.assertEqual(set(self.statuses(ids)), {'completed'})
        self.assertEqual(self.service.countJobs()['error'], 0)
        self.assertEqual(sorted(self.connection.root()['written']), ids)
        # Said once, with the recovery.
        self.assertEqual(len(self.records('No space left on device')), 1)
        self.assertTrue(self.records('works again, after', logging.WARNING))
        self.assertTrue(thread.is_alive())


class BrokenStorageTests(ProcessorFaultTestBase):
    """Item 7: a FileStorage that is closed under the processor is
    reopened, and the work goes on.

    The fault is staged: a task closes the storage.  A FileStorage closes
    itself so when it fails to finish a commit (``tpc_finish``); no
    commit fails here, only the state such a failure leaves is made.
    """

    def openDatabase(self):
        import tempfile
        import shutil
        import ZODB
        import ZODB.FileStorage
        from z3c.taskqueue.tests._support import openConnection
        directory = tempfile.mkdtemp(prefix='z3c.taskqueue-')
        self.addCleanup(shutil.rmtree, directory)
        self.path = os.path.join(directory, 'Data.fs')
        self.db = ZODB.DB(ZODB.FileStorage.FileStorage(self.path))
        self.addCleanup(lambda: self.db.close())
        self.connection, self.tm = openConnection(self, self.db)

    def reopen(self):
        import ZODB
        import ZODB.FileStorage
        self.reopened.append(1)
        return ZODB.DB(ZODB.FileStorage.FileStorage(self.path))

    def test_a_closed_storage_is_reopened(self):
        self.reopened = []
        closed = []

        def closing(service, jobid, input):
            if input == 'close' and not closed:
                closed.append(jobid)
                service._p_jar.db().storage.close()
            return input
        self.provide(closing)
        ids = self.add('close', *range(10))
        # Our own connection goes with the database we close.
        self.connection.close()
        processor, thread = self.start(reopen=self.reopen)
        wait(lambda: self.reopened, timeout=WAIT)
        wait(lambda: processor.processed == len(ids), timeout=WAIT)
        processor.stop()
        thread.join(WAIT)
        self.db = processor.db
        connection = self.db.open()
        service = connection.root()['tasks']
        self.assertEqual({service.getStatus(jobid) for jobid in ids},
                         {'completed'})
        self.assertEqual(self.reopened, [1])
        connection.close()
        self.connection = self.db.open(self.tm)
