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
"""The ZMI's "Jobs" tab: a site that has a task service shows its jobs.

``install()`` adds the tab to the management screens of folders (and of
the root), filtered (``views.hasServices``) so that only sites with a
task service show it.  Its views, in the ZMI's own styles, with the
tab highlighted (``manage_taskqueue_jobs``, ``manage_taskqueue_job``
and ``manage_taskqueue_clean``, the confirmation of removing finished
jobs), need "View management screens"; the actions
(``manage_taskqueue_action``) "z3c.taskqueue: Manage jobs", and say what
they did as the ZMI does (``manage_tabs_message``).  It runs when this
module is imported, which the ZCML that registers the views does.
"""
from z3c.taskqueue.zope.views import ActionView
from z3c.taskqueue.zope.views import CleanView
from z3c.taskqueue.zope.views import JobView
from z3c.taskqueue.zope.views import JobsView
from z3c.taskqueue.zope.views import hasServices


TAB = {'label': 'Jobs', 'action': 'manage_taskqueue_jobs',
       'filter': hasServices}


def install():
    """Add the "Jobs" tab to the ZMI of folders, once."""
    from OFS.Application import Application
    from OFS.Folder import Folder
    for cls in (Folder, Application):
        options = tuple(cls.manage_options)
        if not any(option.get('action') == TAB['action']
                   for option in options):
            cls.manage_options = options + (TAB,)


class ZMIViews:
    """The names of the ZMI's views, and its "Jobs" tab highlighted on
    each of them (``manage_tabs`` reads ``management_view``)."""

    jobsView = 'manage_taskqueue_jobs'
    jobView = 'manage_taskqueue_job'
    cleanView = 'manage_taskqueue_clean'
    actionView = 'manage_taskqueue_action'

    def update(self):
        self.request.set('management_view', TAB['label'])
        return super().update()


class ZMIJobsView(ZMIViews, JobsView):
    """The ZMI's "Jobs" tab of a site."""


class ZMIJobView(ZMIViews, JobView):
    """A job, in the ZMI."""


class ZMICleanView(ZMIViews, CleanView):
    """Whether to remove the finished jobs, in the ZMI."""


class ZMIActionView(ZMIViews, ActionView):
    """The job actions, in the ZMI."""


install()
