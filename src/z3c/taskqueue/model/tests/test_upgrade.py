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
"""Upgrading from z3c.taskqueue 0.2 and lovely.remotetask on Python 2.

Each test database is written as ZODB on Python 2 wrote it (see
``_py2db``), converted with the real ``zodbupdate --convert-py3`` command
as the Zope and Plone upgrade guides say, then used through the old API
and by real worker processes.
"""
import datetime
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

import transaction
import ZODB
import ZODB.FileStorage
import zope.component
import zope.component.testing

from z3c.taskqueue.tests import _oldtasks
from z3c.taskqueue.tests import _py2db


BIN = os.path.dirname(sys.executable)

#: What zodbupdate is told, as in the upgrade guides.
ZODBUPDATE = ['--convert-py3', '--encoding', 'utf-8',
              '--encoding-fallback', 'latin1']

#: The status of each job once migrated, before anything ran.
STATUSES = {
    'queued-1': 'queued', 'queued-2': 'queued', 'queued-3': 'queued',
    'startlater': 'start later', 'completed': 'completed',
    'completed-latin1': 'completed', 'completed-in-queue': 'completed',
    'cancelled': 'cancelled',
    # Taken by the old server and never ended: given back.
    'processing': 'queued', 'lost': 'queued',
    'cron-due': 'cronjob', 'cron-future': 'cronjob', 'cron-new': 'cronjob',
    'cron-cancelled': 'cancelled', 'delayed-due': 'delayed',
    'delayed-new': 'delayed', 'delayed-future': 'delayed',
}

ERRORS = {
    'z3c': {
        'error-str': 'integer division or modulo by zero',
        'error-latin1': 'Datei \xfcberschrieben',
        'error-utf8': 'Fehler: \xfc',
        'error-exception': 'task failed',
    },
    'lovely': {
        'error-exception': 'task failed',
        'error-valueerror': 'ung\xfcltig',
        'error-lookup': "(<InterfaceClass z3c.taskqueue.interfaces.ITask>,"
                        " 'gone')",
        'error-empty': 'KeyError',
    },
}

RESULTS = {'completed': 'Ergebnis: \xfc', 'completed-latin1': b'caf\xe9',
           'completed-in-queue': 'y'}

#: The jobs that run once, when due, without being started.
RUN = ('processing', 'lost', 'queued-2', 'queued-1', 'queued-3',
       'cron-due', 'delayed-due', 'delayed-new')


def convert(path):
    """Run the real zodbupdate on the Python 2 FileStorage ``path``."""
    result = subprocess.run(
        [os.path.join(BIN, 'zodbupdate')] + ZODBUPDATE + ['-f', path],
        capture_output=True, text=True, timeout=300)
    if result.returncode:
        raise AssertionError('zodbupdate failed:\n' + result.stderr)
    return result.stderr


def command(*args, env=None, timeout=120):
    """Run ``z3c-taskqueue`` with ``args``."""
    return subprocess.run(
        [os.path.join(BIN, 'z3c-taskqueue')] + list(args),
        capture_output=True, text=True, timeout=timeout,
        env=dict(os.environ, **(env or {})))


class OldDatabases:
    """A layer that writes and converts each old database once; tests
    take copies."""

    directory = None
    made = {}

    @classmethod
    def setUp(cls):
        cls.directory = tempfile.mkdtemp(prefix='z3c.taskqueue-old-')
        cls.made = {}

    @classmethod
    def tearDown(cls):
        shutil.rmtree(cls.directory)
        cls.directory = None

    @classmethod
    def copy(cls, target, flavour, protocol, future=True, localTime=None,
             name=None):
        """Copy the converted database to ``target``; return the ids of
        its jobs by role, and its ``now``."""
        name = name or '%s-%d-%s' % (flavour, protocol, future)
        if name not in cls.made:
            path = os.path.join(cls.directory, name + '.fs')
            now = int(time.time())
            ids = _py2db.oldService(path, protocol, flavour, now,
                                    localTime, future)
            convert(path)
            cls.made[name] = path, ids, now
        path, ids, now = cls.made[name]
        shutil.copy(path, target)
        return ids, now


class DatabaseTestCase(unittest.TestCase):

    layer = OldDatabases
    flavour = 'z3c'
    protocol = 1
    future = True

    def setUp(self):
        from zope.testing.loggingsupport import InstalledHandler
        zope.component.testing.setUp(self)
        self.addCleanup(zope.component.testing.tearDown)
        zope.component.provideUtility(_oldtasks.LoggedEcho(), name='echo')
        self.log = InstalledHandler('z3c.taskqueue')
        self.addCleanup(self.log.uninstall)
        directory = tempfile.mkdtemp(prefix='z3c.taskqueue-')
        self.addCleanup(shutil.rmtree, directory)
        self.path = os.path.join(directory, 'Data.fs')
        self.runlog = os.path.join(directory, 'runs.log')
        os.environ[_oldtasks.RUNLOG] = self.runlog
        self.addCleanup(os.environ.pop, _oldtasks.RUNLOG, None)
        self.ids, self.now = self.layer.copy(
            self.path, self.flavour, self.protocol, self.future)
        self.db = None
        self.open()
        self.addCleanup(self.close)

    def open(self):
        self.db = ZODB.DB(ZODB.FileStorage.FileStorage(self.path))
        self.tm = transaction.TransactionManager()
        self.connection = self.db.open(self.tm)
        self.service = self.connection.root()['tasks']

    def close(self):
        if self.db is not None:
            self.tm.abort()
            self.connection.close()
            self.db.close()
            self.db = None

    def reopen(self):
        self.tm.commit()
        self.close()
        self.open()

    def job(self, role):
        return self.service.jobs[self.ids[role]]

    def runs(self):
        """Return the roles of the jobs run, in order."""
        roles = {jobid: role for role, jobid in self.ids.items()}
        return [roles[jobid] for jobid in _oldtasks.runs(self.runlog)]

    def worker(self, *options):
        """Run a worker process on the closed database until no job is
        left to do."""
        self.close()
        try:
            result = command(
                'worker', 'file://' + self.path, '--service', 'tasks',
                '--import', 'z3c.taskqueue.tests._oldtasks', '--wait',
                '0.1', '--exit-when-done', *options,
                env={_oldtasks.RUNLOG: self.runlog})
        finally:
            self.open()
        self.assertEqual(result.returncode, 0, result.stderr)
        return result


class UpgradeTests(DatabaseTestCase):
    """A converted database of z3c.taskqueue 0.2.1, written by ZODB with
    pickle protocol 1 (ZODB 4 and 5.2 on Python 2)."""

    def expectedStatuses(self):
        statuses = dict(STATUSES)
        statuses.update(dict.fromkeys(ERRORS[self.flavour], 'error'))
        if not self.future:
            del statuses['delayed-future']
        return statuses

    def statuses(self):
        return {role: self.service.getStatus(jobid)
                for role, jobid in self.ids.items()}

    def test_zodbupdate_leaves_a_service_of_layout_0(self):
        from z3c.taskqueue.interfaces import ITaskService
        from z3c.taskqueue.model import _migration
        from z3c.taskqueue.model.service import TaskService
        self.assertIsInstance(self.service, TaskService)
        self.assertTrue(ITaskService.providedBy(self.service))
        self.assertEqual(_migration.layoutOf(self.service), 0)
        # A service without _layout: of layout version 1, were it not for
        # its old attributes.
        self.assertNotIn('_layout', self.service.__dict__)
        self.assertEqual(self.service.getResult(self.ids['completed']),
                         'Ergebnis: \xfc')

    def test_the_first_use_migrates_every_job(self):
        from z3c.taskqueue.tests._support import indexProblems
        self.assertEqual(self.statuses(), self.expectedStatuses())
        self.assertEqual(self.service._layout, 2)
        self.reopen()
        self.assertEqual(self.service._layout, 2)
        for name in ('_queue', '_scheduledQueue', '_scheduledJobs',
                     '_counter'):
            self.assertNotIn(name, self.service.__dict__)
        self.assertEqual(self.statuses(), self.expectedStatuses())
        self.assertEqual(indexProblems(self.service), [])
        counts = self.service.countJobs()
        self.assertEqual(counts['queued'], 5)
        self.assertEqual(counts['cronjob'], 3)
        self.assertEqual(counts['delayed'], 3 if self.future else 2)
        ids, cursor = self.service.listJobs(limit=100)
        self.assertEqual(sorted(ids), sorted(self.ids.values()))
        self.assertEqual(
            [record.getMessage() for record in self.log.records
             if record.getMessage().startswith('Migrated')],
            ['Migrated task service tasks from layout version 0 to 2;'
             ' jobs moved to the new indexes: %d' % len(self.ids)])

    def test_a_large_migration_makes_savepoints(self):
        from unittest import mock
        from z3c.taskqueue.model import _layout0
        from z3c.taskqueue.tests._support import indexProblems
        savepoint = mock.Mock(wraps=self.tm.savepoint)
        with mock.patch.object(_layout0, 'SAVEPOINT_EVERY', 3), \
                mock.patch.object(self.tm, 'savepoint', savepoint):
            self.assertEqual(self.statuses(), self.expectedStatuses())
        self.assertEqual(savepoint.call_count, len(self.ids) // 3)
        self.reopen()
        self.assertEqual(self.statuses(), self.expectedStatuses())
        self.assertEqual(indexProblems(self.service), [])

    def test_results_and_errors_are_as_they_were(self):
        self.service.countJobs()
        for role, result in RESULTS.items():
            self.assertEqual(self.service.getResult(self.ids[role]), result)
        for role, error in ERRORS[self.flavour].items():
            self.assertEqual(self.service.getError(self.ids[role]), error)
        self.assertEqual(self.service.getError(self.ids['queued-1']), None)
        # The text the old code stored: decoded by zodbupdate.
        self.assertEqual(self.job('queued-3').input, 'Gr\xfc\xdfe')
        self.assertEqual(self.job('queued-2').input, 'zwei')

    def test_an_error_read_first_is_text(self):
        role, error = sorted(ERRORS[self.flavour].items())[0]
        self.assertEqual(self.service.getError(self.ids[role]), error)
        self.assertEqual(self.service._layout, 2)

    def test_jobs_taken_by_the_old_server_are_given_back_charged(self):
        self.service.countJobs()
        for role in ('processing', 'lost'):
            job = self.job(role)
            self.assertEqual(job.attempts, 1)
            self.assertIn('never recorded its end', job.error)
        self.assertTrue(any('given back' in record.getMessage()
                            for record in self.log.records))

    def test_times_are_the_same_instants(self):
        self.service.countJobs()
        created = self.job('queued-1').created
        self.assertEqual(created.tzinfo, datetime.timezone.utc)
        self.assertEqual(created.timestamp(), self.now - 3000)
        job = self.job('completed')
        self.assertEqual(job.started.timestamp(), self.now - 2500)
        self.assertEqual(job.completed.timestamp(), self.now - 2498)
        self.assertNotIn('created', job.__dict__)

    def test_cron_jobs_fire_at_the_same_minutes(self):
        from z3c.taskqueue.model import _index
        self.service.countJobs()
        due = {jobid: _index.keyTime(key)
               for key, jobid in self.service._schedule.entries()}
        future = self.job('cron-future')
        self.assertEqual(due[future.id], future.scheduledFor.timestamp())
        at = time.gmtime(due[future.id])
        self.assertEqual((at.tm_min, at.tm_sec), (15, 0))
        self.assertGreater(due[future.id], self.now)
        # Its fields, which were (and are) UTC, say the same minutes.
        after = future.timeOfNextCall(due[future.id] - 1)
        self.assertEqual(after, due[future.id])
        new = self.job('cron-new')
        self.assertIn(new.id, self.service._schedule.pending)
        self.assertEqual(time.gmtime(new.timeOfNextCall(self.now)).tm_min,
                         45)

    def test_the_old_api_runs_every_job_once(self):
        later = time.time() + 5
        # The delay of a job not yet scheduled counts from the claim that
        # schedules it, as it did: delayed-new is due a second later.
        for now in (later, later + 2):
            while self.service.processNext(now):
                pass
        self.assertEqual(sorted(self.runs()), sorted(RUN))
        runs = self.runs()
        self.assertLess(runs.index('lost'), runs.index('queued-2'))
        self.assertLess(runs.index('queued-2'), runs.index('queued-1'))
        self.assertLess(runs.index('queued-1'), runs.index('queued-3'))
        for role in RUN:
            self.assertEqual(self.service.getStatus(self.ids[role]),
                             'cronjob' if role == 'cron-due'
                             else 'completed', role)
        self.assertEqual(self.service.getResult(self.ids['queued-3']),
                         'Gr\xfc\xdfe')
        self.assertEqual(self.job('lost').attempts, 2)
        # The cron job runs again at its next minute 5, not before.
        cron = self.job('cron-due')
        self.assertGreater(cron.scheduledFor.timestamp(), later)
        self.assertEqual(cron.scheduledFor.minute, 5)
        self.assertTrue(self.service.startJob(self.ids['startlater']))
        self.assertTrue(self.service.processNext(later))
        self.assertEqual(self.runs()[-1], 'startlater')
        self.assertFalse(self.service.processNext(later))
        self.service.cancel(self.ids['delayed-future'])
        self.assertEqual(self.service.getStatus(self.ids['delayed-future']),
                         'cancelled')
        self.service.clean()
        self.assertEqual(sorted(self.service.jobs),
                         sorted(self.ids[role] for role in
                                ('cron-due', 'cron-future', 'cron-new')))

    def test_the_stored_processor_factory_still_loads(self):
        from z3c.taskqueue.processing import processor
        self.service.countJobs()
        self.reopen()
        if self.flavour == 'z3c':
            self.assertIs(self.service.processorFactory,
                          processor.MultiProcessor)
            self.assertEqual(self.service.processorArguments,
                             {'waitTime': 0.5, 'maxThreads': 2})
            self.assertEqual(dict(self.service.__annotations__),
                             {'my.annotation': 'kept'})
        else:
            self.assertIs(self.service.processorFactory,
                          processor.SimpleProcessor)
        made = self.service.processorFactory(
            self.db, ['tasks'], **self.service.processorArguments)
        self.assertFalse(made.running)

    def test_two_connections_migrate_once_and_lose_nothing(self):
        from ZODB.POSException import ConflictError
        otherTM = transaction.TransactionManager()
        other = self.db.open(otherTM)
        self.addCleanup(other.close)
        self.addCleanup(otherTM.abort)
        self.service.countJobs()
        added = other.root()['tasks'].add('echo', 'new')
        self.tm.commit()
        with self.assertRaises(ConflictError):
            otherTM.commit()
        otherTM.abort()
        # Tried again, as a transaction runner would.
        added = other.root()['tasks'].add('echo', 'new')
        otherTM.commit()
        self.tm.begin()
        self.assertEqual(self.service.getStatus(added), 'queued')
        self.assertEqual(self.statuses(), self.expectedStatuses())
        self.assertEqual(len([record for record in self.log.records
                              if 'Migrated' in record.getMessage()]), 1)

    def test_the_migrate_command(self):
        self.close()
        result = command('migrate', 'file://' + self.path, '--service',
                         'tasks')
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn('from layout version 0 to 2 (%d jobs moved)'
                      % len(self.ids), result.stdout)
        again = command('migrate', 'file://' + self.path, '--service',
                        'tasks')
        self.assertIn('already', again.stdout)
        self.open()
        self.service._p_activate()
        self.assertEqual(self.service.__dict__.get('_layout'), 2)
        self.assertEqual(self.statuses(), self.expectedStatuses())


class UpgradeProtocol2Tests(UpgradeTests):
    """Written by ZODB 5.3 on Python 2: pickle protocol 2."""

    protocol = 2


class UpgradeProtocol3Tests(UpgradeTests):
    """Written by ZODB 5.4 and later on Python 2: protocol 3, oids as
    zodbpickle.binary."""

    protocol = 3


class LovelyUpgradeTests(UpgradeTests):
    """A converted database of lovely.remotetask 0.5: its classes renamed
    by the zodbupdate map, its errors exception instances, its queue a
    zc.queue 1.0 ``PersistentQueue``, and a ``_counter``."""

    flavour = 'lovely'


class LovelyUpgradeProtocol3Tests(LovelyUpgradeTests):

    protocol = 3


class WorkerTests(DatabaseTestCase):
    """Real workers on converted databases, with ``--exit-when-done``."""

    protocol = 3
    future = False

    def test_a_worker_migrates_and_runs_every_job_once(self):
        result = self.worker()
        self.assertIn('Migrated task service', result.stderr)
        self.assertEqual(sorted(self.runs()), sorted(RUN))
        self.assertEqual([self.service.getStatus(self.ids[role])
                          for role in RUN],
                         ['completed'] * 5 + ['cronjob', 'completed',
                                              'completed'])
        for role, error in ERRORS[self.flavour].items():
            self.assertEqual(self.service.getError(self.ids[role]), error)
        self.assertEqual(self.service.getStatus(self.ids['startlater']),
                         'start later')
        # Started through the old API, it runs; nothing else runs again.
        self.assertTrue(self.service.startJob(self.ids['startlater']))
        self.tm.commit()
        self.worker()
        self.assertEqual(sorted(self.runs()), sorted(RUN + ('startlater',)))
        self.assertEqual(self.service.getResult(self.ids['startlater']),
                         'sp\xe4ter')


class LovelyWorkerTests(DatabaseTestCase):
    """A lovely.remotetask database, used through the old API first, then
    by a worker of two threads."""

    flavour = 'lovely'
    protocol = 1

    def test_old_api_then_worker(self):
        self.assertEqual(self.service.getStatus(self.ids['cancelled']),
                         'cancelled')
        self.assertTrue(self.service.startJob(self.ids['startlater']))
        self.service.cancel(self.ids['delayed-future'])
        self.tm.commit()
        self.assertEqual(self.runs(), [])
        self.worker('--threads', '2')
        self.assertEqual(sorted(self.runs()),
                         sorted(RUN + ('startlater',)))
        self.assertEqual(self.service.getStatus(self.ids['delayed-future']),
                         'cancelled')
        self.assertEqual(self.service.getError(self.ids['error-lookup']),
                         ERRORS['lovely']['error-lookup'])


class TimeZoneTests(DatabaseTestCase):
    """The old server's naive local times, in a zone that is not this
    process's: told by ``migrate --timezone`` or by ``TZ``."""

    protocol = 2
    zone = 'America/New_York'

    def setUp(self):
        import zoneinfo
        zone = zoneinfo.ZoneInfo(self.zone)

        def localTime(seconds):
            return datetime.datetime.fromtimestamp(seconds, zone).replace(
                tzinfo=None)
        original = OldDatabases.copy

        def copy(target, flavour, protocol, future=True):
            return original(target, flavour, protocol, future, localTime,
                            name='new-york')
        self.layer = type('Layer', (), {'copy': staticmethod(copy)})
        super().setUp()

    def created(self):
        return self.job('queued-1').created.timestamp()

    def test_migrate_with_timezone(self):
        self.close()
        result = command('migrate', 'file://' + self.path, '--service',
                         'tasks', '--timezone', self.zone)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.open()
        self.assertEqual(self.created(), self.now - 3000)

    def test_migrate_in_the_zone_of_TZ(self):
        self.close()
        result = command('migrate', 'file://' + self.path, '--service',
                         'tasks', env={'TZ': self.zone})
        self.assertEqual(result.returncode, 0, result.stderr)
        self.open()
        self.assertEqual(self.created(), self.now - 3000)

    def test_another_zone_gives_other_instants(self):
        from z3c.taskqueue.model import _migration
        _migration.migrate(self.service, 'Asia/Tokyo')
        self.assertEqual(self.created(), self.now - 3000 - 14 * 3600)


class PicklerTests(unittest.TestCase):
    """The generator writes what Python 2 wrote."""

    def test_protocol_2_as_cpickle_wrote_it(self):
        # The Python 2 record of zodbupdate's own tests, less the set.
        from z3c.taskqueue.tests._py2db import Global
        from z3c.taskqueue.tests._py2db import Pickler
        from z3c.taskqueue.tests._py2db import Str
        self.assertEqual(
            Pickler(2).record(Global('module1', 'Factory'),
                              {Str(b'favourite_numbers'): 170}),
            b'\x80\x02cmodule1\nFactory\nq\x01.'
            b'\x80\x02}q\x02U\x11favourite_numbersq\x03K\xaas.')

    def test_strings_datetimes_and_references(self):
        from z3c.taskqueue.tests._py2db import DateTime
        from z3c.taskqueue.tests._py2db import Global
        from z3c.taskqueue.tests._py2db import Pickler
        from z3c.taskqueue.tests._py2db import Ref
        from z3c.taskqueue.tests._py2db import Str
        cls = Global('m', 'C')
        state = (Str(b'caf\xe9'), '\xfc',
                 DateTime(datetime.datetime(2018, 12, 12)),
                 Ref(b'\0' * 7 + b'\2', cls))
        self.assertEqual(
            Pickler(1).record(cls, state),
            b'cm\nC\nq\x01.'
            b'(U\x04caf\xe9q\x02X\x02\x00\x00\x00\xc3\xbcq\x03'
            b'cdatetime\ndatetime\nq\x04'
            b'(U\n\x07\xe2\x0c\x0c\x00\x00\x00\x00\x00\x00q\x05tq\x06'
            b'Rq\x07(U\x08\x00\x00\x00\x00\x00\x00\x00\x02q\x08h\x01tq\x09'
            b'Qtq\x0a.')
        # Protocol 3 (ZODB 5.4 on Python 2): the oid is binary.
        self.assertIn(b'C\x08\x00\x00\x00\x00\x00\x00\x00\x02',
                      Pickler(3).record(cls, state))

    def test_the_file_is_a_python_2_filestorage(self):
        from ZODB.FileStorage.FileStorage import FileStorageFormatError
        directory = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, directory)
        path = os.path.join(directory, 'Data.fs')
        _py2db.oldService(path, 1)
        with open(path, 'rb') as f:
            self.assertEqual(f.read(4), b'FS21')
        self.assertFalse(os.path.exists(path + '.index'))
        with self.assertRaises(FileStorageFormatError):
            ZODB.FileStorage.FileStorage(path, read_only=True)


class Layout0Tests(unittest.TestCase):
    """The parts of the migration that the databases above do not show."""

    def test_errors_become_text(self):
        from ZODB.broken import find_global
        from z3c.taskqueue.model._layout0 import errorText
        self.assertEqual(errorText(b'caf\xc3\xa9'), 'caf\xe9')
        self.assertEqual(errorText(b'caf\xe9'), 'caf\xe9')
        self.assertEqual(errorText(ValueError(b'caf\xe9')), 'caf\xe9')
        self.assertEqual(errorText(ValueError('a', 2)), "('a', 2)")
        self.assertEqual(errorText(KeyError()), 'KeyError')
        gone = find_global('no.such.module', 'GoneError')
        self.assertEqual(errorText(gone(b'it is gone')), 'it is gone')

    def test_naive_times_are_read_in_the_zone_given(self):
        import zoneinfo
        from z3c.taskqueue.model._layout0 import toUTC
        naive = datetime.datetime(2020, 7, 1, 12, 0)
        self.assertEqual(
            toUTC(naive, zoneinfo.ZoneInfo('Europe/Berlin')),
            datetime.datetime(2020, 7, 1, 10, 0, tzinfo=datetime.timezone.utc))
        self.assertEqual(toUTC(naive), naive.astimezone(
            datetime.timezone.utc))
        self.assertIsNone(toUTC(None))

    def test_old_queues_are_read_as_zc_queue_left_them(self):
        from ZODB.broken import find_global
        from ZODB.broken import persistentBroken
        from z3c.taskqueue.model._layout0 import OldQueue
        from z3c.taskqueue.model._layout0 import queueItems
        from z3c.taskqueue.model.job import Job
        jobs = [Job(i, 'echo', None) for i in range(3)]
        # zc.queue not installed and not renamed: a broken object.
        broken = persistentBroken(find_global('zc.queue._queue', 'Queue'))()
        broken.__setstate__({'_data': (jobs[1], jobs[0])})
        self.assertEqual(queueItems(broken), [jobs[1], jobs[0]])
        # A CompositeQueue: queues of jobs, in order.
        first, second, composite = OldQueue(), OldQueue(), OldQueue()
        first.__setstate__({'_data': (jobs[2],)})
        second.__setstate__({'_data': (jobs[0], jobs[1])})
        composite.__setstate__({'_data': (first, second),
                                'compositeSize': 15})
        self.assertEqual(list(composite), [jobs[2], jobs[0], jobs[1]])
        self.assertEqual(len(composite), 3)
        self.assertEqual(queueItems(None), [])

    def test_zc_queue_is_renamed_only_where_it_is_not_installed(self):
        from z3c.taskqueue.model import _zodbupdate
        renamed = {name for name in _zodbupdate.renames
                   if name.startswith('zc.queue.')}
        if _zodbupdate.zcQueueInstalled():
            self.assertEqual(renamed, set())
        else:
            self.assertEqual(len(renamed), 5)
        self.assertNotIn('z3c.taskqueue.model.job Job error',
                         _zodbupdate.decodes)


def test_suite():
    return unittest.defaultTestLoader.loadTestsFromName(__name__)
