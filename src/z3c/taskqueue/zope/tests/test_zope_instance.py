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
"""A fresh Zope instance, as a user makes one: ``mkwsgiinstance``, a site
made and a service registered with ``zconsole run``, ``autostart
site1@tasks`` in ``zope.conf``, ``runwsgi``; jobs enqueued over HTTP run
in the site as their user, and SIGTERM stops Zope cleanly."""
import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

from z3c.taskqueue.tests._workers import ProcessLayer


SETUP = """
import transaction
from Products.Five.component.browser import ObjectManagerSiteView
from z3c.taskqueue import interfaces
from z3c.taskqueue.model.service import TaskService
app.manage_addFolder('site1')
ObjectManagerSiteView(app.site1, None).makeSite()
service = TaskService()
service.processorArguments = {'waitTime': 0.1, 'stopTimeout': 2.0}
app.site1.getSiteManager().registerUtility(
    service, interfaces.ITaskService, 'tasks')
app.acl_users._doAddUser('alice', 'secret', [], [])
app.site1.manage_setLocalRoles('alice', ['Manager'])
transaction.commit()
print('set up')
"""

CHECK = """
from zope.component.hooks import setSite
from z3c.taskqueue import interfaces
service = app.site1.getSiteManager().getUtility(
    interfaces.ITaskService, 'tasks')
print('counts', sorted((k, v) for k, v in service.countJobs().items() if v))
print('processing here', service.isProcessing())
"""


def _bin(name):
    return os.path.join(os.path.dirname(sys.executable), name)


@unittest.skipUnless(os.path.exists(_bin('mkwsgiinstance')),
                     'Zope is not installed')
class ZopeInstanceTests(unittest.TestCase):

    layer = ProcessLayer

    def setUp(self):
        from z3c.taskqueue.testing import freePort
        self.directory = tempfile.mkdtemp(prefix='z3c.taskqueue-zope-')
        self.addCleanup(shutil.rmtree, self.directory, True)
        self.instance = os.path.join(self.directory, 'instance')
        self.run_([_bin('mkwsgiinstance'), '-d', self.instance,
                   '-u', 'admin:admin'])
        etc = os.path.join(self.instance, 'etc')
        self.port = freePort()
        ini = os.path.join(etc, 'zope.ini')
        with open(ini) as f:
            text = f.read().replace('port = 8080', 'port = %d' % self.port)
        with open(ini, 'w') as f:
            f.write(text)
        includes = os.path.join(etc, 'package-includes')
        os.makedirs(includes)
        with open(os.path.join(includes, 'z3c.taskqueue-configure.zcml'),
                  'w') as f:
            f.write('<include package="z3c.taskqueue.tests"'
                    ' file="zope.zcml" />\n')
        self.zopeConf = os.path.join(etc, 'zope.conf')
        with open(self.zopeConf, 'a') as f:
            f.write('\n<product-config z3c.taskqueue>\n'
                    '    autostart site1@tasks\n'
                    '    base-url https://www.example.com\n'
                    '</product-config>\n')
        self.pause = os.path.join(self.directory, 'pause')

    def run_(self, command, **kw):
        result = subprocess.run(command, capture_output=True, text=True,
                                timeout=240, **kw)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        return result.stdout + result.stderr

    def zconsole(self, script):
        path = os.path.join(self.directory, 'script.py')
        with open(path, 'w') as f:
            f.write(script)
        return self.run_([_bin('zconsole'), 'run', self.zopeConf, path])

    def startZope(self):
        self.log = os.path.join(self.directory, 'zope.log')
        # Plone's products are installed here too, and every Zope loads
        # the products it finds: plone.protect would refuse our POSTs,
        # which carry no CSRF token.
        environ = dict(os.environ, PLONE_CSRF_DISABLED='true')
        with open(self.log, 'w') as out:
            self.zope = subprocess.Popen(
                [_bin('runwsgi'), os.path.join(self.instance, 'etc',
                                               'zope.ini')],
                stdout=out, stderr=subprocess.STDOUT, env=environ)
        self.addCleanup(self.killZope)
        deadline = time.time() + 120
        while True:
            try:
                socket.create_connection(('127.0.0.1', self.port), 1).close()
                return
            except OSError:
                if self.zope.poll() is not None or time.time() > deadline:
                    self.fail('Zope did not start:\n' + self.output())
                time.sleep(0.1)

    def killZope(self):
        if self.zope.poll() is None:
            self.zope.kill()
            self.zope.wait()

    def output(self):
        with open(self.log) as f:
            return f.read()

    def request(self, path, data=None, user='alice'):
        request = urllib.request.Request(
            'http://127.0.0.1:%d/%s' % (self.port, path),
            data=None if data is None else urllib.parse.urlencode(
                data).encode())
        token = base64.b64encode(('%s:secret' % user).encode()).decode()
        request.add_header('Authorization', 'Basic ' + token)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.read().decode()
        except urllib.error.HTTPError as error:
            self.fail('%s %s: %s\n%s' % (path, error.code, error.read(),
                                          self.output()[-5000:]))

    def job(self, jobid):
        return json.loads(self.request('site1/@@job?jobid=%d' % jobid))

    def waitFor(self, condition, what, timeout=60):
        deadline = time.time() + timeout
        while not condition():
            if time.time() > deadline:
                self.fail('timed out waiting for %s:\n%s'
                          % (what, self.output()))
            time.sleep(0.1)

    def test_jobs_run_in_the_site_as_their_user_and_zope_stops_cleanly(self):
        out = self.zconsole(SETUP)
        self.assertIn('set up', out)
        # A script is no worker: autostart is off in zconsole.
        out = self.zconsole(CHECK)
        self.assertIn('processing here False', out)

        self.startZope()
        jobid = int(self.request('site1/@@enqueue', {'word': 'made'}))
        self.waitFor(lambda: self.job(jobid)['status'] == 'completed',
                     'the job')
        self.assertEqual(self.job(jobid)['output'], {
            'input': 'made', 'site': 'site1', 'user': 'alice',
            'owner': 'alice', 'url': 'https://www.example.com/site1',
            'folderUrl': 'https://www.example.com/site1/made'})

        # A job that runs when SIGTERM comes is given back, and Zope ends.
        open(self.pause, 'w').close()
        running = int(self.request('site1/@@enqueue',
                                   {'word': self.pause, 'task': 'pause'}))
        self.waitFor(lambda: os.path.exists(self.pause + '.started'),
                     'the pause job to start')
        self.zope.send_signal(signal.SIGTERM)
        self.assertEqual(self.zope.wait(120), -signal.SIGTERM)
        log = self.output()
        self.assertIn('starting service site1@tasks', log)
        self.assertIn('SIGTERM received: stopping', log)
        self.assertIn('gave back %d for other workers' % running, log)
        self.assertIn('Processor taskqueue.site1@tasks stopped', log)
        out = self.zconsole(CHECK)
        self.assertIn("counts [('completed', 1), ('queued', 1)]", out)

    def test_a_worker_process_runs_the_jobs_of_a_zope_instance(self):
        from z3c.taskqueue.commands.command import workerCommand
        self.zconsole(SETUP)
        self.zconsole(ENQUEUE)
        result = subprocess.run(
            workerCommand() + ['worker', '--zope-conf', self.zopeConf,
                               '--service', 'site1@tasks', '--wait', '0.1',
                               '--exit-when-done'],
            capture_output=True, text=True, timeout=240)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn('1 jobs done, 0 to go', result.stderr)
        out = self.zconsole(RESULT)
        self.assertIn("completed {'input': 'byworker', 'site': 'site1',"
                      " 'user': 'alice', 'url':"
                      " 'https://www.example.com/site1', 'folderUrl':"
                      " 'https://www.example.com/site1/byworker', 'owner':"
                      " 'alice'}", out)

    def test_a_page_loaded_before_a_restart_still_acts(self):
        import re
        self.zconsole(SETUP)
        out = self.zconsole(ENQUEUE_LATER)
        jobid = int(re.search(r'^queued (-?\d+)$', out, re.M).group(1))
        self.startZope()
        page = self.request('site1/manage_taskqueue_job?service=tasks&id=%d'
                            % jobid)
        self.assertIn('id="cancel"', page)
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        # Zope restarts (as another instance of the database would, it
        # knows nothing of the process that served the page)...
        self.zope.send_signal(signal.SIGTERM)
        self.assertEqual(self.zope.wait(120), -signal.SIGTERM)
        self.startZope()
        # ... and the button of the page loaded before still works.
        body = self.request('site1/manage_taskqueue_action', {
            'service': 'tasks', 'id': jobid, 'action': 'cancel',
            'csrf': csrf})
        self.assertIn('Job %d cancelled.' % jobid, body)
        self.assertRegex(body, r'<th>status</th>\s*<td>cancelled</td>')


ENQUEUE_LATER = """
import transaction
from z3c.taskqueue import interfaces
service = app.site1.getSiteManager().getUtility(
    interfaces.ITaskService, 'tasks')
print('queued', service.add('whoami', 'later', startLater=True))
transaction.commit()
"""

ENQUEUE = """
import transaction
from AccessControl.SecurityManagement import newSecurityManager
from zope.component.hooks import setSite
from z3c.taskqueue import interfaces
setSite(app.site1)
newSecurityManager(None, app.acl_users.getUser('alice').__of__(app.acl_users))
service = app.site1.getSiteManager().getUtility(
    interfaces.ITaskService, 'tasks')
service.add('whoami', 'byworker')
transaction.commit()
"""

RESULT = """
from z3c.taskqueue import interfaces
service = app.site1.getSiteManager().getUtility(
    interfaces.ITaskService, 'tasks')
for job in service.jobs.values():
    print(job.status, job.output, job.error)
"""
