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
"""Reports: what the command line and the screens show of a service.

``jobs`` describes jobs (a line each, everything about one, cron jobs'
next runs), ``status`` the counts by status and queue and the workers'
records, ``pages`` what each page of the dashboard and of the Zope and
Plone screens shows.  Read only: nothing here changes a service.

May import: ``model``, ``cron``, ``interfaces`` and ``events``.
"""
