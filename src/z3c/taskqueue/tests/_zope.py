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
"""A real Zope for the tests: a folder made a site the ZMI's way, a task
service registered in it, users, a view that enqueues, and a task that
says where and as whom it ran."""
import plone.testing
import zope.component
import zope.interface
from plone.testing import zope as zopetesting
from zope.component.hooks import getSite

from z3c.taskqueue import interfaces


class EnqueueView:
    """POST ``word=...`` to add a ``whoami`` job; the job's id is the
    answer.  Stands for an application's form."""

    def __init__(self, context, request):
        self.context = context
        self.request = request

    def __call__(self):
        if self.request.get('REQUEST_METHOD') != 'POST':
            self.request.response.setStatus(405)
            return 'POST only'
        service = zope.component.getUtility(interfaces.ITaskService,
                                            name='tasks')
        runAs = self.request.form.get('runAs')
        task = self.request.form.get('task', 'whoami')
        return str(service.add(task, self.request.form.get('word'),
                               runAs=runAs))


class JobView:
    """``?jobid=N``: the job's status, error and output, as JSON."""

    def __init__(self, context, request):
        self.context = context
        self.request = request

    def __call__(self):
        import json
        service = zope.component.getUtility(interfaces.ITaskService,
                                            name='tasks')
        job = service.jobs[int(self.request.form['jobid'])]
        self.request.response.setHeader('Content-Type', 'application/json')
        return json.dumps({'status': job.status, 'error': job.error,
                           'output': job.output}, default=str)


@zope.interface.implementer(interfaces.ITask)
class WhoAmI:
    """Records the site, the user and a URL, and adds a folder to the
    site, as the user."""

    inputSchema = outputSchema = retryPolicy = None

    def __call__(self, service, jobid, input):
        from AccessControl import getSecurityManager
        site = getSite()
        user = getSecurityManager().getUser()
        seen = {
            'input': input,
            'site': None if site is None else site.getId(),
            'user': user.getId(),
            'url': None if site is None else site.absolute_url(),
        }
        if site is not None and input:
            site.manage_addFolder(input)
            folder = site[input]
            seen['folderUrl'] = folder.absolute_url()
            seen['owner'] = folder.getOwner().getId()
        return seen


def makeSite(folder):
    """Make ``folder`` a site as the ZMI's "Make site" button does
    (``Products.Five.component.browser.ObjectManagerSiteView``)."""
    from Products.Five.component.browser import ObjectManagerSiteView
    ObjectManagerSiteView(folder, None).makeSite()
    return folder.getSiteManager()


class ZopeLayer(plone.testing.Layer):
    """A real Zope application served by a real WSGI server: site1, a
    folder made a site, with the task service ``tasks`` registered in it,
    and alice, a manager of site1 only."""

    defaultBases = (zopetesting.WSGI_SERVER_FIXTURE,)

    def setUp(self):
        from plone.testing import zca
        from plone.testing import zodb
        from zope.configuration import xmlconfig
        from z3c.taskqueue.model.service import TaskService
        import z3c.taskqueue.tests
        # A database of its own, so that the layer can be set up again
        # in the same run (after a Plone layer, say).
        self['zodbDB'] = zodb.stackDemoStorage(self.get('zodbDB'),
                                               name='z3c.taskqueue:Zope')
        self['configurationContext'] = context = zca.stackConfigurationContext(
            self.get('configurationContext'))
        xmlconfig.file('zope.zcml', z3c.taskqueue.tests, context=context)
        with zopetesting.zopeApp() as app:
            app.manage_addFolder('site1')
            site = app.site1
            registry = makeSite(site)
            registry.registerUtility(TaskService(), interfaces.ITaskService,
                                     'tasks')
            app.acl_users._doAddUser('alice', 'secret', [], [])
            app.acl_users._doAddUser('bob', 'secret', [], [])
            site.manage_setLocalRoles('alice', ['Manager'])
            site.manage_setLocalRoles('bob', ['Manager'])

    def tearDown(self):
        del self['configurationContext']
        self['zodbDB'].close()
        del self['zodbDB']


ZOPE_FIXTURE = ZopeLayer(name='z3c.taskqueue:Zope')
ZOPE_FUNCTIONAL = zopetesting.FunctionalTesting(
    bases=(ZOPE_FIXTURE,), name='z3c.taskqueue:Zope:Functional')
