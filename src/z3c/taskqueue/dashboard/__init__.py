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
"""The dashboard: web pages and Prometheus metrics for operators.

``z3c-taskqueue dashboard URI --service PATH`` serves them with waitress
on 127.0.0.1:8180.  The pages read the database on a connection of
their own and never write to it; they refresh by themselves while open,
and need no JavaScript and nothing from the network.

- ``app``: the WSGI application: routes, security headers, error pages;
- ``security``: the token, sessions and CSRF tokens;
- ``actions``: cancelling, retrying and cleaning jobs;
- ``chart``: the queue depth and throughput over time, as an SVG chart;
- ``metrics``: ``/metrics`` in the Prometheus text format;
- ``server``: the command that serves it all.

What each page shows is ``reports.pages``, which the Zope and Plone
screens show too.

May import: ``processing``, ``database``, ``zope``, ``reports``,
``model``, ``cron``, ``interfaces`` and ``events``; not ``commands``.
"""
