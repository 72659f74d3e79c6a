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
"""What the narrative doctests of every layer set up and tear down."""
import doctest
import random

import transaction
import zope.testing.setupstack

import zope.component.testing


OPTIONFLAGS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS


def setUp(test):
    zope.component.testing.setUp(test)
    random.seed(27)


def tearDown(test):
    zope.component.testing.tearDown(test)


def setUpInTempDir(test):
    setUp(test)
    zope.testing.setupstack.setUpDirectory(test)


def tearDownInTempDir(test):
    from z3c.taskqueue.model import _timelimit
    from z3c.taskqueue.processing import processor
    processor.stopAll()
    _timelimit._watchdog.join(5)
    transaction.abort()
    zope.testing.setupstack.tearDown(test)
    tearDown(test)


def setUpLegacy(test):
    """What the old package's tests did with zope.app.testing's
    ``placefulSetUp(site=True)``: a root folder that is the current site,
    a log handler, and processors that do not wait."""
    import logging
    from zope.component.hooks import setSite
    from zope.site.folder import rootFolder
    from zope.site.site import LocalSiteManager
    from zope.testing.loggingsupport import InstalledHandler
    from z3c.taskqueue.model.service import TaskService
    setUp(test)
    root = rootFolder()
    root.setSiteManager(LocalSiteManager(root))
    setSite(root)
    test.globs['root'] = root
    test.globs['log_info'] = InstalledHandler('z3c.taskqueue',
                                              level=logging.INFO)
    test.origArgs = TaskService.processorArguments
    TaskService.processorArguments = {'waitTime': 0.0}


def tearDownLegacy(test):
    from zope.component.hooks import setSite
    from z3c.taskqueue.model.service import TaskService
    from z3c.taskqueue.processing import processor
    processor.stopAll()
    transaction.abort()
    test.globs['log_info'].uninstall()
    TaskService.processorArguments = test.origArgs
    setSite(None)
    random.seed()
    tearDown(test)
