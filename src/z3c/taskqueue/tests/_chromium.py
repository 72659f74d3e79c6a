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
"""A headless Chromium as a plone.testing layer, for the browser tests of
the Zope and Plone screens, and a test case mixin that drives it and
saves screenshots (in ``$TASKQUEUE_SCREENSHOTS`` too, if set: that is how
``docs/_static/plone`` is made)."""
import os
import shutil
import tempfile
import time

import plone.testing

from z3c.taskqueue.tests._support import installed


CHROMIUM = shutil.which('chromium') or '/usr/bin/chromium'
CHROMEDRIVER = shutil.which('chromedriver') or '/usr/bin/chromedriver'
#: Why the browser tests skip, or None when they can run.
MISSING = (
    None if os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)
    and installed('selenium') else
    'no Chromium: install the Debian packages chromium and chromium-driver'
    ' (and selenium, in the test extra)')
#: The longest wait for a page (seconds).
WAIT = 30


class ChromiumLayer(plone.testing.Layer):
    """One headless Chromium for the tests of the layers based on it, as
    the resource ``driver`` (None when it cannot run: see ``MISSING``)."""

    def setUp(self):
        self['driver'] = None
        if MISSING:
            return
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for argument in ('--headless=new', '--no-sandbox',
                         '--disable-dev-shm-usage', '--window-size=1280,1000',
                         '--disable-gpu', '--lang=en-US'):
            options.add_argument(argument)
        self['driver'] = webdriver.Chrome(service=Service(CHROMEDRIVER),
                                          options=options)
        self['driver'].set_page_load_timeout(WAIT)

    def tearDown(self):
        if self['driver'] is not None:
            self['driver'].quit()
        del self['driver']


CHROMIUM_FIXTURE = ChromiumLayer(name='z3c.taskqueue:Chromium')


class BrowserMixin:
    """What a browser test does: visit, find, wait, screenshot."""

    def setUpBrowser(self):
        self.driver = self.layer['driver']
        if self.driver is None:
            self.skipTest(MISSING)
        # Every site's cookies (delete_all_cookies() clears only those of
        # the page the browser shows, about:blank after each test).
        self.driver.execute_cdp_cmd('Network.clearBrowserCookies', {})
        self.addCleanup(self.driver.get, 'about:blank')
        self.shots = tempfile.mkdtemp(prefix='z3c.taskqueue-shots-')
        self.addCleanup(shutil.rmtree, self.shots, True)

    def visit(self, url):
        self.driver.get(url)

    def find(self, selector):
        from selenium.webdriver.common.by import By
        return self.driver.find_element(By.CSS_SELECTOR, selector)

    def findAll(self, selector):
        from selenium.webdriver.common.by import By
        return self.driver.find_elements(By.CSS_SELECTOR, selector)

    def text(self, selector):
        return ' '.join(element.text for element in self.findAll(selector))

    def click(self, selector):
        """Click the first visible element that ``selector`` finds, and
        wait until the next page has loaded."""
        old = self.find('html')
        visible = [element for element in self.findAll(selector)
                   if element.is_displayed()]
        self.assertTrue(visible, 'nothing visible is %s' % selector)
        # Where no toolbar covers it, at once (Bootstrap scrolls
        # smoothly, and the click would come before the scroll ends).
        self.driver.execute_script(
            'arguments[0].scrollIntoView({block: "center",'
            ' behavior: "instant"})', visible[0])
        visible[0].click()
        self.waitForNewPage(old)

    def waitForNewPage(self, old):
        from selenium.common.exceptions import StaleElementReferenceException

        def gone():
            try:
                old.tag_name
            except StaleElementReferenceException:
                return True
            return False
        self.waitFor(gone, 'the next page')
        self.waitFor(lambda: self.driver.execute_script(
            'return document.readyState') == 'complete', 'the page to load')

    def waitFor(self, condition, what):
        deadline = time.monotonic() + WAIT
        while not condition():
            if time.monotonic() > deadline:
                self.fail('timed out waiting for %s (at %s)'
                          % (what, self.driver.current_url))
            time.sleep(0.1)

    def screenshot(self, name):
        """Save what the browser shows, the whole page, as ``name.png``."""
        height = self.driver.execute_script(
            'return document.documentElement.scrollHeight')
        size = self.driver.get_window_size()
        self.driver.set_window_size(size['width'], max(height, 600))
        try:
            path = os.path.join(self.shots, name + '.png')
            self.assertTrue(self.driver.save_screenshot(path))
        finally:
            self.driver.set_window_size(size['width'], size['height'])
        self.assertGreater(os.path.getsize(path), 5000)
        published = os.environ.get('TASKQUEUE_SCREENSHOTS')
        if published:
            os.makedirs(published, exist_ok=True)
            shutil.copy(path, os.path.join(published, name + '.png'))
        return path
