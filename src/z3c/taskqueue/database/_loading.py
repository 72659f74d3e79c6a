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
"""Loading tasks: the modules and ZCML files that register a worker's
tasks."""
import importlib
import os
import sys

import zope.component

from z3c.taskqueue import interfaces


class LoadError(Exception):
    """The tasks cannot be loaded; the message says why, in one line."""


def loadTasks(modules, zcmlFiles):
    """Import ``modules`` and load ``zcmlFiles``, which register tasks.

    The modules, and those the ZCML names, are looked for in the current
    directory first, as ``python -m`` does (and Celery's and RQ's
    workers): ``--import myapp.tasks`` works in the project's directory.
    """
    if modules or zcmlFiles:
        addCurrentDirectory()
    for name in modules:
        _importTasks(name)
    if zcmlFiles:
        import z3c.taskqueue
        from zope.configuration import xmlconfig
        # The taskqueue:task directive, without an <include>.
        context = xmlconfig.file('meta.zcml', z3c.taskqueue, execute=False)
        for path in zcmlFiles:
            try:
                context = xmlconfig.file(
                    os.path.abspath(path), package=packageOf(path),
                    context=context, execute=False)
            except Exception as error:
                raise LoadError('cannot load ZCML file %r: %s' % (
                    path, error)) from None
        try:
            context.execute_actions()
        except Exception as error:
            raise LoadError('cannot load ZCML: %s' % (error,)) from None
    tasks = sorted(name for name, unused in zope.component.getUtilitiesFor(
        interfaces.ITask))
    if not tasks:
        raise LoadError('no task is registered: name the modules or ZCML'
                           ' files that register them with --import or'
                           ' --zcml')
    return tasks


def addCurrentDirectory():
    """Put the current directory first on ``sys.path``, unless it is
    there (``''`` is, for ``python -c``)."""
    here = os.getcwd()
    if '' not in sys.path and here not in sys.path:
        sys.path.insert(0, here)
        importlib.invalidate_caches()


class _ExitDuringImport(BaseException):
    """A module called ``os._exit()`` while ``--import`` imported it."""


def _importTasks(name):
    """Import the module ``name``; a failure, or a call of ``sys.exit()``
    or ``os._exit()`` while it is imported, is a LoadError."""
    def refuse(status):
        raise _ExitDuringImport(status)
    real, os._exit = os._exit, refuse
    try:
        importlib.import_module(name)
    except SystemExit as error:
        raise LoadError('module %r called sys.exit(%r) while it was'
                           ' imported' % (name, error.code)) from None
    except _ExitDuringImport as error:
        raise LoadError('module %r called os._exit(%r) while it was'
                           ' imported' % (name, error.args[0])) from None
    except Exception as error:
        raise LoadError('cannot import module %r: %s: %s' % (
            name, error.__class__.__name__, error)) from None
    finally:
        os._exit = real


def packageOf(path):
    """Return the package a ZCML file lies in, for its relative dotted
    names (``handler=".tasks.send"``), or None.

    The package is the innermost directory with an ``__init__.py`` whose
    dotted name imports from ``sys.path``.
    """
    directory = os.path.dirname(os.path.abspath(path))
    names = []
    while os.path.exists(os.path.join(directory, '__init__.py')):
        names.insert(0, os.path.basename(directory))
        directory = os.path.dirname(directory)
    while names:
        try:
            return importlib.import_module('.'.join(names))
        except ImportError:
            names.pop(0)    # a namespace package's directory, say
    return None


def startZope(zopeConf):
    """Start the Zope instance of ``zopeConf`` in this process, as
    ``zconsole`` does: its products and ZCML are loaded (so are the
    tasks they register) and its database is opened.  Return the
    database.  Autostart is off in this process: the worker runs the
    jobs.
    """
    if not os.path.exists(zopeConf):
        raise LoadError('there is no Zope configuration file %r'
                        % (zopeConf,))
    try:
        import Zope2
        from Zope2.Startup.run import make_wsgi_app
    except ImportError:
        raise LoadError('--zope-conf needs Zope installed') from None
    from z3c.taskqueue.zope.autostart import SWITCH
    os.environ[SWITCH] = 'off'
    try:
        make_wsgi_app({}, zopeConf)
    except (Exception, SystemExit) as error:
        raise LoadError('cannot start the Zope instance of %r: %s: %s' % (
            zopeConf, error.__class__.__name__, error)) from None
    return Zope2.DB
