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
"""Zope and Plone: the integration.

``autostart`` starts services when the application's database opens
(``startup`` keeps the old package's names for it), ``zcml`` is the
``taskqueue:task`` directive, ``views`` the screens of a site's
services, shown in the ZMI (``zmi``, ``zmi.zcml``) and in Plone's
control panel (``controlpanel``, its templates and ``profiles``).  The
package's ``configure.zcml``, ``meta.zcml`` and ``profiles.zcml`` stay
at its top: Zope includes them by the package's name, and the
profiles' ids (``z3c.taskqueue:default``) are made from it.

May import: ``reports``, ``model``, ``cron``, ``interfaces`` and
``events``; it starts processing through the service, not by importing
it.
"""
