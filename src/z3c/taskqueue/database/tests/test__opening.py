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

    def assertRefused(self, text, message):
        from z3c.taskqueue.database._opening import CommandError
        from z3c.taskqueue.database._opening import parsePath
        with self.assertRaises(CommandError) as raised:
            parsePath(text)
        self.assertTrue(str(raised.exception).startswith(message),
                        str(raised.exception))

    def test_a_path_that_names_nothing_is_refused_naming_the_option(self):
        self.assertRefused(' / ', "--service: '/' names no service: give a"
                           " path such as tasks")

    def test_a_site_path_without_a_name_is_refused(self):
        self.assertRefused('site1@', "--service: 'site1@' is not site@name")


class FindServiceTests(unittest.TestCase):

    def setUp(self):
        self.db = openFileStorageDB(self)

    def assertRefused(self, path, message):
        """Assert that ``findService()`` refuses ``path`` saying
        ``message``, and leaves no connection open."""
        from z3c.taskqueue.database._opening import CommandError
        from z3c.taskqueue.database._opening import findService
        with self.assertRaises(CommandError) as raised:
            findService(self.db, path)
        self.assertEqual(str(raised.exception), message)
        self.assertEqual([c for c in self.db.pool.all if c.opened], [])

    def test_an_object_that_is_no_task_service_is_refused(self):
        import persistent.mapping
        connection = self.db.open()
        connection.root()['tasks'] = persistent.mapping.PersistentMapping(
            ('item %d' % number, number) for number in range(1000))
        transaction.commit()
        connection.close()
        self.assertRefused(['tasks'],
                           'tasks is not a task service but a'
                           ' PersistentMapping')

    def test_a_missing_service_says_how_to_create_one(self):
        self.assertRefused(['tasks'], "no task service at 'tasks' (create"
                           " one with: z3c-taskqueue init)")


def test_suite():
    return unittest.defaultTestLoader.loadTestsFromName(__name__)
