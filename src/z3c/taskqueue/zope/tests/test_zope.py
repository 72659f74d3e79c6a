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
"""A task service in a real Zope: registered the normal way, started,
fed by real HTTP requests, running each job in its site as its user."""
import base64
import unittest
import urllib.error
import urllib.parse
import urllib.request

import transaction
from zope.testing.wait import wait

from z3c.taskqueue.tests._support import installed


# Zope comes with the test extra (plone.testing[zope]); without it the
# tests are skipped, in no layer.  Only missing distributions count: any
# other ImportError fails the import.
ZOPE = installed('OFS', 'ZPublisher', 'plone.testing')
if ZOPE:
    from z3c.taskqueue.tests._zope import ZOPE_FUNCTIONAL


WAIT = 30


@unittest.skipUnless(ZOPE, 'Zope is not installed: the test extra,'
                     ' pip install -e .[test]')
class ZopeSiteTests(unittest.TestCase):

    if ZOPE:
        layer = ZOPE_FUNCTIONAL

    def setUp(self):
        from zope.component.hooks import setSite
        from z3c.taskqueue.processing import processor
        self.app = self.layer['app']
        self.site = self.app.site1
        self.addCleanup(processor.stopAll)
        self.addCleanup(setSite, None)

    def url(self, path):
        return 'http://%s:%s/%s' % (self.layer['host'], self.layer['port'],
                                    path)

    def request(self, path, data=None, user=None, method=None):
        request = urllib.request.Request(
            self.url(path), method=method,
            data=None if data is None else urllib.parse.urlencode(
                data).encode())
        if user is not None:
            token = base64.b64encode(('%s:secret' % user).encode()).decode()
            request.add_header('Authorization', 'Basic ' + token)
        try:
            with urllib.request.urlopen(request, timeout=WAIT) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def service(self):
        from z3c.taskqueue import interfaces
        return self.site.getSiteManager().getUtility(
            interfaces.ITaskService, 'tasks')

    def startProcessing(self):
        from zope.component.hooks import setSite
        service = self.service()
        service.processorArguments = {'waitTime': 0.05}
        transaction.commit()
        setSite(self.site)
        service.startProcessing()
        self.assertTrue(service.isProcessing())
        return service

    def waitFinished(self, service, jobid):
        def finished():
            transaction.begin()
            return service.getStatus(jobid) in ('completed', 'error')
        wait(finished, timeout=WAIT)

    def test_a_utility_of_an_ofs_site_starts_with_its_site_path(self):
        import threading
        self.startProcessing()
        names = [t.name for t in threading.enumerate()]
        self.assertIn('taskqueue.site1@tasks', names)

    def test_a_job_added_in_a_request_runs_in_its_site_as_its_user(self):
        service = self.startProcessing()
        status, body = self.request('site1/@@enqueue', {'word': 'made'},
                                    user='alice')
        self.assertEqual(status, 200, body)
        jobid = int(body)
        self.waitFinished(service, jobid)
        self.assertEqual(service.getStatus(jobid), 'completed',
                         service.getError(jobid))
        seen = service.getResult(jobid)
        base = 'http://localhost:8080'
        self.assertEqual(seen, {
            'input': 'made', 'site': 'site1', 'user': 'alice',
            'url': base + '/site1', 'folderUrl': base + '/site1/made',
            'owner': 'alice'})
        job = service.jobs[jobid]
        self.assertEqual(job.context, {'site': 'site1', 'user': 'alice',
                                       'userFolder': 'acl_users'})

    def test_each_job_runs_as_the_user_who_added_it(self):
        service = self.startProcessing()
        ids = {user: int(self.request('site1/@@enqueue', {'word': user},
                                      user=user)[1])
               for user in ('alice', 'bob')}
        for user, jobid in ids.items():
            self.waitFinished(service, jobid)
            self.assertEqual(service.getResult(jobid)['user'], user)
            self.assertEqual(service.getResult(jobid)['owner'], user)

    def test_a_job_whose_user_is_gone_fails_saying_so(self):
        self.app.acl_users._doAddUser('carol', 'secret', [], [])
        self.site.manage_setLocalRoles('carol', ['Manager'])
        transaction.commit()
        status, body = self.request('site1/@@enqueue', {'word': 'x'},
                                    user='carol')
        jobid = int(body)
        # carol leaves before her job runs.
        transaction.begin()
        self.app.acl_users._doDelUsers(['carol'])
        transaction.commit()
        service = self.startProcessing()
        self.waitFinished(service, jobid)
        self.assertEqual(service.getStatus(jobid), 'error')
        self.assertEqual(service.getError(jobid),
                         "the user 'carol' who added the job no longer"
                         " exists in /acl_users")
        self.assertNotIn('x', self.site.objectIds())

    def test_run_as_nobody(self):
        service = self.startProcessing()
        status, body = self.request('site1/@@enqueue', {'runAs': ''},
                                    user='alice')
        jobid = int(body)
        self.waitFinished(service, jobid)
        self.assertEqual(service.getResult(jobid)['user'], None)
        self.assertEqual(service.getResult(jobid)['site'], 'site1')

    def test_no_one_can_call_a_service_through_the_web(self):
        # A service stored where traversal reaches it (GenericSetup
        # stores utilities inside the site manager, with __parent__ and
        # __name__): neither it nor its methods are published.
        from z3c.taskqueue.model.service import TaskService
        self.site.reachable = TaskService()
        transaction.commit()
        for path in ('site1/reachable', 'site1/reachable/getStatus?jobid=1',
                     'site1/reachable/clean', 'site1/reachable/jobs'):
            for user in (None, 'alice'):
                status, body = self.request(path, user=user)
                self.assertIn(status, (401, 403, 404), (path, user, body))
                self.assertNotIn('TaskService', body)

    def test_a_mistyped_path_finds_no_other_service(self):
        from z3c.taskqueue.model._servicepath import findService
        root = self.app._p_jar.root()
        with self.assertRaises(LookupError):
            findService(root, ['Application', 'site1', 'tasks'])
        with self.assertRaises(LookupError):
            findService(root, 'site1/acl_users@tasks')
        self.assertIs(findService(root, 'site1@tasks')._p_oid,
                      self.service()._p_oid)

    def test_the_jobs_tab_of_the_zmi_is_for_managers(self):
        from zope.component.hooks import setSite
        setSite(self.site)
        jobid = self.service().add('whoami')
        if 'plain' not in self.site.objectIds():
            self.site.manage_addFolder('plain')
        transaction.commit()
        status, body = self.request('site1/manage_main', user='alice')
        self.assertEqual(status, 200)
        self.assertIn('manage_taskqueue_jobs', body, 'no Jobs tab')
        # A folder that is no site has none.
        status, body = self.request('site1/plain/manage_main', user='alice')
        self.assertEqual(status, 200)
        self.assertIn('manage_main', body)
        self.assertNotIn('manage_taskqueue_jobs', body)
        status, body = self.request('site1/manage_taskqueue_jobs',
                                    user='alice')
        self.assertEqual(status, 200, body)
        self.assertIn('manage_taskqueue_job?service=tasks&amp;id=%d'
                      % jobid, body)
        status, body = self.request(
            'site1/manage_taskqueue_job?service=tasks&id=%d' % jobid,
            user='alice')
        self.assertEqual(status, 200, body)
        self.assertIn('<td>whoami</td>', body)
        for path in ('site1/manage_taskqueue_jobs',
                     'site1/manage_taskqueue_job?id=%d' % jobid):
            status, body = self.request(path)
            self.assertEqual(status, 401)
        status, body = self.request('site1/manage_taskqueue_jobs?status=x',
                                    user='alice')
        self.assertEqual(status, 400)
        status, body = self.request('site1/manage_taskqueue_job?id=12345',
                                    user='alice')
        self.assertEqual(status, 404)

    def test_the_zmi_cancels_and_retries_with_the_csrf_token(self):
        import re
        from zope.component.hooks import setSite
        setSite(self.site)
        jobid = self.service().add('whoami')
        transaction.commit()
        status, body = self.request(
            'site1/manage_taskqueue_job?service=tasks&id=%d' % jobid,
            user='alice')
        self.assertIn('id="cancel"', body)
        csrf = re.search(r'name="csrf" value="([^"]+)"', body).group(1)
        fields = {'service': 'tasks', 'id': jobid, 'action': 'cancel'}
        status, body = self.request('site1/manage_taskqueue_action',
                                    dict(fields, csrf='wrong'), user='alice')
        self.assertEqual(status, 403)
        self.assertIn('load the page again', body)
        status, body = self.request('site1/manage_taskqueue_action', fields,
                                    user='alice')
        self.assertEqual(status, 403)
        # Bob's token is not Alice's.
        status, body = self.request('site1/manage_taskqueue_action',
                                    dict(fields, csrf=csrf), user='bob')
        self.assertEqual(status, 403)
        status, body = self.request('site1/manage_taskqueue_action',
                                    dict(fields, csrf=csrf))
        self.assertEqual(status, 401)
        transaction.begin()
        self.assertEqual(self.service().getStatus(jobid), 'queued')
        status, body = self.request('site1/manage_taskqueue_action',
                                    dict(fields, csrf=csrf), user='alice')
        self.assertEqual(status, 200, body)     # redirected to the job
        self.assertIn('id="retry"', body)
        self.assertIn('<div class="alert alert-success" role="alert">\n'
                      '\t\t\tJob %d cancelled.' % jobid, body)
        transaction.begin()
        self.assertEqual(self.service().getStatus(jobid), 'cancelled')
        status, body = self.request(
            'site1/manage_taskqueue_action',
            dict(fields, csrf=csrf, action='retry'), user='alice')
        self.assertEqual(status, 200, body)
        self.assertIn('Job %d is queued again.' % jobid, body)
        transaction.begin()
        self.assertEqual(self.service().getStatus(jobid), 'queued')
        status, body = self.request(
            'site1/manage_taskqueue_action',
            dict(fields, csrf=csrf, action='retry'), user='alice')
        self.assertIn('alert-warning', body)
        self.assertIn('Not retried: job %d is queued' % jobid, body)

    def test_the_zmi_asks_before_it_removes_the_finished_jobs(self):
        import re
        from zope.component.hooks import setSite
        setSite(self.site)
        done = self.service().add('whoami')
        waiting = self.service().add('whoami')
        self.service().cancel(done)
        transaction.commit()
        status, body = self.request('site1/manage_taskqueue_jobs',
                                    user='alice')
        self.assertIn('manage_taskqueue_clean?service=tasks', body)
        status, body = self.request(
            'site1/manage_taskqueue_clean?service=tasks', user='alice')
        self.assertEqual(status, 200, body)
        self.assertIn('class="btn btn-danger"', body)
        self.assertRegex(body, r'It cannot be\s+undone\.')
        csrf = re.search(r'name="csrf" value="([^"]+)"', body).group(1)
        # Without the confirmation, the page that asks for it.
        status, body = self.request(
            'site1/manage_taskqueue_action',
            {'service': 'tasks', 'action': 'clean', 'csrf': csrf},
            user='alice')
        self.assertRegex(body, r'It cannot be\s+undone\.')
        transaction.begin()
        self.assertIn(done, self.service().jobs)
        status, body = self.request(
            'site1/manage_taskqueue_action',
            {'service': 'tasks', 'action': 'clean', 'csrf': csrf,
             'confirmed': 'yes'}, user='alice')
        self.assertEqual(status, 200, body)
        self.assertIn('Removed 1 finished jobs.', body)
        transaction.begin()
        self.assertEqual(list(self.service().jobs), [waiting])
        status, body = self.request(
            'site1/manage_taskqueue_clean?service=tasks', user='alice')
        self.assertIn('There are no finished jobs.', body)

    def test_the_jobs_tab_is_highlighted_on_every_page_of_it(self):
        import re
        from zope.component.hooks import setSite
        setSite(self.site)
        jobid = self.service().add('whoami')
        self.service().cancel(self.service().add('whoami'))
        transaction.commit()
        for path in ('manage_taskqueue_jobs',
                     'manage_taskqueue_job?id=%d' % jobid,
                     'manage_taskqueue_clean'):
            status, body = self.request('site1/' + path, user='alice')
            active = re.findall(r'class="nav-link active"[^>]*>([^<]+)<',
                                body)
            self.assertEqual(active, ['Jobs'], path)

    def test_the_key_of_the_tokens_is_stored_once_for_all_processes(self):
        from z3c.taskqueue.zope import views
        db = self.app._p_jar.db()
        transaction.begin()
        key = views.databaseKey(db)
        self.assertEqual(len(key), 32)
        # Another process: it reads the key the first one stored.
        views._keys.clear()
        self.assertEqual(views.databaseKey(db), key)
        transaction.begin()
        self.assertEqual(self.app._p_jar.root()[views.KEY_NAME], key)
