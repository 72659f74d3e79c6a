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
"""A ZODB-native task queue and cron service."""
from z3c.taskqueue import interfaces  # noqa: F401
from z3c.taskqueue import job  # noqa: F401
from z3c.taskqueue import service  # noqa: F401
from z3c.taskqueue import task  # noqa: F401
from z3c.taskqueue.interfaces import TaskError  # noqa: F401
from z3c.taskqueue.job import CronJob  # noqa: F401
from z3c.taskqueue.job import Job  # noqa: F401
from z3c.taskqueue.service import TaskService  # noqa: F401
from z3c.taskqueue.task import SimpleTask  # noqa: F401


#: The application's database, once ``startup.storeDBReference()`` was
#: called (the old package's API).
GLOBALDB = None
