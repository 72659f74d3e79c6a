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
"""Views of a site's task services for managers: the jobs of a service,
newest first, and one job, as the dashboard shows them
(``dashboard.pages``).  The Plone control panel and the ZMI's "Jobs" tab
use them, with templates of their own (see ``controlpanel`` and
``zmi``)."""
import hmac
import secrets

from z3c.taskqueue import _servicepath


class ServiceView:
    """A view of one of the site's task services, named by the request's
    ``service`` (by default the first); read in the request's own
    transaction, as the site's user."""

    def __init__(self, context, request):
        self.context = context
        self.request = request

    def service(self):
        from zExceptions import NotFound
        services = dict(_servicepath.registeredServices(
            self.context.getSiteManager()))
        name = self.request.form.get('service') or (
            sorted(services)[0] if services else None)
        if name not in services:
            raise NotFound('this site has no task service %r' % (name,))
        self.serviceName = name
        return services[name]

    def query(self):
        """The request's form as ``urllib.parse.parse_qs`` gives it."""
        return {name: value if isinstance(value, list) else [value]
                for name, value in self.request.form.items()
                if isinstance(value, (str, list))}

    #: The names of the views of a job list and of a job.
    jobsView = '@@taskqueue-jobs'
    jobView = '@@taskqueue-job'

    def url(self, view, **params):
        import urllib.parse
        params = dict(service=self.serviceName, **params)
        return '%s/%s?%s' % (self.context.absolute_url(), view,
                             urllib.parse.urlencode(params))

    def allowActions(self):
        """Let the template show the actions if the user may act."""
        from AccessControl import getSecurityManager
        self.mayAct = getSecurityManager().checkPermission(
            MANAGE_JOBS, self.context)
        self.csrf = csrfToken() if self.mayAct else None
        self.action = '%s/%s' % (self.context.absolute_url(),
                                 self.actionView)

    def read(self, function):
        from zExceptions import BadRequest
        from zExceptions import NotFound
        from z3c.taskqueue.dashboard import pages
        try:
            return function(self.service())
        except pages.BadRequest as error:
            raise BadRequest(str(error)) from None
        except pages.NotFound as error:
            raise NotFound(str(error)) from None


class JobsView(ServiceView):
    """The service's jobs, newest first, filtered and paged, as the
    dashboard lists them (``dashboard.pages.jobs``)."""

    actionView = '@@taskqueue-action'

    def update(self):
        from z3c.taskqueue.dashboard import pages
        self.page = self.read(lambda service: pages.jobs(
            service, self.query(), '', hidePayloads=False))
        self.allowActions()
        for row in self.page['rows']:
            row['url'] = self.url(self.jobView, id=row['id'])
        cursor = self.page['cursor']
        self.older = None if cursor is None else self.url(
            self.jobsView, after=cursor, **{
                name: self.page[name] for name in ('status', 'task', 'queue')
                if self.page[name]})
        return self.page


class JobView(ServiceView):
    """Everything about one job, as the dashboard shows it; with the
    package's permission, its actions."""

    actionView = '@@taskqueue-action'

    def update(self):
        from z3c.taskqueue.dashboard import pages
        jobid = self.read(lambda service: pages.jobId(
            str(self.request.form.get('id', ''))))
        self.page = self.read(lambda service: pages.job(service, jobid, ''))
        self.allowActions()
        return self.page


#: The permission of the job actions in Zope and Plone.
MANAGE_JOBS = 'z3c.taskqueue: Manage jobs'


class ActionView(ServiceView):
    """Cancels or retries a job, or cleans finished jobs, for a POST from
    one of the job views, in the request's own transaction (a conflict
    makes Zope retry the request).

    It needs the package's permission *z3c.taskqueue: Manage jobs*
    (Managers by default), and the form's ``csrf`` token (``csrfToken()``
    of the user: an HMAC of the user's id with a key of this process).
    """

    def __call__(self):
        from zExceptions import BadRequest
        from zExceptions import Forbidden
        from z3c.taskqueue.dashboard import pages
        request = self.request
        if request.get('REQUEST_METHOD', 'GET') != 'POST':
            raise BadRequest('an action is a POST')
        if not hmac.compare_digest(str(request.form.get('csrf', '')),
                                   csrfToken()):
            raise Forbidden('the CSRF token is missing or wrong')
        action = request.form.get('action')
        service = self.service()
        if action == 'clean':
            removed = service.purge(limit=10000)
            return self.redirect(self.jobsView, 'removed %d job(s)'
                                 % removed)
        jobid = self.read(lambda service: pages.jobId(
            str(request.form.get('id', ''))))
        if jobid not in service.jobs:
            raise BadRequest('there is no job %d' % jobid)
        if action == 'cancel':
            service.cancel(jobid)
        elif action == 'retry':
            try:
                service.retry(jobid)
            except ValueError as error:
                raise BadRequest(str(error)) from None
        else:
            raise BadRequest('there is no action %r' % (action,))
        return self.redirect(self.jobView, None, id=jobid)

    def redirect(self, view, done, **params):
        if done:
            params['done'] = done
        self.request.response.redirect(self.url(view, **params))
        return ''


def csrfToken():
    """Return the CSRF token of the current user for the job actions."""
    from AccessControl import getSecurityManager
    user = getSecurityManager().getUser()
    return hmac.new(_KEY, str(user.getId()).encode('utf-8'),
                    'sha256').hexdigest()


# The key of this process's CSRF tokens: a page made by another instance,
# or before a restart, must be loaded again.
_KEY = secrets.token_bytes(32)


def hasServices(obj):
    """Tell whether ``obj`` is a site with a task service: the filter of
    the "Jobs" tab (see ``zmi``)."""
    try:
        siteManager = obj.getSiteManager()
    except Exception:
        return False
    return bool(list(_servicepath.registeredServices(siteManager)))
