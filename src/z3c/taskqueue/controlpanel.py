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
"""The Plone control panel of a site's task services, and the uninstall
profile's handler that stops them."""
from z3c.taskqueue import _servicepath
from z3c.taskqueue import interfaces


class ControlPanel:
    """Lists the site's task services: whether they process in this
    process, and their jobs by status."""

    def __init__(self, context, request):
        self.context = context
        self.request = request

    def services(self):
        siteManager = self.context.getSiteManager()
        found = []
        for name, service in _servicepath.registeredServices(siteManager):
            counts = service.countJobs()
            age = service.oldestQueuedAge()
            found.append({
                'name': name,
                'processing': service.isProcessing(),
                'counts': [(status, counts[status])
                           for status in interfaces.STATUSES],
                'oldest': None if age is None else '%.0f s' % age,
            })
        return found


class _ServiceView:
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

    def url(self, view, **params):
        import urllib.parse
        params = dict(service=self.serviceName, **params)
        return '%s/@@%s?%s' % (self.context.absolute_url(), view,
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


class JobsView(_ServiceView):
    """The service's jobs, newest first, filtered and paged, as the
    dashboard lists them (``dashboard.pages.jobs``)."""

    def update(self):
        from z3c.taskqueue.dashboard import pages
        self.page = self.read(lambda service: pages.jobs(
            service, self.query(), '', hidePayloads=False))
        for row in self.page['rows']:
            row['url'] = self.url('taskqueue-job', id=row['id'])
        cursor = self.page['cursor']
        self.older = None if cursor is None else self.url(
            'taskqueue-jobs', after=cursor, **{
                name: self.page[name] for name in ('status', 'task', 'queue')
                if self.page[name]})
        return self.page


class JobView(_ServiceView):
    """Everything about one job, as the dashboard shows it."""

    def update(self):
        from z3c.taskqueue.dashboard import pages
        jobid = self.read(lambda service: pages.jobId(
            str(self.request.form.get('id', ''))))
        self.page = self.read(lambda service: pages.job(service, jobid, ''))
        return self.page


def stopServices(setupTool):
    """Stop the processors of the site's task services before the
    uninstall profile removes them (a GenericSetup pre_handler)."""
    from Acquisition import aq_inner
    from Acquisition import aq_parent
    site = aq_parent(aq_inner(setupTool))
    for name, service in _servicepath.registeredServices(
            site.getSiteManager()):
        service.stopProcessing()
