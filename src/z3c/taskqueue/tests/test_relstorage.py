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
"""Worker processes on RelStorage and PostgreSQL: exactly once, kill -9."""
import getpass
import os
import subprocess
import sys
import unittest

from z3c.taskqueue.tests._workers import WorkerProcessTests


# A PostgreSQL database that the tests may erase, as a libpq connection
# string (a postgresql:// URI works too), for example
#
#     TASKQUEUE_PG_DSN='host=127.0.0.1 port=5432 dbname=taskqueue user=me'
#
# It must name a TCP host: the workers open the database by RelStorage's
# postgres://user@host:port/dbname URI, which cannot name a socket
# directory.  Each test drops RelStorage's tables and starts afresh.
DSN = os.environ.get('TASKQUEUE_PG_DSN', '').strip()
SKIPPED = 'TASKQUEUE_PG_DSN is not set: RelStorage tests SKIPPED'
if not DSN:
    # A skip is easy to miss in a long run: say it where it shows.
    print('WARNING: %s (README.rst, "Development", tells how to run them)'
          % SKIPPED, file=sys.stderr)

def relStorageURI(dsn, keepHistory):
    """Return RelStorage's zodburi URI for the database ``dsn`` names."""
    from psycopg2.extensions import parse_dsn
    params = parse_dsn(dsn)
    host = params.get('host', 'localhost')
    if host.startswith('/') or ',' in host:
        raise ValueError(
            'TASKQUEUE_PG_DSN must name one TCP host (host=127.0.0.1), not'
            ' %r: the postgres:// URI cannot name a socket directory' % host)
    # RelStorage's resolver turns what the URI lacks into 'None' in its
    # DSN (user='None'), so spell out libpq's defaults.
    user = params.get('user') or getpass.getuser()
    login = user
    if 'password' in params:
        login += ':' + params['password']
    return 'postgres://%s@%s:%s/%s?keep_history=%s' % (
        login, host, params.get('port', '5432'), params.get('dbname', user),
        'true' if keepHistory else 'false')


@unittest.skipUnless(DSN, SKIPPED)
class RelStorageWorkerTests(WorkerProcessTests, unittest.TestCase):
    """Worker processes on one RelStorage database, history free."""

    keepHistory = False

    def openDatabase(self):
        """Open a fresh RelStorage database: drop what earlier runs left,
        whether history free or not, and let RelStorage create its
        schema again."""
        import ZODB
        from relstorage.adapters.postgresql import PostgreSQLAdapter
        from relstorage.options import Options
        from relstorage.storage import RelStorage
        self.uri = relStorageURI(DSN, self.keepHistory)
        options = Options(keep_history=self.keepHistory)
        PostgreSQLAdapter(dsn=DSN, options=options).schema.drop_all()
        adapter = PostgreSQLAdapter(dsn=DSN, options=options)
        return ZODB.DB(RelStorage(adapter, options=options))

    def test_status_command_reads_the_database_by_uri(self):
        from z3c.taskqueue import testing
        self.addJobs(3)
        output = subprocess.run(
            testing.workerCommand() + [
                'status', self.uri, '--service', 'tasks'],
            capture_output=True, text=True, timeout=60)
        self.assertEqual(output.returncode, 0, output.stderr)
        self.assertIn('queued       3\n', output.stdout)


class HistoryPreservingWorkerTests(RelStorageWorkerTests):
    """The same on a history-preserving database, RelStorage's default."""

    keepHistory = True
