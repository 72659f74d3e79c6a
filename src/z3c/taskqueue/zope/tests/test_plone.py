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
"""The add-on in a real Plone 6 site: its profile installs the service,
a member's job edits a page as that member, and the catalog knows."""
import unittest

import transaction
from zope.testing.wait import wait

from z3c.taskqueue.tests._support import installed


# Without the plone extra the tests are skipped, in no layer.  Only
# missing distributions count: any other ImportError fails the import.
PLONE = installed('Products.CMFPlone', 'plone.app.testing')
if PLONE:
    from z3c.taskqueue.tests._plone import PLONE_FUNCTIONAL


WAIT = 30


@unittest.skipUnless(PLONE, 'Plone is not installed: the plone extra,'
                     ' pip install -e .[test,plone]')
class PloneSiteTests(unittest.TestCase):

    if PLONE:
        layer = PLONE_FUNCTIONAL

    def setUp(self):
        from z3c.taskqueue.processing import processor
        self.portal = self.layer['portal']
        self.addCleanup(processor.stopAll)

    def service(self):
        import zope.component
        from z3c.taskqueue import interfaces
        return zope.component.getUtility(interfaces.ITaskService, 'tasks')

    def startProcessing(self):
        service = self.service()
        service.processorArguments = {'waitTime': 0.05}
        transaction.commit()
        service.startProcessing()
        return service

    def addAs(self, member, task, input):
        from plone.app.testing import login
        from plone.app.testing import logout
        login(self.portal, member)
        try:
            jobid = self.service().add(task, input)
        finally:
            logout()
        transaction.commit()
        return jobid

    def waitFinished(self, service, jobid):
        def finished():
            transaction.begin()
            return service.getStatus(jobid) in ('completed', 'error')
        wait(finished, timeout=WAIT)

    def test_the_profile_installs_a_service_that_starts(self):
        import logging
        import threading
        from zope.testing.loggingsupport import InstalledHandler
        log = InstalledHandler('z3c.taskqueue', level=logging.INFO)
        self.addCleanup(log.uninstall)
        service = self.startProcessing()
        self.assertTrue(service.isProcessing())
        self.assertIn('taskqueue.plone@tasks',
                      [t.name for t in threading.enumerate()])
        service.stopProcessing()
        # Named as autostart names it, not by GenericSetup's __name__.
        self.assertEqual(service.__name__,
                         'z3c.taskqueue.interfaces.ITaskService-tasks')
        self.assertEqual([record.getMessage() for record in log.records
                          if 'service' in record.getMessage()],
                         ['starting service plone@tasks',
                          'stopping service plone@tasks'])

    def test_the_upgrade_to_1001_registers_the_browser_layer(self):
        from plone.browserlayer.utils import registered_layers
        from plone.browserlayer.utils import unregister_layer
        from z3c.taskqueue.zope.controlpanel import ITaskQueueLayer
        # A site where version 1000 was installed: no layer.
        unregister_layer('z3c.taskqueue')
        setup = self.portal.portal_setup
        setup.setLastVersionForProfile('z3c.taskqueue:default', '1000')
        self.assertNotIn(ITaskQueueLayer, registered_layers())
        self.assertEqual([step['dest'] for step in
                          setup.listUpgrades('z3c.taskqueue:default')],
                         [('1001',)])
        setup.upgradeProfile('z3c.taskqueue:default')
        self.assertIn(ITaskQueueLayer, registered_layers())
        self.assertEqual(setup.getLastVersionForProfile(
            'z3c.taskqueue:default'), ('1001',))

    def test_a_members_job_edits_a_page_and_the_catalog_knows(self):
        service = self.startProcessing()
        jobid = self.addAs('mary', 'retitle',
                           {'path': 'doc', 'title': 'Edited by a job'})
        self.waitFinished(service, jobid)
        self.assertEqual(service.getStatus(jobid), 'completed',
                         service.getError(jobid))
        self.assertEqual(service.getResult(jobid), {
            'user': 'mary', 'url': 'http://localhost:8080/plone/doc'})
        transaction.begin()
        catalog = self.portal.portal_catalog
        found = catalog.unrestrictedSearchResults(Title='Edited by a job')
        self.assertEqual([brain.getPath() for brain in found],
                         ['/plone/doc'])
        self.assertEqual(self.portal.doc.Title(), 'Edited by a job')

    def test_a_job_has_the_permissions_of_its_member_only(self):
        service = self.startProcessing()
        jobid = self.addAs('joe', 'retitle',
                           {'path': 'doc', 'title': 'Not allowed'})
        self.waitFinished(service, jobid)
        self.assertEqual(service.getStatus(jobid), 'error')
        self.assertIn('Unauthorized', service.getError(jobid))
        transaction.begin()
        self.assertEqual(self.portal.doc.Title(), 'The old title')

    def test_the_control_panel_is_for_managers(self):
        from AccessControl import Unauthorized
        from plone.app.testing import login
        from plone.app.testing import logout
        from plone.app.testing import setRoles
        from plone.app.testing import TEST_USER_ID
        from plone.app.testing import TEST_USER_NAME
        actions = [action.getId() for action in
                   self.portal.portal_controlpanel.listActions()]
        self.assertIn('z3c.taskqueue', actions)
        logout()
        with self.assertRaises(Unauthorized):
            self.portal.restrictedTraverse('@@taskqueue-controlpanel')
        login(self.portal, 'mary')
        with self.assertRaises(Unauthorized):
            self.portal.restrictedTraverse('@@taskqueue-controlpanel')
        setRoles(self.portal, TEST_USER_ID, ['Manager'])
        login(self.portal, TEST_USER_NAME)
        html = self.portal.restrictedTraverse('@@taskqueue-controlpanel')()
        self.assertIn('Not processing in this instance', html)
        self.assertIn('autostart plone@tasks', html)
        self.assertIn('<td>queued</td>', html)
        self.assertIn('removes them with all their jobs', html)
        # Site Setup's layout: its tabs, no content actions.
        self.assertIn('@@overview-controlpanel">Site Setup</a>', html)
        self.assertIn('disable_border', self.layer['request'])

    def test_the_jobs_views_are_for_managers(self):
        from AccessControl import Unauthorized
        from plone.app.testing import login
        from plone.app.testing import logout
        from plone.app.testing import setRoles
        from plone.app.testing import TEST_USER_ID
        from plone.app.testing import TEST_USER_NAME
        from zExceptions import BadRequest
        from zExceptions import NotFound
        service = self.service()
        queued = service.add('retitle', {'path': 'doc'})
        transaction.commit()
        for user in (None, 'mary'):
            logout()
            if user:
                login(self.portal, user)
            for name in ('@@taskqueue-jobs', '@@taskqueue-job'):
                with self.assertRaises(Unauthorized):
                    self.portal.restrictedTraverse(name)
        setRoles(self.portal, TEST_USER_ID, ['Manager'])
        login(self.portal, TEST_USER_NAME)
        request = self.layer['request']
        request.form.update({'service': 'tasks'})
        html = self.portal.restrictedTraverse('@@taskqueue-jobs')()
        self.assertIn('@@taskqueue-job?service=tasks&amp;id=%d' % queued,
                      html, 'no link to the job')
        request.form.update({'id': str(queued)})
        html = self.portal.restrictedTraverse('@@taskqueue-job')()
        self.assertIn('Job %d' % queued, html)
        self.assertIn("<td>{'path': 'doc'}</td>", html, 'no input shown')
        request.form.update({'status': 'done'})
        with self.assertRaises(BadRequest):
            self.portal.restrictedTraverse('@@taskqueue-jobs')()
        request.form.update({'status': '', 'id': '12345'})
        with self.assertRaises(NotFound):
            self.portal.restrictedTraverse('@@taskqueue-job')()

    def loginAsManager(self):
        from plone.app.testing import login
        from plone.app.testing import setRoles
        from plone.app.testing import TEST_USER_ID
        from plone.app.testing import TEST_USER_NAME
        setRoles(self.portal, TEST_USER_ID, ['Manager'])
        login(self.portal, TEST_USER_NAME)

    def act(self, **form):
        """POST ``form`` to the action view; return the status messages
        it left and where it sends the browser."""
        from Products.statusmessages.interfaces import IStatusMessage
        request = self.layer['request']
        request['REQUEST_METHOD'] = 'POST'
        request.form.clear()
        request.form.update(form, service='tasks')
        # Only the messages of this action.
        from Products.statusmessages.adapter import STATUSMESSAGEKEY
        from zope.annotation.interfaces import IAnnotations
        IAnnotations(request)[STATUSMESSAGEKEY] = None
        self.portal.restrictedTraverse('@@taskqueue-action')()
        messages = IStatusMessage(request).show()
        return ([(m.type, m.message) for m in messages],
                request.response.getHeader('Location'))

    def test_managers_cancel_jobs_in_plone(self):
        from AccessControl import Unauthorized
        from plone.app.testing import login
        from plone.app.testing import logout
        from plone.protect.authenticator import createToken
        from zExceptions import Forbidden
        service = self.service()
        jobid = service.add('retitle', {'path': 'doc'})
        transaction.commit()
        login(self.portal, 'mary')
        with self.assertRaises(Unauthorized):
            self.portal.restrictedTraverse('@@taskqueue-action')
        logout()
        self.loginAsManager()
        request = self.layer['request']
        request.form.update({'service': 'tasks', 'id': str(jobid)})
        html = self.portal.restrictedTraverse('@@taskqueue-job')()
        self.assertIn('id="cancel"', html)
        self.assertIn('name="_authenticator"', html)
        self.assertNotIn('name="csrf"', html)
        for token in ({}, {'_authenticator': 'wrong'}):
            with self.assertRaises(Forbidden):
                self.act(action='cancel', id=str(jobid), **token)
        self.assertEqual(service.getStatus(jobid), 'queued')
        messages, location = self.act(action='cancel', id=str(jobid),
                                      _authenticator=createToken())
        self.assertEqual(service.getStatus(jobid), 'cancelled')
        self.assertEqual(messages, [('info', 'Job %d cancelled.' % jobid)])
        self.assertEqual(location, 'http://nohost/plone/@@taskqueue-job'
                         '?service=tasks&id=%d' % jobid)
        messages, location = self.act(action='cancel', id=str(jobid),
                                      _authenticator=createToken())
        self.assertEqual(messages, [(
            'info', 'Job %d was cancelled already.' % jobid)])
        messages, location = self.act(action='retry', id=str(jobid),
                                      _authenticator=createToken())
        self.assertEqual(service.getStatus(jobid), 'queued')
        self.assertEqual(messages, [('info', 'Job %d is queued again.'
                                     % jobid)])
        messages, location = self.act(action='retry', id=str(jobid),
                                      _authenticator=createToken())
        self.assertEqual(messages[0][0], 'warning')
        self.assertIn('Not retried: job %d is queued' % jobid, messages[0][1])

    def test_cleaning_asks_first(self):
        from plone.protect.authenticator import createToken
        service = self.service()
        done = [service.add('retitle', {'path': 'doc'}) for i in range(3)]
        waiting = service.add('retitle', {'path': 'doc'})
        for jobid in done:
            service.cancel(jobid)
        transaction.commit()
        self.loginAsManager()
        request = self.layer['request']
        request.form.update({'service': 'tasks'})
        html = self.portal.restrictedTraverse('@@taskqueue-jobs')()
        self.assertIn('@@taskqueue-clean?service=tasks', html)
        html = self.portal.restrictedTraverse('@@taskqueue-clean')()
        self.assertIn('class="alert alert-danger"', html)
        self.assertIn('<strong>3</strong>', html)
        self.assertIn('id="confirm"', html)
        # Without the confirmation, the confirmation page.
        messages, location = self.act(action='clean',
                                      _authenticator=createToken())
        self.assertEqual(messages, [])
        self.assertEqual(location, 'http://nohost/plone/@@taskqueue-clean'
                         '?service=tasks')
        self.assertEqual(len(service.jobs), 4)
        messages, location = self.act(action='clean', confirmed='yes',
                                      _authenticator=createToken())
        self.assertEqual(messages, [('info', 'Removed 3 finished jobs.')])
        self.assertEqual(location, 'http://nohost/plone/@@taskqueue-jobs'
                         '?service=tasks')
        self.assertEqual(list(service.jobs), [waiting])

    def test_times_are_in_the_users_time_zone(self):
        import datetime
        from plone.registry.interfaces import IRegistry
        import zope.component
        service = self.service()
        jobid = service.add('retitle', {'path': 'doc'})
        service.jobs[jobid].created = datetime.datetime(
            2026, 1, 15, 12, 30, tzinfo=datetime.timezone.utc)
        registry = zope.component.getUtility(IRegistry)
        registry['plone.portal_timezone'] = 'Europe/Berlin'
        transaction.commit()
        self.loginAsManager()
        request = self.layer['request']
        request.form.update({'service': 'tasks', 'id': str(jobid)})
        html = self.portal.restrictedTraverse('@@taskqueue-job')()
        self.assertIn('datetime="2026-01-15T12:30:00Z"', html)
        self.assertIn('>Jan 15, 2026 01:30 PM CET</time>', html)
        html = self.portal.restrictedTraverse('@@taskqueue-jobs')()
        self.assertIn('>Jan 15, 2026 01:30 PM CET</time>', html)
        # A member's own time zone wins.
        member = self.portal.portal_membership.getAuthenticatedMember()
        member.setMemberProperties({'timezone': 'America/New_York'})
        html = self.portal.restrictedTraverse('@@taskqueue-job')()
        self.assertIn('>Jan 15, 2026 07:30 AM EST</time>', html)

    def test_the_job_page_says_as_whom_and_where_it_runs(self):
        jobid = self.addAs('mary', 'retitle', {'path': 'doc'})
        self.loginAsManager()
        request = self.layer['request']
        request.form.update({'service': 'tasks', 'id': str(jobid)})
        html = self.portal.restrictedTraverse('@@taskqueue-job')()
        self.assertIn('run as <strong>mary</strong> in'
                      ' <strong>/plone</strong>', html)
        self.assertRegex(html, r'<th>runs as</th>\s*<td>mary</td>')
        self.assertIn('Up to the jobs of tasks', html)

    def test_the_uninstall_profile_stops_and_removes_the_service(self):
        import zope.component
        from plone.base.utils import get_installer
        from plone.app.testing import setRoles
        from plone.app.testing import TEST_USER_ID
        from z3c.taskqueue import interfaces
        service = self.startProcessing()
        setRoles(self.portal, TEST_USER_ID, ['Manager'])
        installer = get_installer(self.portal, self.layer['request'])
        self.assertTrue(installer.uninstall_product('z3c.taskqueue'))
        transaction.commit()
        self.assertFalse(service.isProcessing())
        self.assertIsNone(zope.component.queryUtility(
            interfaces.ITaskService, 'tasks'))
        actions = [action.getId() for action in
                   self.portal.portal_controlpanel.listActions()]
        self.assertNotIn('z3c.taskqueue', actions)

    def test_installing_starts_the_service_that_autostart_names(self):
        from unittest import mock
        from plone.base.utils import get_installer
        from z3c.taskqueue.zope import autostart
        self.loginAsManager()
        installer = get_installer(self.portal, self.layer['request'])
        self.assertTrue(installer.uninstall_product('z3c.taskqueue'))
        transaction.commit()
        with mock.patch.object(autostart, 'productConfiguration',
                               lambda: {'autostart': 'plone@tasks'}):
            self.assertTrue(installer.install_product('z3c.taskqueue'))
            self.assertFalse(self.service().isProcessing())
            transaction.commit()
        self.assertTrue(self.service().isProcessing())
