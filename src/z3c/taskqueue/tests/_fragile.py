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
"""Classes that stop loading after they were stored, as code changes.

``Fragile`` instances unpickle until ``breakFragile()`` is called, as a
class whose ``__setstate__`` changed would.  ``Vanishing`` can be removed
from this module with ``removeVanishing()``, as a class deleted by an
upgrade; ``restore()`` undoes both.
"""
import sys


_state = {'broken': False}


class Fragile:

    def __init__(self, text):
        self.text = text

    def __setstate__(self, state):
        if _state['broken']:
            raise ValueError('Fragile no longer loads')
        self.__dict__.update(state)


class Vanishing:

    def __init__(self, text):
        self.text = text


_Vanishing = Vanishing


def breakFragile():
    _state['broken'] = True


def removeVanishing():
    del sys.modules[__name__].Vanishing


def restore():
    _state['broken'] = False
    sys.modules[__name__].Vanishing = _Vanishing
