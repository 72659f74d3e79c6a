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
"""Autostart: services named in the product configuration start robustly."""
import logging
import unittest

import zope.component.testing
from zope.testing.loggingsupport import InstalledHandler

from z3c.taskqueue.tests._support import openConnection
from z3c.taskqueue.tests._support import openFileStorageDB


def makeSite(folder):
    """Make ``folder`` a site, as zope.site does (ZMI "Make site" does the
    same for an OFS folder; the Zope layer tests that)."""
    from zope.site.site import LocalSiteManager
    folder.setSiteManager(LocalSiteManager(folder))
    return folder.getSiteManager()


class GetAutostartServiceNamesTests(unittest.TestCase):

    def _callFUT(self, config):
        from z3c.taskqueue.zope.autostart import getAutostartServiceNames
        return getAutostartServiceNames(config)

    def test_entries_are_split_and_stripped(self):
        self.assertEqual(
            self._callFUT({'autostart': ' site1@tasks , *@*,@mail '}),
            [('site1', 'tasks'), ('*', '*'), ('', 'mail')])

    def test_no_configuration_means_nothing_to_start(self):
        self.assertEqual(self._callFUT({}), [])
        self.assertEqual(self._callFUT({'autostart': ''}), [])

    def test_an_entry_without_at_is_logged_and_skipped(self):
        handler = InstalledHandler('z3c.taskqueue')
        self.addCleanup(handler.uninstall)
        self.assertEqual(self._callFUT({'autostart': 'tasks, s@t, x@'}),
                         [('s', 't')])
        messages = [record.getMessage() for record in handler.records]
        self.assertEqual(len(messages), 2)
        self.assertIn("'tasks'", messages[0])
        self.assertIn("'x@'", messages[1])

    def test_nested_sites_and_the_root_folder(self):
        self.assertEqual(
            self._callFUT({'autostart': 'Plone/sub@tasks, /site1/@tasks,'
                           ' @tasks'}),
            [('Plone/sub', 'tasks'), ('site1', 'tasks'), ('', 'tasks')])


class EnabledTests(unittest.TestCase):

    def _callFUT(self, environ, argv=('runwsgi',)):
        from z3c.taskqueue.zope.autostart import enabled
        return enabled(environ, list(argv))

    def test_on_by_default(self):
        self.assertTrue(self._callFUT({}))

    def test_off_in_zconsole_scripts(self):
        self.assertFalse(self._callFUT({}, ['/srv/bin/zconsole', 'run']))
        self.assertTrue(self._callFUT({'Z3C_TASKQUEUE_AUTOSTART': 'on'},
                                      ['/srv/bin/zconsole', 'run']))

    def test_the_switch(self):
        for value in ('off', 'No', 'false', '0'):
            self.assertFalse(
                self._callFUT({'Z3C_TASKQUEUE_AUTOSTART': value}), value)
        for value in ('on', 'YES', 'true', '1'):
            self.assertTrue(
                self._callFUT({'Z3C_TASKQUEUE_AUTOSTART': value}), value)


class StartServicesTests(unittest.TestCase):

    def setUp(self):
        from zope.site.folder import Folder
        from zope.site.folder import rootFolder
        from z3c.taskqueue import interfaces
        from z3c.taskqueue.model.service import TaskService
        zope.component.testing.setUp(self)
        self.addCleanup(zope.component.testing.tearDown, self)
        self.db = openFileStorageDB(self)
        connection, tm = openConnection(self, self.db)
        root = connection.root()
        root['Application'] = folder = rootFolder()
        self.services = {}
        for path, names in (('site1', ('tasks', 'mail')),
                            ('site2', ('tasks',)),
                            ('site2/sub', ('tasks',))):
            parent = folder
            for key in path.split('/')[:-1]:
                parent = parent[key]
            parent[path.split('/')[-1]] = site = Folder()
            registry = makeSite(site)
            for name in names:
                service = self.services[path + '@' + name] = TaskService()
                registry['default'][name] = service
                registry.registerUtility(
                    service, interfaces.ITaskService, name)
        folder['plain'] = Folder()
        tm.commit()
        from z3c.taskqueue.processing import processor
        self.addCleanup(processor.stopAll)
        self.log = InstalledHandler('z3c.taskqueue', level=logging.ERROR)
        self.addCleanup(self.log.uninstall)

    def _callFUT(self, names):
        from z3c.taskqueue.zope.autostart import startServices
        return startServices(self.db, names)

    def running(self):
        import threading
        return sorted(t.name for t in threading.enumerate()
                      if t.name.startswith('taskqueue.')
                      and not t.name.endswith('.leases'))

    def test_one_service_of_one_site(self):
        self.assertEqual(self._callFUT([('site1', 'tasks')]), 1)
        self.assertEqual(self.running(), ['taskqueue.site1@tasks'])

    def test_a_nested_site(self):
        self.assertEqual(self._callFUT([('site2/sub', 'tasks')]), 1)
        self.assertEqual(self.running(), ['taskqueue.site2/sub@tasks'])

    def test_stars_start_every_service_of_every_site_in_the_root(self):
        self.assertEqual(self._callFUT([('*', '*')]), 3)
        self.assertEqual(self.running(), [
            'taskqueue.site1@mail', 'taskqueue.site1@tasks',
            'taskqueue.site2@tasks'])
        self.assertEqual(self.log.records, [])

    def test_a_star_site_skips_sites_without_the_service(self):
        self.assertEqual(self._callFUT([('*', 'mail')]), 1)
        self.assertEqual(self.log.records, [])

    def test_missing_sites_and_services_are_logged_not_fatal(self):
        started = self._callFUT([('nosuchsite', 'tasks'),
                                 ('site2', 'nosuchservice'),
                                 ('plain', 'tasks'),
                                 ('*', 'nosuchservice'),
                                 ('site2', 'tasks')])
        self.assertEqual(started, 1)
        messages = [record.getMessage() for record in self.log.records]
        self.assertEqual(len(messages), 4, messages)
        self.assertIn("there is no 'nosuchsite'", messages[0])
        self.assertIn("no task service 'nosuchservice'", messages[1])
        self.assertIn("'plain' is not a site", messages[2])
        self.assertIn("no site has a task service 'nosuchservice'",
                      messages[3])
        self.assertEqual(self.running(), ['taskqueue.site2@tasks'])

    def test_the_subscriber_closes_its_connection(self):
        import threading
        opened = []
        original = self.db.open

        def open(*args, **kw):
            connection = original(*args, **kw)
            if threading.current_thread() is threading.main_thread():
                opened.append(connection)
            return connection
        self.db.open = open
        self.addCleanup(delattr, self.db, 'open')
        self._callFUT([('site1', 'tasks')])
        self.assertEqual(len(opened), 1)
        self.assertIsNone(opened[0].opened)    # closed again

    def test_started_services_process_their_jobs(self):
        import zope.component
        from zope.testing.wait import wait
        from z3c.taskqueue.model.task import SimpleTask
        zope.component.provideUtility(SimpleTask(str.upper), name='upper')
        connection, tm = openConnection(self, self.db)
        service = connection.root()['Application']['site2'] \
            .getSiteManager()['default']['tasks']
        jobid = service.add('upper', 'hello')
        tm.commit()
        self._callFUT([('site2', 'tasks')])

        def completed():
            tm.begin()
            return service.getStatus(jobid) == 'completed'
        wait(completed, timeout=30)
        self.assertEqual(service.getResult(jobid), 'HELLO')

    def test_the_subscriber_reads_the_product_configuration(self):
        from zope.processlifetime import DatabaseOpenedWithRoot
        from z3c.taskqueue.zope import autostart
        configured = {'autostart': 'site2@tasks'}
        original = autostart.productConfiguration
        autostart.productConfiguration = lambda: configured
        self.addCleanup(setattr, autostart, 'productConfiguration',
                        original)
        autostart.startServicesOnOpen(DatabaseOpenedWithRoot(self.db))
        self.assertEqual(self.running(), ['taskqueue.site2@tasks'])

    def test_the_switch_turns_the_subscriber_off(self):
        import os
        from unittest import mock
        from zope.processlifetime import DatabaseOpenedWithRoot
        from z3c.taskqueue.zope import autostart
        with mock.patch.object(autostart, 'productConfiguration',
                               lambda: {'autostart': 'site2@tasks'}), \
                mock.patch.dict(os.environ,
                                {'Z3C_TASKQUEUE_AUTOSTART': 'off'}):
            autostart.startServicesOnOpen(DatabaseOpenedWithRoot(self.db))
        self.assertEqual(self.running(), [])
