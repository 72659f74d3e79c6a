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
"""Job contexts: where and as whom a job runs.

When a job is added, ``capture()`` records the current site and the
current user; a processor runs the job inside ``entered()``, in that site
and as that user, the way a request would: in Zope, with the site set
(``zope.component.hooks.setSite``), a security manager for the user found
again in the user folder that holds it, and a request whose URLs are the
site's public ones; with zope.security, an interaction for the principal.
After the job, all of it is cleared again.

A context is a dict of strings, stored with the job: ``site`` (the path
of the site from Zope's root folder, as in ``site@name``), ``user`` and
``userFolder`` (the id of a Zope user and the path of its user folder),
``principal`` (the id of a zope.security principal).  Plain ZODB
applications have none of them, and their jobs run as they always did.
"""
import contextlib
import logging

from zope.component.hooks import getSite
from zope.component.hooks import setSite

from z3c.taskqueue import interfaces
from z3c.taskqueue.model import _servicepath


log = logging.getLogger('z3c.taskqueue')

#: ``runAs=NOBODY``: run the job as nobody (the anonymous user).
NOBODY = ''

#: The URL at which Zope's root folder is served, unless configured.
DEFAULT_BASE_URL = 'http://localhost:8080'


class JobContextError(interfaces.TaskError):
    """The context a job was added in cannot be entered: its site or its
    user no longer exists.  The job ends in ``error``."""


def capture(runAs=None):
    """Return the context to run a job in that is added now, or None.

    ``runAs`` is None for the current user, ``NOBODY``, or the id of a
    user (looked up, when the job runs, in the user folders from its site
    up to the root).
    """
    context = {}
    site = getSite()
    if site is not None and _servicepath.isSite(site):
        context['site'] = _servicepath.sitePathOf(site)
    if runAs is None:
        context.update(_currentUser())
    elif runAs != NOBODY:
        if not isinstance(runAs, str):
            raise ValueError('runAs must be a user id, NOBODY or None, not'
                             ' %r' % (runAs,))
        context['user'] = runAs
    return context or None


def _currentUser():
    found = {}
    try:
        from AccessControl.SecurityManagement import getSecurityManager
    except ImportError:
        pass
    else:
        user = getSecurityManager().getUser()
        userid = _userId(user)
        if userid is not None:
            found['user'] = userid
            folder = _userFolderOf(user)
            if folder is not None:
                found['userFolder'] = folder
    try:
        from zope.security.management import queryInteraction
    except ImportError:
        return found
    interaction = queryInteraction()
    for participation in getattr(interaction, 'participations', ()):
        principal = getattr(participation, 'principal', None)
        if principal is not None and getattr(principal, 'id', None):
            found['principal'] = principal.id
            break
    return found


def _userId(user):
    from AccessControl import SpecialUsers
    if user is None or user is SpecialUsers.nobody:
        return None
    getId = getattr(user, 'getId', None)
    return getId() if getId is not None else None


def _userFolderOf(user):
    try:
        from Acquisition import aq_inner
        from Acquisition import aq_parent
    except ImportError:
        return None
    folder = aq_parent(aq_inner(user))
    if folder is None or not hasattr(folder, 'getPhysicalPath'):
        return None
    return '/'.join(folder.getPhysicalPath()[1:])


def runAsOf(job, task):
    """Return whom ``job`` runs as: its own ``runAs``, else its task's,
    else None (the user who added it)."""
    runAs = getattr(job, 'runAs', None)
    if runAs is None:
        runAs = getattr(task, 'runAs', None)
    return runAs


@contextlib.contextmanager
def entered(job, task, connection, baseURL=None):
    """Run the body in the context of ``job``, loaded through
    ``connection``; clear it again afterwards.

    Raise ``JobContextError`` if the site or the user is gone.
    """
    context = dict(job.context or {})
    runAs = runAsOf(job, task)
    if runAs == NOBODY:
        context.pop('user', None)
        context.pop('userFolder', None)
        context.pop('principal', None)
    elif runAs is not None:
        context['user'] = runAs
        context.pop('userFolder', None)
    if not context:
        yield
        return
    root = connection.root()
    # Zope's root folder, an OFS object, takes part in acquisition.
    if hasattr(root.get(_servicepath.ROOT_FOLDER), '__of__'):
        with _zope2(context, root, baseURL):
            yield
    else:
        with _ztk(context, root):
            yield


@contextlib.contextmanager
def _zope2(context, root, baseURL):
    from AccessControl.SecurityManagement import newSecurityManager
    from AccessControl.SecurityManagement import noSecurityManager
    from zope.globalrequest import clearRequest
    from zope.globalrequest import setRequest
    app, request = _requestApp(root, context.get('site'), baseURL)
    try:
        site = _traverse(app, context.get('site'))
        if context.get('site') and site is None:
            raise JobContextError('the site %r of the job no longer exists'
                                  % (context['site'],))
        setRequest(request)
        if site is not None:
            setSite(site)
            _rootURLs(request, site, context.get('site'), baseURL)
        if context.get('user'):
            user = _findUser(app, site, context['user'],
                             context.get('userFolder'))
            newSecurityManager(request, user)
        yield
    finally:
        noSecurityManager()
        setSite(None)
        clearRequest()
        request.close()


def _requestApp(root, sitePath, baseURL):
    from Testing.makerequest import makerequest
    import urllib.parse
    url = urllib.parse.urlsplit(_urlFor(sitePath, baseURL)[1])
    https = url.scheme == 'https'
    environ = {
        'SERVER_NAME': url.hostname or 'localhost',
        'SERVER_PORT': str(url.port or (443 if https else 80)),
        'REQUEST_METHOD': 'GET',
    }
    if https:
        environ['HTTPS'] = 'on'
        environ['wsgi.url_scheme'] = 'https'
    app = makerequest(root[_servicepath.ROOT_FOLDER], environ=environ)
    return app, app.REQUEST


def _urlFor(sitePath, baseURL):
    """Return ``(served, url)``: the path of the object served at the
    URL (``''`` for the root folder), and the URL, for a job in the site
    ``sitePath`` (see ``baseURLs()``)."""
    urls = baseURLs(baseURL)
    sitePath = sitePath or ''
    served = max((path for path in urls
                  if path == '' or sitePath == path
                  or sitePath.startswith(path + '/')), key=len)
    return served, urls[served]


def _rootURLs(request, site, sitePath, baseURL):
    """Make the URLs of the request those of the public web site: if a
    URL is configured for the site (or one above it), that site is the
    virtual root."""
    import urllib.parse
    served, url = _urlFor(sitePath, baseURL)
    parts = urllib.parse.urlsplit(url)
    request.setServerURL(parts.scheme, parts.hostname,
                         parts.port or (443 if parts.scheme == 'https'
                                        else 80))
    root = site
    for unused in range(len(list(filter(None, (sitePath or '').split('/'))))
                        - len(list(filter(None, served.split('/'))))):
        root = _servicepath._parent(root)
    request['PARENTS'] = [root]
    request.setVirtualRoot(list(filter(None, parts.path.split('/'))))


def _traverse(app, path):
    """Return the object at ``path`` (names with ``/``) from ``app``,
    without acquisition, or None."""
    obj = app
    for key in filter(None, (path or '').split('/')):
        if obj is None:
            break
        obj = _servicepath.child(obj, key)
    return obj


def _findUser(app, site, userid, folderPath):
    """Return the user ``userid``, wrapped in its user folder: the one at
    ``folderPath``, else the first that has it from ``site`` up."""
    folders = []
    if folderPath is not None:
        folder = _traverse(app, folderPath)
        if folder is not None:
            folders.append(folder)
    else:
        obj = site if site is not None else app
        while obj is not None:
            folder = getattr(_servicepath._base(obj), 'acl_users', None)
            if folder is not None:
                folders.append(obj.acl_users)
            obj = _servicepath._parent(obj)
    for folder in folders:
        user = folder.getUserById(userid)
        if user is not None:
            return user.__of__(folder)
    raise JobContextError(
        'the user %r who added the job no longer exists%s' % (
            userid, ' in %s' % ('/' + folderPath) if folderPath is not None
            else ''))


@contextlib.contextmanager
def _ztk(context, root):
    """The context of a zope.site application: the site, and an
    interaction for the principal (zope.security)."""
    site = None
    if context.get('site') is not None:
        site = _traverse(root.get(_servicepath.ROOT_FOLDER),
                         context['site'])
        if site is None:
            raise JobContextError('the site %r of the job no longer exists'
                                  % (context['site'],))
    interaction = False
    try:
        if site is not None:
            setSite(site)
        if context.get('principal'):
            interaction = _newInteraction(context['principal'])
        yield
    finally:
        if interaction:
            from zope.security.management import endInteraction
            endInteraction()
        setSite(None)


def _newInteraction(principalId):
    from zope.authentication.interfaces import IAuthentication
    from zope.component import queryUtility
    from zope.security.management import endInteraction
    from zope.security.management import newInteraction
    auth = queryUtility(IAuthentication)
    principal = None
    if auth is not None:
        try:
            principal = auth.getPrincipal(principalId)
        except Exception:
            principal = None
    if principal is None:
        raise JobContextError('the principal %r who added the job no longer'
                              ' exists' % (principalId,))
    endInteraction()
    newInteraction(_Participation(principal))
    return True


class _Participation:
    interaction = None

    def __init__(self, principal):
        self.principal = principal


def baseURLs(baseURL=None):
    """Return the public URLs, by site path (``''`` for the root folder).

    ``baseURL`` (a processor's argument, or the worker's ``--base-url``)
    or else the ``base-url`` of ``<product-config z3c.taskqueue>`` is a
    comma-separated list of ``URL`` (the root folder's) or ``SITE=URL``
    (a site served at that URL, as a virtual host root).  The root
    folder's URL is ``DEFAULT_BASE_URL`` unless given.
    """
    if baseURL is None:
        baseURL = (productConfiguration() or {}).get('base-url')
    urls = {'': DEFAULT_BASE_URL}
    for entry in (baseURL or '').split(','):
        entry = entry.strip()
        if not entry:
            continue
        site, equals, url = entry.partition('=')
        if not equals or '://' in site:     # a URL alone (with a query?)
            site, url = '', entry
        urls[site.strip().strip('/')] = url.strip().rstrip('/')
    return urls


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
