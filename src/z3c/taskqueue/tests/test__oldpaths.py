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
"""The old module paths: the public modules and those of stored classes
that moved into layers import under their old names, and a database
written before the move loads and runs, with or without zodbupdate's
rename map applied."""
import importlib
import io
import os
import pickletools
import shutil
import subprocess
import sys
import tempfile
import unittest

import transaction
import zope.component
import zope.component.testing

from z3c.taskqueue import tests
from z3c.taskqueue.tests._support import installed


FIXTURE = os.path.join(os.path.dirname(tests.__file__), 'fixtures',
                       'layout2.fs')

#: The modules that need Zope or Plone to import.
NEEDS = {'z3c.taskqueue.controlpanel': 'Products.CMFPlone',
         'z3c.taskqueue.zmi': 'Products.Five',
         'z3c.taskqueue.views': 'Products.Five'}


def globals_(path):
    """Return the ``module name`` pairs the current records of the
    FileStorage ``path`` name (their classes and those of their
    references)."""
    import ZODB.FileStorage
    storage = ZODB.FileStorage.FileStorage(path, read_only=True)
    found = set()
    try:
        oids = {record.oid for txn in storage.iterator() for record in txn}
        for oid in oids:
            data, serial = storage.load(oid)
            found.update(_pickleGlobals(data))
    finally:
        storage.close()
    return found


def _pickleGlobals(data):
    # A record is two pickles: its class, then its state.
    stream = io.BytesIO(data)
    for unused in range(2):
        strings = []
        for op, arg, pos in pickletools.genops(stream):
            if op.name in ('SHORT_BINUNICODE', 'BINUNICODE', 'UNICODE'):
                strings.append(arg)
            elif op.name == 'STACK_GLOBAL':
                yield ' '.join(strings[-2:])
            elif op.name == 'GLOBAL':
                yield arg


class OldPathTests(unittest.TestCase):

    def test_every_old_path_is_the_module_that_holds_its_code(self):
        from z3c.taskqueue._oldpaths import MOVED
        for old, new in MOVED.items():
            if old in NEEDS and not installed(NEEDS[old]):
                continue
            with self.subTest(old):
                self.assertIs(importlib.import_module(old),
                              importlib.import_module(new))

    def test_the_old_public_names_import(self):
        from z3c.taskqueue.command import CommandError
        from z3c.taskqueue.command import main
        from z3c.taskqueue.job import Job
        from z3c.taskqueue.processing.processor import MultiProcessor
        from z3c.taskqueue.processor import MultiProcessor as Old
        from z3c.taskqueue.service import TaskService
        from z3c.taskqueue.startup import storeDBReference
        import z3c.taskqueue
        self.assertIs(Old, MultiProcessor)
        self.assertIs(TaskService, z3c.taskqueue.TaskService)
        self.assertIs(Job, z3c.taskqueue.Job)
        self.assertTrue(callable(main) and callable(storeDBReference))
        self.assertTrue(issubclass(CommandError, Exception))

    def test_an_older_install_s_console_script_still_finds_main(self):
        # A script pip wrote before the move names the old path.
        import pkgutil
        from z3c.taskqueue.commands.command import main
        self.assertIs(pkgutil.resolve_name('z3c.taskqueue.command:main'),
                      main)

    def test_an_old_path_in_a_fresh_process(self):
        # Nothing imported beforehand: the finder answers for the old
        # path as the package is imported.
        result = subprocess.run(
            [sys.executable, '-c', 'import z3c.taskqueue.processor as p;'
             ' print(p.__name__, p.SimpleProcessor.__module__)'],
            capture_output=True, text=True, timeout=60)
        self.assertEqual(result.stdout.split(), [
            'z3c.taskqueue.processing.processor',
            'z3c.taskqueue.processing.processor'], result.stderr)

    def test_a_name_that_never_existed_is_still_an_error(self):
        with self.assertRaises(ModuleNotFoundError):
            importlib.import_module('z3c.taskqueue.nosuchmodule')


class OldDatabaseTests(unittest.TestCase):
    """``layout2.fs`` was written by the flat layout (make_layout2.py)."""

    def setUp(self):
        from z3c.taskqueue.model.task import SimpleTask
        zope.component.testing.setUp(self)
        for name in ('echo', 'fail'):
            zope.component.provideUtility(
                SimpleTask(lambda input: input), name=name)
        self.directory = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.directory)
        self.path = os.path.join(self.directory, 'Data.fs')
        shutil.copy(FIXTURE, self.path)

    def tearDown(self):
        transaction.abort()
        zope.component.testing.tearDown(self)

    def open(self):
        import ZODB
        import ZODB.FileStorage
        db = ZODB.DB(ZODB.FileStorage.FileStorage(self.path))
        self.addCleanup(db.close)
        connection = db.open()
        self.addCleanup(connection.close)
        return connection.root()

    def test_the_fixture_names_the_old_paths(self):
        names = globals_(self.path)
        self.assertIn('z3c.taskqueue.job Job', names)
        self.assertIn('z3c.taskqueue.processor MultiProcessor', names)
        self.assertFalse([name for name in names if '.model.' in name])

    def test_it_loads_and_runs_after_the_move(self):
        self.loadAndRun()

    def test_it_loads_and_runs_after_zodbupdate_renamed_its_classes(self):
        from z3c.taskqueue.model import _zodbupdate
        result = subprocess.run(
            [os.path.join(os.path.dirname(sys.executable), 'zodbupdate'),
             '-f', self.path], capture_output=True, text=True, timeout=300)
        self.assertEqual(result.returncode, 0, result.stderr)
        names = globals_(self.path)
        # The records zodbupdate rewrote name the new paths only.
        self.assertEqual(names & set(_zodbupdate.renames), set())
        self.assertIn('z3c.taskqueue.model.job Job', names)
        self.assertIn('z3c.taskqueue.processing.processor MultiProcessor',
                      names)
        self.loadAndRun()

    def loadAndRun(self):
        from z3c.taskqueue import interfaces
        from z3c.taskqueue.model.job import Job
        from z3c.taskqueue.processing.processor import MultiProcessor
        from z3c.taskqueue.model.retry import RetryPolicy
        root = self.open()
        service, ids = root['service'], root['ids']
        self.assertIs(service.processorFactory, MultiProcessor)
        self.assertIsInstance(root['policy'], RetryPolicy)
        for jobid, status in root['statuses'].items():
            self.assertIsInstance(service.jobs[jobid], Job)
            self.assertEqual(service.getStatus(jobid), status)
        self.assertEqual(service.getResult(ids['completed']), 'DONE')
        self.assertEqual(service.getProgress(ids['processing']),
                         (0.5, 'half way'))
        self.assertEqual([record['name'] for record in
                          service.workers(now=2_000_000_000)],
                         ['lab-worker'])
        # Every queued job runs, the one that waited for 'first' too.
        new = service.add('echo', 'new')
        transaction.commit()
        while service.processNext():
            transaction.commit()
        for name in ('urgent', 'keyed', 'first', 'after', 'timeout',
                     'bytes'):
            self.assertEqual(service.getStatus(ids[name]),
                             interfaces.COMPLETED, name)
        # Its start deadline, an hour after it was added, is long past.
        self.assertEqual(service.getStatus(ids['expires']),
                         interfaces.CANCELLED)
        self.assertTrue(service.getError(ids['expires']).startswith(
            'expired'))
        self.assertEqual(service.getResult(ids['bytes']), b'\0' * 5000)
        self.assertEqual(service.getResult(new), 'new')
        self.assertEqual(service.getStatus(ids['startlater']),
                         interfaces.STARTLATER)
        # A job added now is written under the new path.
        self.assertEqual(type(service.jobs[new]).__module__,
                         'z3c.taskqueue.model.job')
