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
"""The numbers that arguments and options take: a count is an integer, a
time a finite number, both within a range; ``True`` is neither."""
import math


def isInteger(value, low, high):
    """Tell whether ``value`` is an integer from ``low`` to ``high``."""
    return (isinstance(value, int) and not isinstance(value, bool)
            and low <= value <= high)


def isNumber(value, low, high):
    """Tell whether ``value`` is a finite number from ``low`` to
    ``high``."""
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value) and low <= value <= high)
