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
task service show it; its views (``manage_taskqueue_jobs`` and
``manage_taskqueue_job``) need "View management screens".  It runs when
this module is imported, which the ZCML that registers the views does.
"""
from z3c.taskqueue.views import ActionView
from z3c.taskqueue.views import JobView
from z3c.taskqueue.views import JobsView
from z3c.taskqueue.views import hasServices


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


class ZMIJobsView(JobsView):
    """The ZMI's "Jobs" tab of a site."""

    jobsView = 'manage_taskqueue_jobs'
    jobView = 'manage_taskqueue_job'
    actionView = 'manage_taskqueue_action'


class ZMIJobView(JobView):
    """A job, in the ZMI."""

    jobsView = ZMIJobsView.jobsView
    jobView = ZMIJobsView.jobView
    actionView = 'manage_taskqueue_action'


class ZMIActionView(ActionView):
    """The job actions, in the ZMI."""

    jobsView = ZMIJobsView.jobsView
    jobView = ZMIJobsView.jobView


install()
