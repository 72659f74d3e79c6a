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
"""The key of the ZMI's tokens (``views.databaseKey``) on a real
database: made once, in a transaction of its own, and the same for every
process, even two that make it at once."""
import unittest
from unittest import mock

import transaction

from z3c.taskqueue.tests._support import openFileStorageDB


class DatabaseKeyTests(unittest.TestCase):

    def setUp(self):
        from z3c.taskqueue.zope import views
        self.views = views
        self.db = openFileStorageDB(self)
        self.addCleanup(views._keys.clear)

    def storedKey(self):
        manager = transaction.TransactionManager()
        connection = self.db.open(transaction_manager=manager)
        try:
            return connection.root().get(self.views.KEY_NAME)
        finally:
            manager.abort()
            connection.close()

    def forgetKeys(self):
        """What a new process knows: nothing."""
        self.views._keys.clear()

    def test_a_key_is_stored_once_and_read_by_the_next_process(self):
        key = self.views.databaseKey(self.db)
        self.assertEqual(len(key), 32)
        self.assertEqual(self.storedKey(), key)
        self.forgetKeys()
        self.assertEqual(self.views.databaseKey(self.db), key)

    def test_not_in_the_callers_transaction(self):
        manager = transaction.TransactionManager()
        connection = self.db.open(transaction_manager=manager)
        self.addCleanup(connection.close)
        connection.root()['mine'] = 1
        key = self.views.databaseKey(self.db)
        manager.abort()     # the caller's transaction is rolled back
        self.forgetKeys()
        self.assertEqual(self.storedKey(), key)
        self.assertEqual(self.views.databaseKey(self.db), key)

    def test_the_process_that_loses_the_race_takes_the_winners_key(self):
        winner = b'w' * 32
        real = self.views.secrets.token_bytes

        def otherProcessFirst(size):
            # Another process stores its key between our look and our
            # commit.
            if self.storedKey() is None:
                manager = transaction.TransactionManager()
                connection = self.db.open(transaction_manager=manager)
                connection.root()[self.views.KEY_NAME] = winner
                manager.commit()
                connection.close()
            return real(size)
        with mock.patch.object(self.views.secrets, 'token_bytes',
                               otherProcessFirst):
            self.assertEqual(self.views.databaseKey(self.db), winner)
        self.assertEqual(self.storedKey(), winner)

    def test_tokens_differ_by_user_and_by_database(self):
        from AccessControl.SecurityManagement import newSecurityManager
        from AccessControl.SecurityManagement import noSecurityManager
        from AccessControl.users import SimpleUser

        class Stored:
            def __init__(self, db):
                self._p_jar = mock.Mock(db=lambda: db)
        self.addCleanup(noSecurityManager)
        tokens = {}
        other = openFileStorageDB(self)
        for db in (self.db, other):
            for name in ('alice', 'bob'):
                newSecurityManager(None, SimpleUser(name, '', (), ()))
                tokens[db, name] = self.views.csrfToken(Stored(db))
        self.assertEqual(len(set(tokens.values())), 4)
        newSecurityManager(None, SimpleUser('alice', '', (), ()))
        self.forgetKeys()
        self.assertEqual(self.views.csrfToken(Stored(self.db)),
                         tokens[self.db, 'alice'])


def test_suite():
    return unittest.defaultTestLoader.loadTestsFromName(__name__)
