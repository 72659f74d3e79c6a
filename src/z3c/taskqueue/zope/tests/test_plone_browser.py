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
"""The control panel in a real Plone 6 site, served over HTTP by a real
WSGI server (plone.app.testing's functional layer), in a real headless
Chromium: Site Setup, the control panel next to Plone's own Mail control
panel, the jobs, each action and what it says, the confirmation of
removing the finished jobs, uninstalling and installing the add-on in
*Add-ons*.  (The ZMI's "Jobs" tab: ``test_zmi_browser``.)

Each page is saved as a screenshot;
``TASKQUEUE_SCREENSHOTS=$PWD/docs/_static/plone`` saves them there, for
docs/zope.rst.
"""
import unittest
from unittest import mock

import transaction
from zope.testing.wait import wait

from z3c.taskqueue.tests._support import installed


PLONE = installed('Products.CMFPlone', 'plone.app.testing')
if PLONE:
    from plone.app.testing import FunctionalTesting
    from plone.testing.zope import WSGIServer
    from z3c.taskqueue.tests._chromium import CHROMIUM_FIXTURE
    from z3c.taskqueue.tests._plone import PLONE_LAYER
    # A server of its own, started once the Plone site is there: the
    # shared WSGI_SERVER_FIXTURE may have been started for a Zope layer
    # before Plone's was set up, and then Plone's pages fail.
    PLONE_SERVER = WSGIServer(bases=(PLONE_LAYER,),
                              name='z3c.taskqueue:Plone:WSGIServer')
    PLONE_BROWSER = FunctionalTesting(
        bases=(PLONE_SERVER, CHROMIUM_FIXTURE),
        name='z3c.taskqueue:Plone:Browser')

from z3c.taskqueue.tests._chromium import BrowserMixin  # noqa: E402


WAIT = 30


@unittest.skipUnless(PLONE, 'Plone is not installed: the plone extra,'
                     ' pip install -e .[test,plone]')
class PloneBrowserTests(BrowserMixin, unittest.TestCase):

    if PLONE:
        layer = PLONE_BROWSER

    def setUp(self):
        from plone.app.testing import TEST_USER_ID
        from plone.app.testing import setRoles
        from z3c.taskqueue.processing import processor
        self.setUpBrowser()
        self.addCleanup(processor.stopAll)
        self.portal = self.layer['portal']
        setRoles(self.portal, TEST_USER_ID, ['Manager'])
        transaction.commit()
        self.root = 'http://%s:%s' % (self.layer['host'], self.layer['port'])
        self.base = self.root + '/plone'
        self.login()

    # Helpers

    def login(self):
        from plone.app.testing import TEST_USER_NAME
        from plone.app.testing import TEST_USER_PASSWORD
        self.visit(self.base + '/login')
        self.assertTrue(self.findAll('#__ac_name'), self.driver.page_source)
        self.find('#__ac_name').send_keys(TEST_USER_NAME)
        self.find('#__ac_password').send_keys(TEST_USER_PASSWORD)
        self.click('#buttons-login')
        self.assertTrue(self.findAll('#personaltools-logout'))

    def service(self):
        import zope.component
        from z3c.taskqueue import interfaces
        return zope.component.getUtility(interfaces.ITaskService, 'tasks')

    def addAs(self, member, task, input):
        from plone.app.testing import login
        from plone.app.testing import logout
        login(self.portal, member)
        try:
            return self.service().add(task, input)
        finally:
            logout()

    def runJobs(self, *ids):
        """Run the jobs ``ids`` in the site's processor; wait until each
        has finished."""
        service = self.service()
        service.processorArguments = {'waitTime': 0.05}
        transaction.commit()
        service.startProcessing()

        def finished():
            transaction.begin()
            return all(service.getStatus(jobid) in ('completed', 'error')
                       for jobid in ids)
        wait(finished, timeout=WAIT)
        service.stopProcessing()

    def message(self):
        """The status message the page shows: its type and its text."""
        alerts = self.findAll('#global_statusmessage .alert')
        self.assertEqual(len(alerts), 1, self.driver.page_source)
        kind, = [name[len('statusmessage-'):] for name in
                 alerts[0].get_attribute('class').split()
                 if name.startswith('statusmessage-')]
        # After the icon and the type (Info:), the message.
        return kind, self.driver.execute_script(
            'return arguments[0].lastChild.textContent', alerts[0]).strip()

    def assertControlPanelLayout(self):
        """What Plone's control panels have: Site Setup's tabs, one
        heading, no content actions in the toolbar, no portlets."""
        self.assertEqual(self.text('.nav-tabs .nav-link')[:10], 'Site Setup')
        self.assertEqual(len(self.findAll('#content h1')), 1)
        self.assertEqual(self.findAll('.plone-toolbar-main li'), [])
        self.assertEqual(self.findAll('#portal-column-one'), [])

    def crumbs(self):
        return [crumb.text for crumb in
                self.findAll('#portal-breadcrumbs .breadcrumb-item')]

    # The tests

    def test_the_control_panel_looks_like_plones_own(self):
        # Plone's own Mail control panel, to compare.
        self.visit(self.base + '/@@mail-controlpanel')
        self.assertControlPanelLayout()
        self.screenshot('mail-controlpanel')
        # Site Setup lists the control panel under Advanced.
        self.visit(self.base + '/@@overview-controlpanel')
        self.click('a[href$="@@taskqueue-controlpanel"]')
        self.assertControlPanelLayout()
        self.assertEqual(self.find('h1').text, 'Task queue')
        self.assertEqual(self.crumbs(), ['Home', 'Site Setup', 'Task queue'])
        self.assertIn('Not processing in this instance.',
                      self.text('.processing'))
        self.assertIn('autostart plone@tasks', self.text('.processing pre'))
        self.assertIn('removes them with all their jobs',
                      self.text('#uninstall-note'))
        self.screenshot('controlpanel')
        self.click('#up')
        self.assertEqual(self.find('h1').text, 'Site Setup')

    def test_the_jobs_and_a_job(self):
        from selenium.webdriver.support.ui import Select
        ok = self.addAs('mary', 'retitle', {'path': 'doc', 'title': 'New'})
        failed = self.addAs('joe', 'retitle', {'path': 'doc', 'title': 'X'})
        self.runJobs(ok, failed)
        waiting = self.addAs('mary', 'retitle', {'path': 'doc'})
        transaction.commit()
        self.visit(self.base + '/@@taskqueue-controlpanel')
        self.click('a.jobs')
        self.assertControlPanelLayout()
        self.assertEqual(self.crumbs(), ['Home', 'Site Setup', 'Task queue',
                                         'Jobs of tasks'])
        rows = self.findAll('#jobs tbody tr')
        self.assertEqual(
            sorted(row.find_element('css selector', 'a').text
                   for row in rows),
            sorted(str(jobid) for jobid in (ok, failed, waiting)))
        self.assertEqual(len(rows), 3)
        self.assertIn('form-select',
                      self.find('#filter-status').get_attribute('class'))
        self.screenshot('jobs')
        Select(self.find('#filter-status')).select_by_value('error')
        self.click('#filter')
        rows = self.findAll('#jobs tbody tr')
        self.assertEqual(len(rows), 1)
        self.assertIn('Unauthorized', rows[0].text)
        self.click('#jobs a')
        self.assertControlPanelLayout()
        self.assertEqual(self.find('h1').text, 'Job %d' % failed)
        self.assertEqual(self.crumbs(), ['Home', 'Site Setup', 'Task queue',
                                         'Jobs of tasks', 'Job %d' % failed])
        self.assertEqual(self.find('#runs-as').text,
                         'Task retitle, run as joe in /plone.')
        self.assertIn('joe may not edit doc', self.text('#details pre'))
        self.screenshot('job')
        self.click('#up')
        self.assertEqual(self.find('h1').text, 'Jobs of tasks')

    def test_each_action_says_what_it_did(self):
        jobid = self.addAs('mary', 'retitle', {'path': 'doc'})
        transaction.commit()
        self.visit(self.base + '/@@taskqueue-job?service=tasks&id=%d'
                   % jobid)
        self.assertIn('btn-danger', self.find('#cancel')
                      .get_attribute('class'))
        self.click('#cancel')
        self.assertEqual(self.message(),
                         ('info', 'Job %d cancelled.' % jobid))
        self.assertEqual(self.find('h1').text, 'Job %d' % jobid)
        self.screenshot('job-cancelled')
        self.click('#retry')
        self.assertEqual(self.message(),
                         ('info', 'Job %d is queued again.' % jobid))
        transaction.begin()
        self.assertEqual(self.service().getStatus(jobid), 'queued')
        # Pages that are out of date: the job was cancelled, then
        # retried, by someone else meanwhile.
        self.service().cancel(jobid)
        transaction.commit()
        self.click('#cancel')
        self.assertEqual(self.message(),
                         ('info', 'Job %d was cancelled already.' % jobid))
        self.service().retry(jobid)
        transaction.commit()
        self.click('#retry')
        kind, text = self.message()
        self.assertEqual(kind, 'warning')
        self.assertIn('Not retried: job %d is queued' % jobid, text)
        self.screenshot('job-not-retried')

    def test_removing_the_finished_jobs_asks_first(self):
        finished = [self.addAs('mary', 'retitle', {'path': 'doc'})
                    for unused in range(3)]
        waiting = self.addAs('mary', 'retitle', {'path': 'doc'})
        for jobid in finished:
            self.service().cancel(jobid)
        transaction.commit()
        self.visit(self.base + '/@@taskqueue-jobs?service=tasks')
        self.click('#clean')
        self.assertControlPanelLayout()
        self.assertEqual(self.find('h1').text, 'Remove the finished jobs?')
        self.assertIn('removes the 3 finished jobs',
                      self.text('.alert-danger'))
        self.assertIn('btn-danger', self.find('#confirm')
                      .get_attribute('class'))
        self.screenshot('clean')
        self.click('#back')
        transaction.begin()
        self.assertEqual(len(self.service().jobs), 4)
        self.click('#clean')
        self.click('#confirm')
        self.assertEqual(self.message(), ('info', 'Removed 3 finished jobs.'))
        self.assertEqual(self.find('h1').text, 'Jobs of tasks')
        self.screenshot('cleaned')
        transaction.begin()
        self.assertEqual(list(self.service().jobs), [waiting])
        self.assertEqual(self.findAll('#clean'), [])

    def test_uninstall_and_install_in_add_ons(self):
        from z3c.taskqueue.zope import autostart
        self.visit(self.base + '/prefs_install_products_form')
        self.screenshot('addons')
        description = ' '.join(
            item.text for item in self.findAll('#activated-products li')
            if 'z3c.taskqueue' in item.text)
        self.assertIn('Uninstalling removes the service with all its jobs',
                      description)
        self.click('form[action="uninstall_products"]'
                   ' input[value="z3c.taskqueue"] ~ button')
        self.assertIn('Uninstalled z3c.taskqueue', self.message()[1])
        transaction.begin()
        self.assertIsNone(self.queryService())
        self.visit(self.base + '/@@overview-controlpanel')
        self.assertEqual(self.findAll('a[href$="@@taskqueue-controlpanel"]'),
                         [])
        # Installed again, with autostart naming the site's service: it
        # processes at once, as after a restart.
        self.visit(self.base + '/prefs_install_products_form')
        with mock.patch.object(autostart, 'productConfiguration',
                               lambda: {'autostart': 'plone@tasks'}):
            self.click('form[action="install_products"]'
                       ' input[value="z3c.taskqueue"] ~ button')
        self.assertIn('Installed z3c.taskqueue', self.message()[1])
        self.visit(self.base + '/@@taskqueue-controlpanel')
        self.assertEqual(self.text('.processing'),
                         'Processing in this instance.')
        self.screenshot('controlpanel-processing')

    def queryService(self):
        import zope.component
        from z3c.taskqueue import interfaces
        return zope.component.queryUtility(interfaces.ITaskService, 'tasks')


def test_suite():
    return unittest.defaultTestLoader.loadTestsFromName(__name__)
