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
"""Run the package's narrative documentation, README.rst, as a doctest."""
import doctest

from z3c.taskqueue.tests._doctests import OPTIONFLAGS
from z3c.taskqueue.tests._doctests import setUp
from z3c.taskqueue.tests._doctests import tearDown


def test_suite():
    return doctest.DocFileSuite(
        '../README.rst', setUp=setUp, tearDown=tearDown,
        optionflags=OPTIONFLAGS)
