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
"""A ZODB-native task queue and cron service.

The package is divided by layer; each layer's ``__init__`` says what it
holds and what it may import.  Imports run one way, from the top of this
list down (``docs/architecture.rst``; ``tests/test_layers.py`` checks):

``commands``
    The ``z3c-taskqueue`` command line.
``dashboard``
    The operators' web pages and ``/metrics``.
``processing``
    What runs jobs: processor threads, runners, the worker loop and its
    dispatcher, shared commits, leases kept, the process pool.
``database``
    Reaching a database from outside the application: its URI, a
    ``file://`` database shared by local processes, a service found in
    it, the tasks a process loads.
``zope``
    Zope and Plone: autostart, the ZCML directive, the ZMI tab, the
    control panel and its GenericSetup profiles.
``reports``
    What the screens and the commands show of a service.
``model``
    The stored model: the task service and its parts, jobs, payloads,
    queues and indexes.  Its classes are in every database.
``cron``
    When cron schedules fire: crontab expressions, time zones.

This module re-exports the public API, and ``interfaces``, ``events`` and
``testing`` stay at the top.  Every public module that moved keeps its
old path, and so does ``_layout0`` (``_oldpaths``); the other private
modules do not.
"""
from z3c.taskqueue import _oldpaths


_oldpaths.install()

from z3c.taskqueue import interfaces  # noqa: F401 E402
from z3c.taskqueue.interfaces import TaskError  # noqa: F401 E402
from z3c.taskqueue.model import job  # noqa: F401 E402
from z3c.taskqueue.model import service  # noqa: F401 E402
from z3c.taskqueue.model import task  # noqa: F401 E402
from z3c.taskqueue.model.job import CronJob  # noqa: F401 E402
from z3c.taskqueue.model.job import Job  # noqa: F401 E402
from z3c.taskqueue.model.service import TaskService  # noqa: F401 E402
from z3c.taskqueue.model.task import SimpleTask  # noqa: F401 E402


#: The application's database, once ``startup.storeDBReference()`` was
#: called (the old package's API).
GLOBALDB = None
