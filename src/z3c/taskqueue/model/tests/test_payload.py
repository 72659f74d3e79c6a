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
"""Payloads on real FileStorages: the errors that name what cannot be
loaded or stored, and inputs that refer to another database."""
import os
import shutil
import tempfile
import unittest

from z3c.taskqueue.model.tests._base import InDatabaseTestBase
from z3c.taskqueue.model.tests._base import ServiceTestBase
from z3c.taskqueue.tests._support import openConnection


_broken = {'now': False}


def rebuild(text):
    """Unpickles a ``Rebuilt``, until ``_broken['now']``."""
    if _broken['now']:
        raise ValueError('rebuild no longer takes %r' % (text,))
    return Rebuilt(text)


class Rebuilt:
    """Pickled as a call of a factory function, as many values are."""

    def __init__(self, text):
        self.text = text

    def __reduce__(self):
        return rebuild, (self.text,)


class Unprintable(Exception):

    def __str__(self):
        raise RuntimeError('no text')


class Unpicklable:

    def __reduce__(self):
        raise Unprintable()


class PayloadTests(InDatabaseTestBase):

    def test_a_stored_payload_is_shown_with_the_number_of_its_record(self):
        from z3c.taskqueue.model.payload import Payload
        jobid = self.service.add('echo', 'x' * 101)
        self.tm.commit()
        payload = self.service.jobs[jobid]._input
        self.assertIsInstance(payload, Payload)
        self.assertEqual(repr(payload), '<Payload at %d>'
                         % int.from_bytes(payload._p_oid, 'big'))
        self.assertEqual(repr(Payload('x')), '<Payload at None>')

    def test_an_input_whose_factory_fails_names_the_function(self):
        from z3c.taskqueue.interfaces import PayloadError
        jobid = self.service.add('echo', [Rebuilt('a')])
        self.tm.commit()
        _broken['now'] = True
        self.addCleanup(_broken.update, now=False)
        job = self._reopen()['service'].jobs[jobid]
        with self.assertRaises(PayloadError) as raised:
            job.input
        self.assertEqual(
            str(raised.exception), "the input of job %r cannot be loaded:"
            " ValueError: rebuild no longer takes 'a' (in %s.rebuild)"
            % (jobid, __name__))

    def test_an_error_without_text_still_refuses_the_input(self):
        with self.assertRaises(TypeError) as raised:
            self.service.add('echo', [Unpicklable()])
        self.assertEqual(str(raised.exception),
                         "the input of task 'echo' cannot be stored in the"
                         " database: Unprintable: <the message cannot be"
                         " shown>")
        self.assertEqual(len(self.service.jobs), 0)


class MultiDatabaseTests(ServiceTestBase):
    """The service's database, ``main``, is one of a multi-database with
    ``other``."""

    def setUp(self):
        super().setUp()
        self._registerTask('echo')
        self.main = self.openDB('main', {})
        self.conn, self.tm = openConnection(self, self.main)
        self.conn.root()['service'] = self.service = self._makeOne()
        self.tm.commit()

    def openDB(self, name, databases):
        import ZODB
        import ZODB.FileStorage
        directory = tempfile.mkdtemp(prefix='z3c.taskqueue-')
        self.addCleanup(shutil.rmtree, directory)
        db = ZODB.DB(ZODB.FileStorage.FileStorage(
            os.path.join(directory, 'Data.fs')), databases=databases,
            database_name=name)
        self.addCleanup(db.close)
        return db

    def storeIn(self, db):
        """Store a document in ``db`` and return it: through the
        service's connection if ``db`` is of its multi-database."""
        from persistent.mapping import PersistentMapping
        if db.databases is self.main.databases:
            root = self.conn.get_connection(db.database_name).root()
            manager = self.tm
        else:
            connection, manager = openConnection(self, db)
            root = connection.root()
        root['doc'] = doc = PersistentMapping(title='report')
        manager.commit()
        return doc

    def test_an_object_of_the_other_database_is_stored_by_reference(self):
        doc = self.storeIn(self.openDB('other', self.main.databases))
        jobid = self.service.add('echo', {'doc': doc})
        self.tm.commit()
        connection, unused = openConnection(self, self.main)
        loaded = connection.root()['service'].jobs[jobid].input['doc']
        self.assertEqual(loaded['title'], 'report')
        self.assertEqual(loaded._p_jar.db().database_name, 'other')

    def test_an_object_of_a_database_outside_it_is_refused(self):
        doc = self.storeIn(self.openDB('outside', {}))
        with self.assertRaises(TypeError) as raised:
            self.service.add('echo', {'doc': doc})
        self.assertIn('is stored in another database or through another'
                      ' connection than the task service',
                      str(raised.exception))
        self.assertEqual(len(self.service.jobs), 0)


def test_suite():
    return unittest.defaultTestLoader.loadTestsFromName(__name__)
