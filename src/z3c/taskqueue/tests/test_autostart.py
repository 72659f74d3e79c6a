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

import persistent
import zope.component.testing
from zope.component.persistentregistry import PersistentComponents
from zope.testing.loggingsupport import InstalledHandler

from z3c.taskqueue.tests._support import openConnection
from z3c.taskqueue.tests._support import openFileStorageDB


class Site(persistent.Persistent):
    """A site as Zope stores it: an object with a persistent registry."""

    def __init__(self, name):
        self.__name__ = name
        self.registry = PersistentComponents(name)
        self.registry.__parent__ = self
        self.registry.__name__ = '++etc++site'

    def getSiteManager(self):
        return self.registry


class Folder(persistent.mapping.PersistentMapping):
    __name__ = __parent__ = None

    def getSiteManager(self):
        return self.registry


class GetAutostartServiceNamesTests(unittest.TestCase):

    def _callFUT(self, config):
        from z3c.taskqueue.autostart import getAutostartServiceNames
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
        self.assertEqual(self._callFUT({'autostart': 'tasks, s@t'}),
                         [('s', 't')])
        self.assertIn("'tasks'", handler.records[0].getMessage())


class StartServicesTests(unittest.TestCase):

    def setUp(self):
        from z3c.taskqueue import interfaces
        from z3c.taskqueue.service import TaskService
        zope.component.testing.setUp(self)
        self.addCleanup(zope.component.testing.tearDown, self)
        self.db = openFileStorageDB(self)
        connection, tm = openConnection(self, self.db)
        root = connection.root()
        root['Application'] = folder = Folder()
        for siteName, serviceNames in (('site1', ('tasks', 'mail')),
                                       ('site2', ('tasks',))):
            folder[siteName] = site = Site(siteName)
            site.__parent__ = folder
            for name in serviceNames:
                service = TaskService()
                service.__parent__ = site.registry
                service.__name__ = name
                site.registry.registerUtility(
                    service, interfaces.ITaskService, name)
                setattr(site.registry, name, service)
        folder['plain'] = persistent.mapping.PersistentMapping()
        tm.commit()
        from z3c.taskqueue import processor
        self.addCleanup(processor.stopAll)
        self.log = InstalledHandler('z3c.taskqueue', level=logging.ERROR)
        self.addCleanup(self.log.uninstall)

    def _callFUT(self, names):
        from z3c.taskqueue.autostart import startServices
        return startServices(self.db, names)

    def running(self):
        import threading
        return sorted(t.name for t in threading.enumerate()
                      if t.name.startswith('taskqueue.')
                      and not t.name.endswith('.leases'))

    def test_one_service_of_one_site(self):
        self.assertEqual(self._callFUT([('site1', 'tasks')]), 1)
        self.assertEqual(self.running(),
                         ['taskqueue.Application.site1.++etc++site.tasks'])

    def test_stars_start_every_service_of_every_site(self):
        self.assertEqual(self._callFUT([('*', '*')]), 3)
        self.assertEqual(len(self.running()), 3)

    def test_missing_sites_and_services_are_logged_not_fatal(self):
        started = self._callFUT([('nosuchsite', 'tasks'),
                                 ('site2', 'nosuchservice'),
                                 ('plain', 'tasks'),
                                 ('site2', 'tasks')])
        self.assertEqual(started, 1)
        messages = [record.getMessage() for record in self.log.records]
        self.assertEqual(len(messages), 3, messages)
        self.assertIn("no site 'nosuchsite'", messages[0])
        self.assertIn("no task service 'nosuchservice'", messages[1])
        self.assertIn("no site 'plain'", messages[2])

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
        from z3c.taskqueue.task import SimpleTask
        zope.component.provideUtility(SimpleTask(str.upper), name='upper')
        connection, tm = openConnection(self, self.db)
        service = connection.root()['Application']['site2'].registry.tasks
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
        from z3c.taskqueue import autostart
        configured = {'autostart': 'site2@tasks'}
        original = autostart.productConfiguration
        autostart.productConfiguration = lambda: configured
        self.addCleanup(setattr, autostart, 'productConfiguration',
                        original)
        autostart.startServicesOnOpen(DatabaseOpenedWithRoot(self.db))
        self.assertEqual(self.running(),
                         ['taskqueue.Application.site2.++etc++site.tasks'])
