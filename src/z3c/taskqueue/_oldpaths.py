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
"""The old module paths: every public module that moved into a layer
(issue 20), and every module a stored class was written under, stays
importable under its old name, the same module object.  The private
modules (``_claims``, ``_runner`` ...) were never API: their old paths
are gone.

Two kinds of names must keep working.  The public API's (``from
z3c.taskqueue.processor import MultiProcessor``, the console script
``z3c.taskqueue.command:main`` of an older install).  And the paths of the
stored classes, which every database written before the move holds:
ZODB unpickles ``z3c.taskqueue.job Job`` by importing the module
``z3c.taskqueue.job``.  A database written since names the new paths;
``zodbupdate`` with this package's rename map (``model._zodbupdate``)
rewrites an old one, but the old names never stop loading.

A finder on ``sys.meta_path`` answers for the old names only, and only
when they are imported: the package imports none of the moved modules
for it, so an old Zope integration path costs nothing where Zope is not
installed.
"""
import importlib
import importlib.abc
import importlib.util
import sys


#: Old module path → new module path.
MOVED = {
    # The stored model: its classes are in every database.
    'z3c.taskqueue.dependencies': 'z3c.taskqueue.model.dependencies',
    'z3c.taskqueue.expiry': 'z3c.taskqueue.model.expiry',
    'z3c.taskqueue.history': 'z3c.taskqueue.model.history',
    'z3c.taskqueue.job': 'z3c.taskqueue.model.job',
    'z3c.taskqueue.lease': 'z3c.taskqueue.model.lease',
    'z3c.taskqueue.payload': 'z3c.taskqueue.model.payload',
    'z3c.taskqueue.progress': 'z3c.taskqueue.model.progress',
    'z3c.taskqueue.queues': 'z3c.taskqueue.model.queues',
    'z3c.taskqueue.retry': 'z3c.taskqueue.model.retry',
    'z3c.taskqueue.schedule': 'z3c.taskqueue.model.schedule',
    'z3c.taskqueue.service': 'z3c.taskqueue.model.service',
    'z3c.taskqueue.statusindex': 'z3c.taskqueue.model.statusindex',
    'z3c.taskqueue.task': 'z3c.taskqueue.model.task',
    'z3c.taskqueue.throughput': 'z3c.taskqueue.model.throughput',
    'z3c.taskqueue.uniquekeys': 'z3c.taskqueue.model.uniquekeys',
    'z3c.taskqueue.workers': 'z3c.taskqueue.model.workers',
    'z3c.taskqueue.jobcontext': 'z3c.taskqueue.model.jobcontext',
    # Where zodbupdate put zc.queue's queues of a layout-0 database.
    'z3c.taskqueue._layout0': 'z3c.taskqueue.model._layout0',
    # A stored processorFactory names its class.
    'z3c.taskqueue.processor': 'z3c.taskqueue.processing.processor',
    # A Plone site's browser layer registration names the interface.
    'z3c.taskqueue.controlpanel': 'z3c.taskqueue.zope.controlpanel',
    # The rest of the old public API.
    'z3c.taskqueue.autostart': 'z3c.taskqueue.zope.autostart',
    'z3c.taskqueue.startup': 'z3c.taskqueue.zope.startup',
    'z3c.taskqueue.views': 'z3c.taskqueue.zope.views',
    'z3c.taskqueue.zmi': 'z3c.taskqueue.zope.zmi',
    'z3c.taskqueue.zcml': 'z3c.taskqueue.zope.zcml',
    'z3c.taskqueue.command': 'z3c.taskqueue.commands.command',
    'z3c.taskqueue.demo': 'z3c.taskqueue.commands.demo',
}


class OldPathFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports an old module path as the module that now holds its code."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in MOVED:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec):
        # The module itself, not a copy: its classes are the same objects,
        # whatever name a pickle or an import uses.
        return importlib.import_module(MOVED[spec.name])

    def exec_module(self, module):
        pass


def install():
    """Put the finder on ``sys.meta_path``, once."""
    if not any(isinstance(finder, OldPathFinder)
               for finder in sys.meta_path):
        sys.meta_path.append(OldPathFinder())
