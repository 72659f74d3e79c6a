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
"""The dashboard in a real headless Chromium (Debian's ``chromium`` and
``chromium-driver``, driven by selenium), served by a real waitress
server on a real FileStorage.  Each test saves screenshots of the pages
it saw in its temporary directory (and in ``$TASKQUEUE_SCREENSHOTS``,
if set: ``docs/_static`` is made that way)."""
import os
import shutil
import time
import unittest

from z3c.taskqueue.dashboard.tests.test_dashboard import DashboardTestBase
from z3c.taskqueue.dashboard.tests.test_dashboard import TOKEN
from z3c.taskqueue.tests._support import installed


CHROMIUM = shutil.which('chromium') or '/usr/bin/chromium'
CHROMEDRIVER = shutil.which('chromedriver') or '/usr/bin/chromedriver'
#: Why the browser tests skip, or None when they can run.
MISSING = (
    None if os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)
    and installed('selenium') else
    'no Chromium: install the Debian packages chromium and chromium-driver'
    ' (and selenium, in the test extra)')
WAIT = 30


class BrowserLayer:
    """One headless Chromium for all the browser tests."""

    driver = None

    @classmethod
    def setUp(cls):
        if MISSING:
            return      # the tests skip, saying why
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for argument in ('--headless=new', '--no-sandbox',
                         '--disable-dev-shm-usage', '--window-size=1280,900',
                         '--disable-gpu'):
            options.add_argument(argument)
        cls.driver = webdriver.Chrome(service=Service(CHROMEDRIVER),
                                      options=options)
        cls.driver.set_page_load_timeout(WAIT)

    @classmethod
    def tearDown(cls):
        if cls.driver is not None:
            cls.driver.quit()
            cls.driver = None


class BrowserTests(DashboardTestBase):

    layer = BrowserLayer

    def setUp(self):
        if BrowserLayer.driver is None:
            self.skipTest(MISSING)
        super().setUp()
        self.driver = BrowserLayer.driver
        self.driver.delete_all_cookies()
        # Leave the page, which reloads itself, before the server stops.
        self.addCleanup(self.driver.get, 'about:blank')
        self.shots = os.path.join(self.directory, 'screenshots')
        os.makedirs(self.shots)

    def serve(self, **kw):
        # No page reloads itself under a test's hands, but in the test
        # of reloading: a reload would race with what the test does.
        kw.setdefault('token', TOKEN)
        kw.setdefault('refresh', 0)
        super().serve(**kw)

    def visit(self, path):
        self.driver.get(self.base + path)

    def find(self, selector):
        from selenium.webdriver.common.by import By
        return self.driver.find_element(By.CSS_SELECTOR, selector)

    def findAll(self, selector):
        from selenium.webdriver.common.by import By
        return self.driver.find_elements(By.CSS_SELECTOR, selector)

    def screenshot(self, name):
        """Save what the browser shows as ``name.png``."""
        path = os.path.join(self.shots, name + '.png')
        self.assertTrue(self.driver.save_screenshot(path))
        self.assertGreater(os.path.getsize(path), 5000)
        published = os.environ.get('TASKQUEUE_SCREENSHOTS')
        if published:
            shutil.copy(path, os.path.join(published, name + '.png'))

    def waitFor(self, condition, what):
        deadline = time.monotonic() + WAIT
        while True:
            try:
                if condition():
                    return
            except Exception:
                pass    # the page is being reloaded
            if time.monotonic() > deadline:
                self.fail('timed out waiting for %s' % what)
            time.sleep(0.1)

    def counts(self):
        counts = {}
        for row in self.findAll('#statuses tr')[1:]:
            name, count = row.find_elements('tag name', 'td')
            counts[name.text] = int(count.text)
        return counts

    def login(self):
        self.visit('/login')
        self.find('#token').send_keys(TOKEN)
        self.find('#submit').click()
        self.waitFor(lambda: self.findAll('#logout'), 'the login')

    def test_the_overview_shows_the_counts(self):
        # Half an hour of samples, every ten seconds, as the dashboard
        # takes them: a backlog that builds up and is worked off.
        import random
        jitter = random.Random(7)
        now = time.time()
        finished = 0
        for number in range(180):
            backlog = max(0, 40 - abs(number - 70)) * 3 + jitter.randrange(6)
            finished += 20 + number // 12 + jitter.randrange(5)
            self.app.samples.add(now - 10 * (180 - number), backlog,
                                 finished)
        self.visit('/')
        counts = self.counts()
        self.assertEqual((counts['completed'], counts['error'],
                          counts['queued'], counts['cronjob']), (1, 1, 3, 1))
        self.assertIn('reports', self.find('#queues').text)
        self.assertEqual(len(self.findAll('#chart polyline')), 2)
        # Two charts, one scale each, with times and gridlines.
        for name, title in (('queued', 'Queued jobs'),
                            ('finished', 'Jobs finished per minute')):
            chart = self.find('#chart-%s' % name)
            self.assertIn(title, chart.text)
            self.assertGreater(chart.size['height'], 100)
            times = [t.text for t in chart.find_elements(
                'css selector', 'text.time')]
            self.assertGreaterEqual(len(times), 3)
            for label in times:
                self.assertRegex(label, r'^\d\d:\d\d$')
            self.assertGreater(len(chart.find_elements(
                'css selector', 'line.grid')), 5)
        self.assertEqual(
            [t.text for t in self.find('#chart-queued').find_elements(
                'css selector', 'text[text-anchor=end]')][1:-1],
            ['0', '50', '100', '150'])
        self.screenshot('overview')

    def test_a_filter_narrows_the_list(self):
        from selenium.webdriver.support.ui import Select
        self.visit('/jobs')
        self.assertEqual(len(self.findAll('#jobs tr')) - 1, 6)
        # When each job was created, in UTC, and how long ago.
        self.tm.begin()
        created = self.service.jobs[self.done].created
        row = [r for r in self.findAll('#jobs tr')
               if r.text.startswith(str(self.done))][0]
        self.assertRegex(row.text, r'%s \d+s ago'
                         % created.strftime('%Y-%m-%d %H:%M:%S'))
        self.screenshot('jobs')
        tasks = Select(self.find('select[name=task]'))
        self.assertEqual([o.text for o in tasks.options],
                         ['any', 'echo', 'fail'])
        queues = Select(self.find('select[name=queue]'))
        self.assertEqual([o.text for o in queues.options],
                         ['any', 'default', 'reports'])
        tasks.select_by_value('echo')
        queues.select_by_value('reports')
        self.find('#filter').click()
        self.waitFor(lambda: 'queue=reports' in self.driver.current_url,
                     'the list of a task and a queue')
        self.assertEqual(len(self.findAll('#jobs tr')) - 1, 3)
        Select(self.find('select[name=task]')).select_by_value('')
        Select(self.find('select[name=queue]')).select_by_value('')
        Select(self.find('select[name=status]')).select_by_value('error')
        self.find('#filter').click()
        self.waitFor(lambda: len(self.findAll('#jobs tr')) - 1 == 1,
                     'the filtered list')
        self.assertIn('status=error', self.driver.current_url)
        self.assertIn(str(self.failed), self.find('#jobs').text)

    def test_a_job_shows_its_traceback(self):
        self.visit('/jobs?status=error')
        self.find('#jobs a').click()
        self.waitFor(lambda: self.findAll('pre'), 'the job page')
        self.assertIn('Traceback (most recent call last)',
                      self.find('pre').text)
        self.assertIn('TaskError: it broke', self.find('pre').text)
        self.screenshot('job')

    def test_the_cron_and_workers_pages(self):
        now = time.time()
        self.tm.begin()
        # A worker whose threads run two jobs, an idle one, one that
        # stopped beating an hour ago, and a claim without a record.
        for name, seen, info in (
                ('web1:4711:taskqueue.tasks', now - 12,
                 {'threads': 4, 'completed': 1184, 'failed': 3,
                  'started': now - 7200}),
                ('web2:2305:taskqueue.tasks', now - 4,
                 {'threads': 2, 'queues': ['reports'], 'completed': 97,
                  'started': now - 1500}),
                ('web3:977:taskqueue.tasks', now - 3600,
                 {'threads': 4, 'completed': 5120, 'failed': 12,
                  'started': now - 90000})):
            host, pid, processor = name.split(':')
            self.service._workerBeat(name, seen, dict(
                info, host=host, pid=int(pid), processor=processor,
                interval=30.0, tasks=['echo', 'fail']))
        self.service.claimJobs('web1:4711:taskqueue.tasks.1', 60, limit=1)
        self.service.claimJobs('web1:4711:taskqueue.tasks.3', 60, limit=1)
        self.service.claimJobs('batch:812:Thread-3', 60, limit=1)
        self.tm.commit()
        self.visit('/cron')
        self.assertIn('0 7 * * *', self.find('#cron').text)
        self.screenshot('cron')
        self.visit('/workers')
        rows = {row.find_element('css selector', '.name').text: row
                for row in self.findAll('#workers tr.worker')}
        self.assertEqual(sorted(rows), [
            'batch:812:Thread-3', 'web1:4711:taskqueue.tasks',
            'web2:2305:taskqueue.tasks', 'web3:977:taskqueue.tasks'])
        self.assertRegex(rows['web1:4711:taskqueue.tasks'].text,
                         r'alive \S+ \S+ 12s ago 2h 4 all 1184 3 2')
        self.assertIn('reports', rows['web2:2305:taskqueue.tasks'].text)
        self.assertRegex(rows['web3:977:taskqueue.tasks'].text,
                         r'gone \S+ \S+ 1h ago')
        self.assertIn('unknown no record',
                      rows['batch:812:Thread-3'].text)
        self.assertEqual(self.find('#summary').text.split('.')[0],
                         '2 alive, 1 gone')
        self.screenshot('workers')

    def test_cancel_works_with_the_token(self):
        self.login()
        self.visit('/jobs/%d' % self.queued[0])
        self.screenshot('job-actions')
        self.find('#cancel').click()
        self.waitFor(lambda: 'cancelled' in self.find('#message').text,
                     'the cancellation')
        self.tm.begin()
        self.assertEqual(self.service.getStatus(self.queued[0]),
                         'cancelled')
        # Still logged in, and back to the job.
        self.assertEqual(self.findAll('#login'), [])
        self.assertEqual(len(self.findAll('#logout')), 1)
        self.find('#back').click()
        self.waitFor(lambda: self.findAll('#retry'), 'the job page')
        self.assertIn('/jobs/%d' % self.queued[0], self.driver.current_url)

    def test_retry_every_failed_job_of_a_filter(self):
        self.tm.begin()
        failed = [self.failed]
        for number in range(3):
            jobid = self.service.add('fail', number)
            self.service.processNext(jobid=jobid)
            failed.append(jobid)
        self.tm.commit()
        self.login()
        self.visit('/jobs?status=error')
        self.assertEqual(len(self.findAll('#jobs tr')) - 1, 4)
        self.find('#retry-failed').click()
        self.waitFor(lambda: self.findAll('#retry-failed-confirm'),
                     'the confirmation')
        self.assertIn('Retry the 4 failed job(s)?',
                      self.find('#question').text)
        self.find('#retry-failed-confirm').click()
        self.waitFor(lambda: self.findAll('#message'), 'the answer')
        self.assertEqual(self.find('#message').text,
                         'retried 4 failed job(s)')
        self.assertEqual(len(self.findAll('#logout')), 1)
        self.tm.begin()
        self.assertEqual([self.service.getStatus(jobid) for jobid in failed],
                         ['queued'] * 4)
        self.find('#back').click()
        self.waitFor(lambda: self.findAll('#none'), 'the empty list')
        self.assertIn('status=error', self.driver.current_url)

    def test_cancel_is_refused_without_the_token(self):
        self.visit('/jobs/%d' % self.queued[0])
        self.assertEqual(self.findAll('#cancel'), [])
        self.postFromThePage('/jobs/%d/cancel' % self.queued[0])
        self.assertIn('log in with the token first',
                      self.find('#message').text)
        self.screenshot('refused')
        self.tm.begin()
        self.assertEqual(self.service.getStatus(self.queued[0]), 'queued')

    def test_cancel_is_refused_without_the_csrf_token(self):
        self.login()
        self.visit('/jobs/%d' % self.queued[0])
        self.driver.execute_script(
            'document.querySelector("#cancel").form'
            '.querySelector("input[name=csrf]").remove()')
        self.find('#cancel').click()
        self.waitFor(lambda: self.findAll('#message'), 'the answer')
        self.assertIn('the CSRF token is missing or wrong',
                      self.find('#message').text)
        self.tm.begin()
        self.assertEqual(self.service.getStatus(self.queued[0]), 'queued')

    def test_log_out(self):
        self.login()
        self.find('#logout').click()
        self.waitFor(lambda: self.findAll('#login'), 'the logout')
        self.visit('/jobs/%d' % self.queued[0])
        self.assertEqual(self.findAll('#cancel'), [])

    def test_a_logout_from_another_page_is_refused(self):
        self.login()
        self.postFromThePage('/logout')
        self.assertIn('the CSRF token is missing or wrong',
                      self.find('#message').text)
        self.visit('/jobs/%d' % self.queued[0])
        self.assertEqual(len(self.findAll('#cancel')), 1)

    def postFromThePage(self, path):
        """Submit a form to ``path``, as another site's page could."""
        self.driver.execute_script(
            'var form = document.createElement("form");'
            'form.method = "post"; form.action = arguments[0];'
            'document.body.appendChild(form); form.submit();', path)
        self.waitFor(lambda: self.findAll('#message'), 'the answer')

    def test_the_page_updates_when_a_worker_completes_jobs(self):
        from z3c.taskqueue.dashboard.tests.test_dashboard import _close
        _close(self.server)
        self.serve(refresh=1)
        self.visit('/')
        self.assertEqual(len(self.findAll('meta[http-equiv=refresh]')), 1)
        self.assertEqual(self.counts()['completed'], 1)
        self.startProcessor()
        # The page reloads itself (every second here); no get() again.
        self.waitFor(lambda: self.counts()['completed'] == 4,
                     'the page to show the completed jobs')
        self.assertEqual(self.counts()['queued'], 0)


def test_suite():
    return unittest.defaultTestLoader.loadTestsFromName(__name__)
