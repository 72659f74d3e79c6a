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
"""Job contexts outside Zope: a zope.site site and a zope.security
principal, found again by a real ``IAuthentication`` (the principal
registry); and how base URLs are read."""
import unittest

import zope.component
import zope.component.testing
import zope.interface
from zope.testing.wait import wait

from z3c.taskqueue import interfaces
from z3c.taskqueue.tests._support import openConnection
from z3c.taskqueue.tests._support import openFileStorageDB


@zope.interface.implementer(interfaces.ITask)
class Observe:
    """Returns the site and the principal the job ran with."""

    inputSchema = outputSchema = retryPolicy = runAs = None

    def __call__(self, service, jobid, input):
        from zope.component.hooks import getSite
        from zope.security.management import queryInteraction
        interaction = queryInteraction()
        principals = [] if interaction is None else [
            p.principal.id for p in interaction.participations]
        site = getSite()
        return {'site': None if site is None else site.__name__,
                'principals': principals}


class ZTKContextTests(unittest.TestCase):

    def setUp(self):
        from zope.authentication.interfaces import IAuthentication
        from zope.principalregistry.principalregistry import \
            principalRegistry
        from zope.site.folder import Folder
        from zope.site.folder import rootFolder
        from zope.site.site import LocalSiteManager
        from z3c.taskqueue.model.service import TaskService
        from z3c.taskqueue.processing import processor
        zope.component.testing.setUp(self)
        self.addCleanup(zope.component.testing.tearDown, self)
        self.addCleanup(processor.stopAll)
        principalRegistry.definePrincipal('alice', 'Alice')
        self.addCleanup(principalRegistry._clear)
        zope.component.provideUtility(principalRegistry, IAuthentication)
        zope.component.provideUtility(Observe(), name='observe')
        self.db = openFileStorageDB(self)
        self.connection, self.tm = openConnection(self, self.db)
        root = self.connection.root()
        root['Application'] = folder = rootFolder()
        folder['site1'] = site = Folder()
        site.setSiteManager(LocalSiteManager(site))
        self.service = site.getSiteManager()['default']['tasks'] = \
            TaskService()
        site.getSiteManager().registerUtility(
            self.service, interfaces.ITaskService, 'tasks')
        self.service.processorArguments = {'waitTime': 0.05}
        self.site = site
        self.tm.commit()

    def enterSite(self):
        from zope.component.hooks import setSite
        setSite(self.site)
        self.addCleanup(setSite, None)

    def interactAs(self, principalId):
        from zope.principalregistry.principalregistry import \
            principalRegistry
        from zope.security.management import endInteraction
        from zope.security.management import newInteraction
        from z3c.taskqueue.model.jobcontext import _Participation
        newInteraction(_Participation(principalRegistry.getPrincipal(
            principalId)))
        self.addCleanup(endInteraction)

    def run_(self, jobid):
        self.tm.commit()
        self.service.startProcessing()

        def finished():
            self.tm.begin()
            return self.service.getStatus(jobid) in ('completed', 'error')
        wait(finished, timeout=30)
        return self.service.jobs[jobid]

    def test_a_job_runs_in_its_site_for_its_principal(self):
        self.enterSite()
        self.interactAs('alice')
        jobid = self.service.add('observe')
        job = self.service.jobs[jobid]
        self.assertEqual(job.context, {'site': 'site1',
                                       'principal': 'alice'})
        job = self.run_(jobid)
        self.assertEqual(job.status, 'completed', job.error)
        self.assertEqual(job.output, {'site': 'site1',
                                      'principals': ['alice']})

    def test_a_job_of_a_principal_that_is_gone_fails(self):
        from zope.principalregistry.principalregistry import \
            principalRegistry
        self.enterSite()
        self.interactAs('alice')
        jobid = self.service.add('observe')
        principalRegistry._clear()
        job = self.run_(jobid)
        self.assertEqual(job.status, 'error')
        self.assertEqual(job.error, "the principal 'alice' who added the"
                         " job no longer exists")

    def test_run_as_nobody_drops_the_principal(self):
        from z3c.taskqueue.model.jobcontext import NOBODY
        self.enterSite()
        self.interactAs('alice')
        jobid = self.service.add('observe', runAs=NOBODY)
        job = self.run_(jobid)
        self.assertEqual(job.output, {'site': 'site1', 'principals': []})

    def test_without_site_or_principal_there_is_no_context(self):
        jobid = self.service.add('observe')
        self.assertIsNone(self.service.jobs[jobid].context)
        job = self.run_(jobid)
        self.assertEqual(job.output, {'site': None, 'principals': []})

    def test_runAs_must_be_text(self):
        with self.assertRaises(ValueError):
            self.service.add('observe', runAs=42)


class BaseURLsTests(unittest.TestCase):

    def _callFUT(self, text):
        from z3c.taskqueue.model.jobcontext import baseURLs
        return baseURLs(text)

    def test_the_default(self):
        self.assertEqual(self._callFUT(''), {'': 'http://localhost:8080'})

    def test_a_url_for_the_root_and_urls_for_sites(self):
        self.assertEqual(
            self._callFUT('https://zope.example.com/,'
                          ' Plone=https://www.example.com,'
                          ' /Plone/sub/ = https://sub.example.com/x?a=b'),
            {'': 'https://zope.example.com',
             'Plone': 'https://www.example.com',
             'Plone/sub': 'https://sub.example.com/x?a=b'})

    def test_the_nearest_site_with_a_url_serves_a_job(self):
        from z3c.taskqueue.model.jobcontext import _urlFor
        text = 'Plone=https://www.example.com'
        self.assertEqual(_urlFor('Plone/sub', text),
                         ('Plone', 'https://www.example.com'))
        self.assertEqual(_urlFor('Plonex', text),
                         ('', 'http://localhost:8080'))
        self.assertEqual(_urlFor(None, text), ('', 'http://localhost:8080'))
