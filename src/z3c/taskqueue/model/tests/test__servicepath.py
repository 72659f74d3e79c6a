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
"""Service paths in a real database of zope.site sites: found, made, and
refused with an error that names what is missing."""
import unittest

import persistent
import persistent.mapping
import zope.interface

from z3c.taskqueue import interfaces
from z3c.taskqueue.model.tests._base import InDatabaseTestBase
from z3c.taskqueue.tests._support import openConnection


class ServicePathTestBase(InDatabaseTestBase):
    """A database whose root holds a service (``service``) and Zope's
    root folder (zope.site's)."""

    def setUp(self):
        from zope.site.folder import rootFolder
        super().setUp()
        self.root['Application'] = self.folder = rootFolder()

    def makeSite(self, container, name):
        from zope.site.folder import Folder
        from zope.site.site import LocalSiteManager
        container[name] = site = Folder()
        site.setSiteManager(LocalSiteManager(site))
        return site

    def register(self, site, name='tasks', located=True):
        """Register a new task service as the utility ``name`` of
        ``site``; ``located``: stored in the site manager's ``default``
        folder, as the ZMI does, else in the registry alone."""
        from z3c.taskqueue.model.service import TaskService
        service = TaskService()
        siteManager = site.getSiteManager()
        if located:
            siteManager['default'][name] = service
        siteManager.registerUtility(service, interfaces.ITaskService, name)
        self.tm.commit()
        return service

    def enterSite(self, site):
        from zope.component.hooks import setSite
        setSite(site)
        self.addCleanup(setSite, None)


class FindServiceTests(ServicePathTestBase):

    def _callFUT(self, path):
        from z3c.taskqueue.model._servicepath import findService
        return findService(self.root, path)

    def assertNotFound(self, path, message):
        with self.assertRaises(LookupError) as raised:
            self._callFUT(path)
        self.assertEqual(str(raised.exception), message)

    def test_a_name_alone_is_a_key_of_the_database_root(self):
        self.assertIs(self._callFUT('service'), self.service)

    def test_keys_not_in_the_database_root_start_at_the_root_folder(self):
        # As the old package's paths did.
        service = self.register(self.makeSite(self.folder, 'site1'))
        self.assertIs(
            self._callFUT(['site1', '++etc++site', 'default', 'tasks']),
            service)

    def test_a_site_path_to_a_folder_that_is_no_site(self):
        from zope.site.folder import Folder
        self.folder['plain'] = Folder()
        self.assertNotFound('plain@tasks', "'plain' is not a site")

    def test_a_site_without_a_task_service_of_that_name(self):
        site = self.makeSite(self.folder, 'site1')
        self.register(site)
        # A utility of that name that is no task service does not count.
        site.getSiteManager().registerUtility(
            persistent.mapping.PersistentMapping(), zope.interface.Interface,
            name='other')
        self.assertNotFound('site1@other',
                            "site 'site1' has no task service 'other'")


class ParsePathTests(unittest.TestCase):

    def test_the_wildcard_of_autostart_names_no_service(self):
        from z3c.taskqueue.model._servicepath import parsePath
        with self.assertRaises(ValueError) as raised:
            parsePath('*@tasks')
        self.assertIn("'*@tasks' is not site@name", str(raised.exception))


class ServicePathTests(ServicePathTestBase):

    def _callFUT(self, service):
        from z3c.taskqueue.model._servicepath import servicePath
        return servicePath(service)

    def assertNoPath(self, service, message):
        with self.assertRaises(ValueError) as raised:
            self._callFUT(service)
        self.assertIn(message, str(raised.exception))

    def test_a_service_that_is_not_stored_has_none(self):
        from z3c.taskqueue.model.service import TaskService
        self.assertNoPath(TaskService(), 'the task service is not stored in'
                          ' a database: store it')

    def test_a_utility_of_a_site_above_the_current_one(self):
        site = self.makeSite(self.folder, 'site1')
        service = self.register(site)
        self.enterSite(self.makeSite(site, 'sub'))
        self.assertEqual(self._callFUT(service), 'site1@tasks')

    def test_the_current_site_finds_the_service_of_another_connection(self):
        site = self.makeSite(self.folder, 'site1')
        service = self.register(site)
        other, unused = openConnection(self, self.db)
        self.enterSite(other.root()['Application']['site1'])
        self.assertEqual(self._callFUT(service), 'site1@tasks')

    def test_an_unplaced_utility_is_found_in_the_root_folders_sites(self):
        # Stored in the registry alone, with no __parent__, as OFS sites
        # keep their utilities; found with no site current.
        self.makeSite(self.folder, 'site0')
        site = self.makeSite(self.folder, 'site1')
        self.register(site, 'first', located=False)
        service = self.register(site, located=False)
        self.assertEqual(self._callFUT(service), 'site1@tasks')

    def test_a_service_with_a_parent_but_no_name_is_not_guessed_at(self):
        from z3c.taskqueue.model.service import TaskService
        self.folder['box'] = box = TaskService()
        box.__name__ = None
        self.tm.commit()
        self.assertNoPath(box, 'cannot find the task service')

    def test_a_root_folder_that_is_no_container_is_passed_over(self):
        from z3c.taskqueue.model.service import TaskService
        self.root['Application'] = persistent.Persistent()
        self.root['box'] = {'tasks': TaskService()}
        self.tm.commit()
        self.assertNoPath(self.root['box']['tasks'],
                          'cannot find the task service')


def test_suite():
    return unittest.defaultTestLoader.loadTestsFromName(__name__)
