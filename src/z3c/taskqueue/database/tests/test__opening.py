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
"""A bad ``--service`` is one ``CommandError`` that names the problem."""
import unittest

import transaction

from z3c.taskqueue.tests._support import openFileStorageDB


class ServicePathTests(unittest.TestCase):

    def _callFUT(self, text):
        from z3c.taskqueue.database._opening import parsePath
        return parsePath(text)

    def test_a_path_that_names_nothing_is_refused_naming_the_option(self):
        from z3c.taskqueue.database._opening import CommandError
        with self.assertRaises(CommandError) as raised:
            self._callFUT(' / ')
        self.assertTrue(str(raised.exception).startswith(
            "--service: '/' names no service: give a path such as tasks"),
            str(raised.exception))

    def test_a_site_path_without_a_name_is_refused(self):
        from z3c.taskqueue.database._opening import CommandError
        with self.assertRaises(CommandError) as raised:
            self._callFUT('site1@')
        self.assertTrue(str(raised.exception).startswith(
            "--service: 'site1@' is not site@name"), str(raised.exception))


class FindServiceTests(unittest.TestCase):

    def setUp(self):
        self.db = openFileStorageDB(self)

    def _callFUT(self, path):
        from z3c.taskqueue.database._opening import findService
        return findService(self.db, path)

    def openConnections(self):
        return [c for c in self.db.pool.all if c.opened]

    def test_an_object_that_is_no_task_service_is_refused(self):
        import persistent.mapping
        from z3c.taskqueue.database._opening import CommandError
        connection = self.db.open()
        connection.root()['tasks'] = persistent.mapping.PersistentMapping(
            ('item %d' % number, number) for number in range(1000))
        transaction.commit()
        connection.close()
        with self.assertRaises(CommandError) as raised:
            self._callFUT(['tasks'])
        self.assertEqual(str(raised.exception),
                         'tasks is not a task service but a'
                         ' PersistentMapping')
        self.assertEqual(self.openConnections(), [])

    def test_a_missing_service_says_how_to_create_one(self):
        from z3c.taskqueue.database._opening import CommandError
        with self.assertRaises(CommandError) as raised:
            self._callFUT(['tasks'])
        self.assertEqual(str(raised.exception),
                         "no task service at 'tasks' (create one with:"
                         " z3c-taskqueue init)")
        self.assertEqual(self.openConnections(), [])


def test_suite():
    return unittest.defaultTestLoader.loadTestsFromName(__name__)
