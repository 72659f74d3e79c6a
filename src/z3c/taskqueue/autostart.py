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
"""Autostart: start task services when the application's database opens.

Configure it in ``zope.conf``::

    <product-config z3c.taskqueue>
        autostart site1@tasks, *@*
    </product-config>

Each entry is ``site@service``: the task service utility named
``service`` in the site stored as ``site`` in the root folder.  ``*``
stands for every site or every service; an empty site name is the root
folder itself.
"""
import logging

from z3c.taskqueue import _servicepath
from z3c.taskqueue import interfaces


log = logging.getLogger('z3c.taskqueue')


def productConfiguration():
    """Return the ``<product-config z3c.taskqueue>`` section, or None."""
    try:
        from App.config import getConfiguration
    except ImportError:
        pass
    else:
        config = getattr(getConfiguration(), 'product_config', None) or {}
        if config.get('z3c.taskqueue') is not None:
            return config['z3c.taskqueue']
    try:
        from zope.app.appsetup.product import getProductConfiguration
    except ImportError:
        return None
    return getProductConfiguration('z3c.taskqueue')


def getAutostartServiceNames(config=None):
    """Return the ``(site, service)`` pairs configured for autostart."""
    if config is None:
        config = productConfiguration()
    names = []
    for entry in (config or {}).get('autostart', '').split(','):
        entry = entry.strip()
        if not entry:
            continue
        if '@' not in entry:
            log.error('Ignoring autostart entry %r: it is not site@service',
                      entry)
            continue
        names.append(tuple(part.strip() for part in entry.split('@', 1)))
    return names


def findServices(root, siteName, serviceName):
    """Yield the services that ``siteName@serviceName`` names.

    Log what is missing, and go on.
    """
    folder = root.get(_servicepath.ROOT_FOLDER, root)
    if siteName == '*':
        sites = [(name, site) for name, site in _items(folder)
                 if hasattr(site, 'getSiteManager')]
    elif not siteName:
        sites = [('', folder)]
    else:
        site = _get(folder, siteName)
        if site is None or not hasattr(site, 'getSiteManager'):
            log.error('Cannot autostart %s@%s: there is no site %r',
                      siteName, serviceName, siteName)
            return
        sites = [(siteName, site)]
    for name, site in sites:
        siteManager = site.getSiteManager()
        if serviceName == '*':
            yield from (service for unused, service in
                        siteManager.getUtilitiesFor(interfaces.ITaskService))
            continue
        service = siteManager.queryUtility(interfaces.ITaskService,
                                           name=serviceName)
        if service is None:
            log.error('Cannot autostart %s@%s: site %r has no task service'
                      ' %r', name, serviceName, name, serviceName)
            continue
        yield service


def startServices(db, names):
    """Start the services ``names`` (``(site, service)`` pairs) of ``db``.

    A service that is missing or cannot start is logged; it never stops
    the application from starting.  Return the number started.
    """
    started = 0
    connection = db.open()
    try:
        root = connection.root()
        for siteName, serviceName in names:
            try:
                for service in findServices(root, siteName, serviceName):
                    service.startProcessing()
                    started += 1
            except Exception:
                log.exception('Cannot autostart %s@%s', siteName,
                              serviceName)
    finally:
        connection.transaction_manager.abort()
        connection.close()
    return started


def startServicesOnOpen(event):
    """Subscriber for ``IDatabaseOpenedWithRoot``: start the configured
    services."""
    names = getAutostartServiceNames()
    if names:
        startServices(event.database, names)


def _items(folder):
    try:
        return list(folder.items())
    except AttributeError:
        return []


def _get(folder, name):
    try:
        return folder[name]
    except (KeyError, TypeError):
        return None
