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
"""Opening an application's database from outside it, and finding a
task service in it, for the command line and the dashboard: a bad URI,
service path or task module is reported as one ``CommandError`` line.
"""
from z3c.taskqueue import interfaces
from z3c.taskqueue.database import _loading
from z3c.taskqueue.database import _uri
from z3c.taskqueue.model import _servicepath


class CommandError(Exception):
    """A problem with the command's input, reported in one line."""


def openDatabase(uri, create=False, share=False):
    """Open the database ``uri`` names (see ``_uri.openDatabase``).

    A ``file://`` database is shared with the other local processes
    (see ``_sharing``): a process that runs for long (``share``) serves
    it to them, unless another does already.
    """
    from z3c.taskqueue.database import _sharing
    try:
        if uri.startswith('file://') and share:
            return _sharing.openShared(uri)
        if uri.startswith('file://'):
            return _sharing.openFile(uri, create)
        return _uri.openDatabase(uri, create)
    except _uri.URIError as error:
        raise CommandError(str(error)) from None


def loadTasks(modules, zcmlFiles):
    """Load the modules and ZCML files that register the tasks; return
    the names of the tasks (see ``_loading.loadTasks``)."""
    try:
        return _loading.loadTasks(modules, zcmlFiles)
    except _loading.LoadError as error:
        raise CommandError(str(error)) from None


def parsePath(text):
    """Turn ``--service`` into a service path: ``a/b/c`` or ``site@name``.
    """
    try:
        return _servicepath.parsePath(text)
    except ValueError as error:
        raise CommandError('--service: %s' % (error,)) from None


def findService(db, path):
    """Check that the service at ``path`` exists; return it and its
    connection."""
    connection = db.open()
    try:
        service = _servicepath.findService(connection.root(), path)
    except LookupError as error:
        connection.close()
        raise CommandError('%s (create one with: z3c-taskqueue init)'
                           % (error,)) from None
    if not interfaces.ITaskService.providedBy(service):
        connection.close()
        # Named by the path given: the repr of a container shows all of
        # its items.
        raise CommandError('%s is not a task service but a %s' % (
            _servicepath.pathName(path), type(service).__name__))
    return service, connection
