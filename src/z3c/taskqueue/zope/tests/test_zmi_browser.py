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
"""The ZMI's "Jobs" tab in a real Zope, served by a real WSGI server, in a
real headless Chromium: the ZMI's own styles, the tab highlighted on
each of its pages, the actions and what they say, the confirmation."""
import base64
import unittest

import transaction

from z3c.taskqueue.tests._support import installed


ZOPE = installed('OFS', 'ZPublisher', 'plone.testing')
if ZOPE:
    from plone.testing.zope import FunctionalTesting
    from z3c.taskqueue.tests._chromium import CHROMIUM_FIXTURE
    from z3c.taskqueue.tests._zope import ZOPE_FIXTURE
    ZMI_BROWSER = FunctionalTesting(bases=(ZOPE_FIXTURE, CHROMIUM_FIXTURE),
                                    name='z3c.taskqueue:ZMI:Browser')

from z3c.taskqueue.tests._chromium import BrowserMixin  # noqa: E402


@unittest.skipUnless(ZOPE, 'Zope is not installed: the test extra,'
                     ' pip install -e .[test]')
class ZMIBrowserTests(BrowserMixin, unittest.TestCase):

    if ZOPE:
        layer = ZMI_BROWSER

    def setUp(self):
        from plone.testing.zope import login
        from plone.testing.zope import logout
        from zope.component.hooks import setSite
        self.setUpBrowser()
        self.site = self.layer['app'].site1
        self.addCleanup(setSite, None)
        setSite(self.site)
        # Jobs are added as Alice.
        login(self.layer['app'].acl_users, 'alice')
        self.addCleanup(logout)
        # A manager of Zope, logged in with HTTP basic auth: the header
        # on every request the browser sends.  (Alice, a manager of site1
        # only, may not load the ZMI's scripts and styles, which are the
        # root's.)
        self.layer['app'].acl_users._doAddUser('manager', 'secret',
                                               ['Manager'], [])
        transaction.commit()
        self.driver.execute_cdp_cmd('Network.enable', {})
        self.driver.execute_cdp_cmd('Network.setExtraHTTPHeaders', {
            'headers': {'Authorization': 'Basic '
                        + base64.b64encode(b'manager:secret').decode()}})
        self.addCleanup(self.driver.execute_cdp_cmd,
                        'Network.setExtraHTTPHeaders', {'headers': {}})
        self.base = 'http://%s:%s/site1' % (self.layer['host'],
                                            self.layer['port'])

    def service(self):
        from z3c.taskqueue import interfaces
        return self.site.getSiteManager().getUtility(
            interfaces.ITaskService, 'tasks')

    def activeTab(self):
        return self.text('#tabs .nav-link.active')

    def alert(self):
        return ' '.join(self.text('main .alert, .alert').split())

    def test_the_jobs_tab_in_the_zmis_styles(self):
        from selenium.webdriver.support.ui import Select
        service = self.service()
        waiting = service.add('whoami', 'a')
        done = service.add('whoami', 'b')
        service.cancel(done)
        transaction.commit()
        self.visit(self.base + '/manage_main')
        self.click('#tabs a[href="manage_taskqueue_jobs"]')
        self.assertEqual(self.activeTab(), 'Jobs')
        for selector in ('#filter-status', '#filter-task', '#filter-queue'):
            self.assertIn('form-control',
                          self.find(selector).get_attribute('class'))
        # The labels keep their distance from the boxes.
        label = self.find('label[for="filter-task"]').rect
        box = self.find('#filter-task').rect
        self.assertGreater(box['x'] - (label['x'] + label['width']), 4)
        self.assertEqual(len(self.findAll('#jobs tbody tr')), 2)
        self.screenshot('zmi-jobs')
        Select(self.find('#filter-status')).select_by_value('cancelled')
        self.click('#filters button')
        self.assertEqual([row.text.split()[0] for row in
                          self.findAll('#jobs tbody tr')], [str(done)])
        self.click('#jobs a')
        self.assertEqual(self.activeTab(), 'Jobs')
        self.assertEqual(self.find('main h3').text, 'Job %d' % done)
        self.assertIn('run as alice in /site1', self.text('main .form-help'))
        self.click('#retry')
        self.assertIn('Job %d is queued again.' % done, self.alert())
        self.screenshot('zmi-job')
        self.click('#cancel')
        self.assertIn('Job %d cancelled.' % done, self.alert())
        self.click('#up')
        self.click('#clean')
        self.assertEqual(self.activeTab(), 'Jobs')
        self.assertIn('btn-danger', self.find('#confirm')
                      .get_attribute('class'))
        self.screenshot('zmi-clean')
        self.click('#confirm')
        self.assertIn('Removed 1 finished jobs.', self.alert())
        transaction.begin()
        self.assertEqual(list(self.service().jobs), [waiting])


def test_suite():
    return unittest.defaultTestLoader.loadTestsFromName(__name__)
