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
"""The Plone control panel of a site's task services, and the handlers
of the profiles that start and stop them.

The views are control panels as Plone's own are: in Site Setup's layout
(``prefs_main_template``: its tabs, no columns, no content actions in the
toolbar), with breadcrumbs from Site Setup down to the job (``PathBar``),
Bootstrap's classes, what an action did as a status message, times in
the user's or the site's time zone, and the forms' tokens from
plone.protect.  They are registered for the add-on's browser layer, so
that a site where the add-on is not installed has none of them.
"""
import datetime
import logging

from zope.interface import Interface
from zope.interface import implementer
from zope.publisher.interfaces.browser import IDefaultBrowserLayer

from z3c.taskqueue import interfaces
from z3c.taskqueue.model import _servicepath
from z3c.taskqueue.reports.jobs import age as _age
from z3c.taskqueue.zope.views import ActionView
from z3c.taskqueue.zope.views import CleanView
from z3c.taskqueue.zope.views import JobView
from z3c.taskqueue.zope.views import JobsView
from z3c.taskqueue.zope.views import _


log = logging.getLogger('z3c.taskqueue')

#: The Bootstrap class of the badge of each status in the job list.
BADGES = {
    interfaces.COMPLETED: 'text-bg-success',
    interfaces.ERROR: 'text-bg-danger',
    interfaces.CANCELLED: 'text-bg-secondary',
    interfaces.PROCESSING: 'text-bg-primary',
    interfaces.QUEUED: 'text-bg-info',
}


class ITaskQueueLayer(IDefaultBrowserLayer):
    """The browser layer of a site where the add-on is installed (its
    profile's ``browserlayer.xml``)."""


class ITaskQueueView(Interface):
    """A view of the control panel, whose breadcrumbs it gives."""

    def crumbs():
        """Return the breadcrumbs below the site, as Plone's
        ``breadcrumbs_view`` does: ``absolute_url`` and ``Title``."""


@implementer(ITaskQueueView)
class PloneView:
    """What the add-on's views do in Plone: Site Setup's layout, the
    tokens of plone.protect, status messages, and local times."""

    #: The names of the views (``views.ServiceView``).
    jobsView = '@@taskqueue-jobs'
    jobView = '@@taskqueue-job'
    cleanView = '@@taskqueue-clean'
    actionView = '@@taskqueue-action'
    upView = '@@taskqueue-controlpanel'

    def __call__(self):
        # As Plone's own control panels do (overview-controlpanel): no
        # content actions in the toolbar, no portlets.
        for name in ('disable_border', 'disable_plone.leftcolumn',
                     'disable_plone.rightcolumn'):
            self.request.set(name, 1)
        self.update()
        return self.index()

    def tokenFields(self):
        from plone.protect.authenticator import createToken
        return [('_authenticator', createToken())]

    def checkToken(self):
        from plone.protect.authenticator import check
        check(self.request)

    def say(self, message, type='info'):
        from Products.statusmessages.interfaces import IStatusMessage
        IStatusMessage(self.request).add(message, type)

    def redirect(self, view, **params):
        self.request.response.redirect(self.url(view, **params))
        return ''

    def timezone(self):
        """The user's time zone if they chose one, else the site's (as
        plone.app.event says), else UTC."""
        try:
            from plone.app.event.base import default_timezone
            return default_timezone(self.context, as_tzinfo=True)
        except Exception:
            return datetime.timezone.utc

    def formatTime(self, moment):
        """In the user's or the site's time zone, in the site's format
        (``toLocalizedTime``), with the zone's name."""
        from DateTime import DateTime
        from zope.component import getMultiAdapter
        local = moment.astimezone(self.timezone())
        plone = getMultiAdapter((self.context, self.request), name='plone')
        # toLocalizedTime shows a DateTime in the server's time zone; a
        # time-zone-naive one, as it is (its wall clock is the zone's).
        wallClock = DateTime(local.replace(tzinfo=None))
        return '%s %s' % (plone.toLocalizedTime(wallClock, long_format=True),
                          local.tzname())

    def siteSetup(self):
        from zope.i18nmessageid import MessageFactory
        plone = MessageFactory('plone')
        return {'absolute_url': '%s/@@overview-controlpanel'
                % self.context.absolute_url(),
                'Title': self.translate(plone('Site Setup'))}

    def crumbs(self):
        return [self.siteSetup(),
                {'absolute_url': '%s/%s' % (self.context.absolute_url(),
                                            self.upView),
                 'Title': self.translate(_('Task queue'))}]


class ControlPanel(PloneView):
    """Lists the site's task services: whether they process in this
    instance, their jobs by status, and what uninstalling does."""

    def __init__(self, context, request):
        self.context = context
        self.request = request

    def translate(self, message):
        from zope.i18n import translate
        return translate(message, context=self.request)

    def update(self):
        siteManager = self.context.getSiteManager()
        sitePath = _servicepath.sitePathOf(self.context)
        self.found = []
        for name, service in _servicepath.registeredServices(siteManager):
            counts = service.countJobs()
            age = service.oldestQueuedAge()
            self.found.append({
                'name': name,
                'path': '%s@%s' % (sitePath, name),
                'processing': service.isProcessing(),
                'counts': [(status, counts[status])
                           for status in interfaces.STATUSES],
                'total': sum(counts.values()),
                'oldest': None if age is None else _age(age),
                'url': '%s/%s?service=%s' % (self.context.absolute_url(),
                                             self.jobsView, name),
            })

    def services(self):
        return self.found

    def crumbs(self):
        return PloneView.crumbs(self)


class PloneJobsView(PloneView, JobsView):
    """The jobs of a service, in Plone."""

    def update(self):
        page = super().update()
        for row in page['rows']:
            row['badge'] = 'badge ' + BADGES.get(row['status'],
                                                 'text-bg-light')
        return page

    def crumbs(self):
        return PloneView.crumbs(self) + [{
            'absolute_url': self.url(self.jobsView),
            'Title': self.translate(_('Jobs of ${service}', mapping={
                'service': self.serviceName}))}]


class PloneJobView(PloneView, JobView):
    """A job, in Plone."""

    def crumbs(self):
        return PloneJobsView.crumbs(self) + [{
            'absolute_url': self.url(self.jobView, id=self.page['jobid']),
            'Title': self.translate(_('Job ${id}', mapping={
                'id': self.page['jobid']}))}]


class PloneCleanView(PloneView, CleanView):
    """Whether to remove the finished jobs, in Plone."""

    def crumbs(self):
        return PloneJobsView.crumbs(self) + [{
            'absolute_url': self.url(self.cleanView),
            'Title': self.translate(_('Remove the finished jobs'))}]


class PloneActionView(PloneView, ActionView):
    """The job actions, in Plone: plone.protect's token, and what they
    did as a status message."""

    __call__ = ActionView.__call__


def pathBar():
    """The class of the breadcrumbs of the control panel's views: Plone's
    own (``plone.path_bar``), with the view's crumbs after the site's."""
    from plone.app.layout.viewlets.common import PathBarViewlet

    class PathBar(PathBarViewlet):

        def update(self):
            super().update()
            self.breadcrumbs = (tuple(self.breadcrumbs)
                                + tuple(self.view.crumbs()))

    return PathBar


try:
    PathBar = pathBar()
except ImportError:     # no Plone: the ZCML that needs it is left out
    PathBar = None


# The profiles' handlers

def installed(setupTool):
    """Start the site's services that autostart names, in this instance,
    once the profile's transaction is committed (a GenericSetup
    post_handler): a service installed, or installed again, processes at
    once, as after a restart."""
    import transaction
    from Acquisition import aq_inner
    from Acquisition import aq_parent
    from z3c.taskqueue.zope import autostart
    site = aq_parent(aq_inner(setupTool))
    sitePath = _servicepath.sitePathOf(site)
    names = [(sitePath, service) for siteName, service
             in autostart.getAutostartServiceNames()
             if siteName == sitePath
             or siteName == '*' and '/' not in sitePath]
    if not names:
        return
    if not autostart.enabled():
        autostart.detail.info(
            'Not starting task services %s: autostart is off in this'
            ' process (%s)', ', '.join('%s@%s' % n for n in names),
            autostart.SWITCH)
        return
    db = site._p_jar.db()

    def start(committed):
        if committed:
            autostart.startServices(db, names)
    transaction.get().addAfterCommitHook(start)


def stopServices(setupTool):
    """Stop the processors of the site's task services before the
    uninstall profile removes them, with their jobs and history (a
    GenericSetup pre_handler); say so in the log."""
    from Acquisition import aq_inner
    from Acquisition import aq_parent
    site = aq_parent(aq_inner(setupTool))
    sitePath = _servicepath.sitePathOf(site)
    for name, service in _servicepath.registeredServices(
            site.getSiteManager()):
        service.stopProcessing()
        log.info('Uninstalling z3c.taskqueue from %s: removing service'
                 ' %s@%s with its %d jobs', sitePath or '/', sitePath,
                 name, len(service.jobs))
