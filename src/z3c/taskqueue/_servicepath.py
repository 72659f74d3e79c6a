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
"""Service paths: how a processor finds its service from the database root.
"""
from z3c.taskqueue import interfaces


# Where Zope keeps its root folder in the database root.
ROOT_FOLDER = 'Application'
SITE_MANAGER = '++etc++site'


def findService(root, servicePath):
    """Return the service ``servicePath`` names, starting at ``root``.

    ``servicePath`` is a list of keys, each an item or else an attribute
    of the object before it (``'++etc++site'`` stands for a site's site
    manager), or ``'site@name'``: the task service utility
    ``name`` of the site ``site`` in the root folder (an empty ``site``
    means the root folder itself).  Raise ``LookupError`` naming what is
    missing.
    """
    if isinstance(servicePath, str):
        if '@' not in servicePath:
            servicePath = [servicePath]
        else:
            siteName, name = servicePath.split('@', 1)
            return _siteService(root, siteName, name)
    obj = root
    for key in servicePath:
        obj = _step(obj, key)
        if obj is None:
            raise LookupError('no task service at %r: %r not found'
                              % (list(servicePath), key))
    return obj


def _step(obj, key):
    """Go from ``obj`` to its item, or else its attribute, ``key``."""
    if key == SITE_MANAGER and hasattr(obj, 'getSiteManager'):
        return obj.getSiteManager()
    try:
        return obj[key]
    except (KeyError, TypeError, AttributeError):
        return getattr(obj, key, None)


def _siteService(root, siteName, name):
    folder = root.get(ROOT_FOLDER, root)
    try:
        site = folder[siteName] if siteName else folder
        siteManager = site.getSiteManager()
    except (KeyError, AttributeError, TypeError):
        raise LookupError('no site %r in the root folder' % (siteName,)) \
            from None
    service = siteManager.queryUtility(interfaces.ITaskService, name=name)
    if service is None:
        raise LookupError('site %r has no task service %r'
                          % (siteName, name))
    return service


def servicePath(service):
    """Return the list of keys that leads from the root to ``service``.

    Follow ``__parent__`` and ``__name__`` up to an object stored in the
    database root (or Zope's root folder).  Raise ``ValueError`` if the
    service is not stored in a database, or cannot be reached that way.
    """
    jar = service._p_jar
    if jar is None:
        raise ValueError(
            'the task service is not stored in a database: store it (for'
            ' example root[name] = service, with service.__name__ = name)'
            ' and commit before processing')
    root = jar.root()
    path = []
    obj = service
    while True:
        parent = getattr(obj, '__parent__', None)
        name = getattr(obj, '__name__', None)
        if parent is None:
            if name and root.get(name) is obj:
                path.insert(0, name)
            elif root.get(ROOT_FOLDER) is obj:
                path.insert(0, ROOT_FOLDER)
            else:
                raise ValueError(
                    'cannot find the task service from the database root:'
                    ' %r is not stored under its __name__ %r in the root'
                    % (obj, name))
            return path
        if name is None:
            raise ValueError('%r inside %r has no __name__' % (obj, parent))
        path.insert(0, name)
        obj = parent
