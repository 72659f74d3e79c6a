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
"""Startup: the old package's names for what autostart does now.

Sites that used the old package call ``storeDBReference()``, which keeps
the application's database in ``z3c.taskqueue.GLOBALDB``.  Nothing here
needs it any more: a service knows its database.
"""
import z3c.taskqueue
from z3c.taskqueue.zope.autostart import getAutostartServiceNames  # noqa: F401
from z3c.taskqueue.zope.autostart import startServices  # noqa: F401
from z3c.taskqueue.zope.autostart import startServicesOnOpen  # noqa: F401


def storeDBReference(db):
    """Keep ``db`` (or the database of an ``IDatabaseOpened`` event) in
    ``z3c.taskqueue.GLOBALDB``."""
    z3c.taskqueue.GLOBALDB = getattr(db, 'database', db)
