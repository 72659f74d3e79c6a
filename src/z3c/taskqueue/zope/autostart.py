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
        autostart site1@tasks, Plone/sub@tasks, *@mail
    </product-config>

Each entry is ``site@service``: the task service utility named
``service`` of the site at the path ``site`` from the root folder (an
empty ``site`` is the root folder itself).  ``*`` as the site stands for
the root folder and every site in it; ``*`` as the service, for every
task service of the site.  Only real sites count (no acquisition), what
is not a site is skipped, and a bad entry is one line in the log, never
a reason for the others, or the application, not to start.

The environment variable ``Z3C_TASKQUEUE_AUTOSTART`` turns it off
(``off``, ``no``, ``false`` or ``0``) or on (``on``, ``yes``, ``true``
or ``1``).  By default it is on, except in ``zconsole`` scripts
(``zconsole run``, ``zconsole debug``), which should not claim jobs.
"""
import logging
import os
import sys

from z3c.taskqueue.model import _servicepath
from z3c.taskqueue.model.jobcontext import productConfiguration  # noqa: F401


log = logging.getLogger('z3c.taskqueue')
# What the old package never logged (see docs/operations.rst).
detail = logging.getLogger('z3c_taskqueue')

#: The environment variable that turns autostart on or off.
SWITCH = 'Z3C_TASKQUEUE_AUTOSTART'


def enabled(environ=None, argv=None):
    """Tell whether autostart is on in this process (see ``SWITCH``)."""
    environ = os.environ if environ is None else environ
    argv = sys.argv if argv is None else argv
    value = environ.get(SWITCH, '').strip().lower()
    if value in ('off', 'no', 'false', '0'):
        return False
    if value in ('on', 'yes', 'true', '1'):
        return True
    if value:
        log.error('Ignoring %s=%r: say on or off', SWITCH, value)
    script = os.path.basename(argv[0]) if argv else ''
    return not script.startswith('zconsole')


def getAutostartServiceNames(config=None):
    """Return the ``(site, service)`` pairs configured for autostart.

    An entry that is not ``site@service`` is logged and left out.
    """
    if config is None:
        config = productConfiguration()
    names = []
    for entry in (config or {}).get('autostart', '').split(','):
        entry = entry.strip()
        if not entry:
            continue
        site, at, service = entry.rpartition('@')
        site, service = site.strip().strip('/'), service.strip()
        if not at or not service:
            log.error('Ignoring autostart entry %r: it is not site@service'
                      ' (such as site1@tasks, or @tasks for the root'
                      ' folder)', entry)
            continue
        names.append((site, service))
    return names


def findServices(root, siteName, serviceName):
    """Return ``(path, service)`` for the services that
    ``siteName@serviceName`` names; log each one that is missing.
    """
    entry = '%s@%s' % (siteName, serviceName)
    folder = root.get(_servicepath.ROOT_FOLDER)
    if folder is None:
        log.error('Cannot autostart %s: the database has no root folder'
                  ' (%r)', entry, _servicepath.ROOT_FOLDER)
        return []
    if siteName == '*':
        sites = [(name, child) for name, child in
                 [('', folder)] + _servicepath.items(folder)
                 if _servicepath.isSite(child)]
    else:
        site = folder
        for key in filter(None, siteName.split('/')):
            site = _servicepath.child(site, key)
            if site is None:
                log.error('Cannot autostart %s: there is no %r in the root'
                          ' folder', entry, siteName)
                return []
        if not _servicepath.isSite(site):
            log.error('Cannot autostart %s: %r is not a site', entry,
                      siteName or _servicepath.ROOT_FOLDER)
            return []
        sites = [(siteName, site)]
    found = []
    for name, site in sites:
        services = _servicepath.registeredServices(site.getSiteManager())
        found += [('%s@%s' % (name, n), s) for n, s in services
                  if serviceName in ('*', n)]
    if not found:
        log.error('Cannot autostart %s: %s', entry,
                  'no site has a task service %r' % (serviceName,)
                  if siteName == '*' else 'site %r has no task service %r'
                  % (siteName, serviceName))
    return found


def startServices(db, names):
    """Start the services ``names`` (``(site, service)`` pairs) of ``db``.

    A service that is missing or cannot start is logged; it never stops
    the application or another service from starting.  Return the
    number started.
    """
    from zope.component.hooks import getSite
    from zope.component.hooks import setSite
    started = 0
    # The current site, if any, is of another connection (an after-commit
    # hook of a request): five.localsitemanager would look for the path
    # from it to the services' sites.
    current = getSite()
    setSite(None)
    connection = db.open()
    try:
        root = connection.root()
        for siteName, serviceName in names:
            try:
                services = findServices(root, siteName, serviceName)
            except Exception as error:
                log.error('Cannot autostart %s@%s: %s: %s', siteName,
                          serviceName, error.__class__.__name__, error)
                continue
            for path, service in services:
                try:
                    if service.startProcessingAt(path):
                        started += 1
                except Exception as error:
                    log.error('Cannot autostart %s: %s: %s', path,
                              error.__class__.__name__, error)
    finally:
        connection.transaction_manager.abort()
        connection.close()
        setSite(current)
    return started


def startServicesOnOpen(event):
    """Subscriber for ``IDatabaseOpenedWithRoot``: start the configured
    services, unless autostart is off in this process."""
    names = getAutostartServiceNames()
    if not names:
        return
    if not enabled():
        detail.info('Not starting task services %s: autostart is off in'
                    ' this process (%s)',
                    ', '.join('%s@%s' % n for n in names), SWITCH)
        return
    startServices(event.database, names)
