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
"""Reaching an application's database from outside it.

``_uri`` opens the database a zodburi URI names, ``_sharing`` serves one
``file://`` database to several local processes, ``_opening`` finds a
service in a database and says what is wrong with a path or a URI
(``CommandError``), and ``_loading`` loads the modules and ZCML files
that register a process's tasks.  The command line and the dashboard
both use it.

May import: ``zope`` (the autostart switch of a Zope instance that
``_loading`` starts), ``reports``, ``model``, ``cron``, ``interfaces``
and ``events``.
"""
