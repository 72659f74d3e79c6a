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
from z3c.taskqueue.views import JobView  # noqa: F401 (ZCML)
from z3c.taskqueue.views import JobsView  # noqa: F401 (ZCML)


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


def stopServices(setupTool):
    """Stop the processors of the site's task services before the
    uninstall profile removes them (a GenericSetup pre_handler)."""
    from Acquisition import aq_inner
    from Acquisition import aq_parent
    site = aq_parent(aq_inner(setupTool))
    for name, service in _servicepath.registeredServices(
            site.getSiteManager()):
        service.stopProcessing()
