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

    def update(self):
        from z3c.taskqueue.dashboard import pages
        self.page = self.read(lambda service: pages.jobs(
            service, self.query(), '', hidePayloads=False))
        for row in self.page['rows']:
            row['url'] = self.url(self.jobView, id=row['id'])
        cursor = self.page['cursor']
        self.older = None if cursor is None else self.url(
            self.jobsView, after=cursor, **{
                name: self.page[name] for name in ('status', 'task', 'queue')
                if self.page[name]})
        return self.page


class JobView(ServiceView):
    """Everything about one job, as the dashboard shows it."""

    def update(self):
        from z3c.taskqueue.dashboard import pages
        jobid = self.read(lambda service: pages.jobId(
            str(self.request.form.get('id', ''))))
        self.page = self.read(lambda service: pages.job(service, jobid, ''))
        return self.page


def hasServices(obj):
    """Tell whether ``obj`` is a site with a task service: the filter of
    the "Jobs" tab (see ``zmi``)."""
    try:
        siteManager = obj.getSiteManager()
    except Exception:
        return False
    return bool(list(_servicepath.registeredServices(siteManager)))
