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
"""Unit tests for ``z3c.taskqueue.processing._malloc``: the worker's fixed mmap
threshold (its effect on RSS is measured by ``bench_soak``)."""
import os
import platform
import unittest


class FixMmapThresholdTests(unittest.TestCase):

    def _callFUT(self):
        from z3c.taskqueue.processing._malloc import fixMmapThreshold
        return fixMmapThreshold()

    def setUp(self):
        from z3c.taskqueue.processing._malloc import VARIABLE
        self.variable = VARIABLE
        before = os.environ.pop(VARIABLE, None)
        if before is not None:
            self.addCleanup(os.environ.__setitem__, VARIABLE, before)
        else:
            self.addCleanup(os.environ.pop, VARIABLE, None)

    @unittest.skipUnless(platform.libc_ver()[0] == 'glibc',
                         'glibc only: elsewhere there is nothing to fix')
    def test_glibc_takes_the_threshold(self):
        self.assertIs(self._callFUT(), True)

    def test_a_threshold_of_the_environment_is_left_alone(self):
        os.environ[self.variable] = '65536'
        self.assertIs(self._callFUT(), False)

    def test_the_threshold_is_glibcs_start_value(self):
        from z3c.taskqueue.processing._malloc import M_MMAP_THRESHOLD
        from z3c.taskqueue.processing._malloc import THRESHOLD
        self.assertEqual((M_MMAP_THRESHOLD, THRESHOLD), (-3, 131072))
