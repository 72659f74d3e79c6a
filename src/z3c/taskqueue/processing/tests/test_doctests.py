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
"""Run the processing layer's narrative documentation as doctests."""
import doctest
import unittest

from z3c.taskqueue.tests._doctests import OPTIONFLAGS
from z3c.taskqueue.tests._doctests import setUpInTempDir
from z3c.taskqueue.tests._doctests import setUpLegacy
from z3c.taskqueue.tests._doctests import tearDownInTempDir
from z3c.taskqueue.tests._doctests import tearDownLegacy


def test_suite():
    return unittest.TestSuite([
        doctest.DocFileSuite(
            '../legacy-processor.rst',
            setUp=setUpLegacy, tearDown=tearDownLegacy,
            optionflags=OPTIONFLAGS),
        doctest.DocFileSuite(
            '../processor.rst',
            setUp=setUpInTempDir, tearDown=tearDownInTempDir,
            optionflags=OPTIONFLAGS),
    ])
