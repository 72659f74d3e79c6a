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

A service lives in one of three places, and its path says which:

- a local utility of a site (an OFS site of Zope or Plone, or a zope.site
  site): ``'site@name'``, the site's path from Zope's root folder (with
  ``/`` between the names of nested sites: ``'Plone/sub@tasks'``; empty
  for the root folder itself) and the utility's name;
- a key of the database root, or an item or attribute of one: a list of
  keys, such as ``['tasks']`` or
  ``['Application', 'site', '++etc++site', 'default', 'tasks']``.

Paths are followed without acquisition: a mistyped path is an error, not
another object found further up.
"""
from zope.component.hooks import getSite
from zope.component.interfaces import ISite

from z3c.taskqueue import interfaces


# Where Zope keeps its root folder in the database root.
ROOT_FOLDER = 'Application'
SITE_MANAGER = '++etc++site'


def findService(root, servicePath):
    """Return the service ``servicePath`` names, starting at ``root``.

    A list of keys starts at the database root or, if its first key is
    not there, at Zope's root folder (as the old package's paths did).
    Raise ``LookupError`` naming what is missing.
    """
    if isinstance(servicePath, str):
        if '@' not in servicePath:
            servicePath = [servicePath]
        else:
            sitePath, name = servicePath.rsplit('@', 1)
            return _siteService(root, sitePath, name)
    keys = list(servicePath)
    obj = root
    if keys and keys[0] not in root and ROOT_FOLDER in root:
        obj = root[ROOT_FOLDER]
    for key in keys:
        obj = _step(obj, key)
        if obj is None:
            if len(keys) == 1:
                raise LookupError('no task service at %r' % key)
            raise LookupError('no task service at %r: %r not found'
                              % (pathName(keys), key))
    return obj


def parsePath(text):
    """Turn the text of a service path into a service path.

    ``site@name`` stays as it is; ``a/b/c`` becomes a list of keys.
    Raise ``ValueError`` for text that names nothing.
    """
    text = text.strip()
    if '@' in text:
        sitePath, name = text.rsplit('@', 1)
        if not name or '*' in text:
            raise ValueError(
                '%r is not site@name: name the utility after the @, as in'
                ' site1@tasks (or @tasks for the root folder)' % (text,))
        return text
    keys = [key for key in text.split('/') if key]
    if not keys:
        raise ValueError('%r names no service: give a path such as tasks,'
                         ' Application/site/++etc++site/default/tasks, or'
                         ' site1@tasks' % (text,))
    return keys


def pathName(servicePath):
    """Return ``servicePath`` as text: ``site@name`` or ``a/b/c``."""
    if isinstance(servicePath, str):
        return servicePath
    return '/'.join(servicePath)


def _step(obj, key):
    """Go from ``obj`` to its item, or else its own attribute, ``key``."""
    if key == SITE_MANAGER:
        return obj.getSiteManager() if isSite(obj) else None
    found = child(obj, key)
    if found is not None:
        return found
    # An attribute of the object itself, never one acquired from above.
    return getattr(_base(obj), key, None)


def child(obj, key):
    """Return the item ``key`` of ``obj``, or None (no acquisition)."""
    try:
        return obj[key]
    except (KeyError, TypeError, AttributeError):
        return None


def _base(obj):
    return getattr(obj, 'aq_base', obj)


def isSite(obj):
    """Tell whether ``obj`` itself is a site (not by acquisition)."""
    return ISite.providedBy(_base(obj))


def _siteService(root, sitePath, name):
    site = root.get(ROOT_FOLDER, root)
    for key in filter(None, sitePath.split('/')):
        site = child(site, key)
        if site is None:
            raise LookupError('no site %r: %r not found' % (sitePath, key))
    if not isSite(site):
        raise LookupError('%r is not a site' % (sitePath or ROOT_FOLDER,))
    service = registeredUtility(site.getSiteManager(), name)
    if service is None:
        raise LookupError('site %r has no task service %r'
                          % (sitePath, name))
    return service


def registeredUtility(siteManager, name):
    """Return the task service registered under ``name`` in
    ``siteManager`` itself (not in its bases), or None."""
    for registration in siteManager.registeredUtilities():
        if (registration.name == name
                and registration.provided.isOrExtends(
                    interfaces.ITaskService)):
            return registration.component
    return None


def registeredServices(siteManager):
    """Return ``(name, service)`` for the task services registered in
    ``siteManager`` itself."""
    return [(registration.name, registration.component)
            for registration in siteManager.registeredUtilities()
            if registration.provided.isOrExtends(interfaces.ITaskService)]


def servicePath(service):
    """Return the path from the database root to the stored ``service``.

    If the service is a utility of the current site
    (``zope.component.hooks.getSite()``) or of a site above it, that is
    ``'site@name'``; if it is stored under a key of the database root or
    of Zope's root folder, or inside objects that are, linked by
    ``__parent__`` and ``__name__`` (as in a zope.site site manager),
    the list of keys; else, if it is a utility of the root folder or of
    a site directly in it, ``'site@name'``.  Raise ``ValueError``
    saying how to fix it otherwise.
    """
    jar = service._p_jar
    if jar is None:
        raise ValueError(
            'the task service is not stored in a database: store it (for'
            ' example root[name] = service, with service.__name__ = name,'
            ' or register it as a utility of a site) and commit before'
            ' processing')
    root = jar.root()
    path = (_pathFromSite(service, getSite())
            or _locationPath(service, root)
            or _pathFromRootFolder(service, root))
    if path:
        return path
    raise ValueError(
        'cannot find the task service %r from the database root: register'
        ' it as a utility of a site and call startProcessing() while that'
        ' site is the current site (zope.component.hooks.setSite), or'
        ' store it under a key of the database root with __name__ set to'
        ' that key' % (service,))


def _pathFromSite(service, site):
    while site is not None:
        if isSite(site):
            path = _pathFromOneSite(service, site)
            if path:
                return path
        site = _parent(site)
    return None


def _pathFromRootFolder(service, root):
    folder = root.get(ROOT_FOLDER)
    if folder is None:
        return None
    for site in [folder] + [obj for unused, obj in items(folder)]:
        if isSite(site):
            path = _pathFromOneSite(service, site)
            if path:
                return path
    return None


def _pathFromOneSite(service, site):
    for name, util in registeredServices(site.getSiteManager()):
        if _same(util, service):
            return '%s@%s' % (sitePathOf(site), name)
    return None


def sitePathOf(site):
    """Return the path of ``site`` from Zope's root folder: names with
    ``/`` between them, empty for the root folder itself."""
    getPhysicalPath = getattr(site, 'getPhysicalPath', None)
    if getPhysicalPath is not None:
        return '/'.join(getPhysicalPath()[1:])
    names = []
    while _parent(site) is not None:
        names.insert(0, site.__name__)
        site = _parent(site)
    return '/'.join(names)


def _parent(obj):
    """Return the container of ``obj``: its acquisition parent in Zope,
    its ``__parent__`` elsewhere."""
    inner = getattr(obj, 'aq_inner', obj)
    parent = getattr(inner, 'aq_parent', None)
    if parent is None:
        parent = getattr(_base(obj), '__parent__', None)
    return parent


def _same(one, other):
    one, other = _base(one), _base(other)
    if one is other:
        return True
    return (one._p_oid is not None and one._p_oid == other._p_oid
            and one._p_jar is not None and other._p_jar is not None
            and one._p_jar.db() is other._p_jar.db())


def items(folder):
    """Return the items of ``folder``, or an empty list."""
    try:
        return list(folder.items())
    except (AttributeError, TypeError):
        return []


def _locationPath(service, root):
    """Follow ``__parent__`` and ``__name__`` up to an object stored in
    the database root; return the keys, or None."""
    path = []
    obj = _base(service)
    while True:
        parent = getattr(obj, '__parent__', None)
        name = getattr(obj, '__name__', None)
        if parent is None:
            if name and root.get(name) is obj:
                path.insert(0, name)
            elif root.get(ROOT_FOLDER) is obj:
                path.insert(0, ROOT_FOLDER)
            else:
                return None
            return path
        if name is None:
            return None
        path.insert(0, name)
        obj = _base(parent)
