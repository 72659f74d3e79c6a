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
"""Views of a site's task services for managers: the jobs of a service,
newest first, one job, and the confirmation of removing the finished
jobs, as the dashboard shows them (``dashboard.pages``), and the view
that acts on them.  The ZMI's "Jobs" tab (``zmi``) and the Plone control
panel (``controlpanel``) use them, with templates of their own, and say
how they check the tokens of the actions' forms, how they tell what an
action did, and how they show a time.

The forms of the actions carry a token that the action checks against
the user, so that another site's page cannot make a manager's browser
act.  In Plone that is plone.protect's ``_authenticator``; in Zope it is
``csrfToken()``, an HMAC keyed by a random key stored once in the
database, so that a page loaded before a restart, or served by another
instance of the same database, still works.
"""
import datetime
import hmac
import logging
import secrets
import threading
import urllib.parse
import weakref

from zope.i18nmessageid import MessageFactory

from z3c.taskqueue import interfaces
from z3c.taskqueue.model import _servicepath


_ = MessageFactory('z3c.taskqueue')

log = logging.getLogger('z3c.taskqueue')

#: The permission of the job actions in Zope and Plone.
MANAGE_JOBS = 'z3c.taskqueue: Manage jobs'

#: The details of a job (``dashboard.pages.job``) that are times.
TIMES = ('created', 'started', 'completed', 'scheduled for', 'expires')

#: How many finished jobs one click removes (each is a small delete, but
#: all in the request's transaction).
CLEAN_LIMIT = 10000


class ServiceView:
    """A view of one of the site's task services, named by the request's
    ``service`` (by default the first); read in the request's own
    transaction, as the site's user."""

    #: The names of the views of a job list, a job, the confirmation of
    #: cleaning, the actions, and the page above the job list (None if
    #: there is none).
    jobsView = '@@taskqueue-jobs'
    jobView = '@@taskqueue-job'
    cleanView = '@@taskqueue-clean'
    actionView = '@@taskqueue-action'
    upView = None

    def __init__(self, context, request):
        self.context = context
        self.request = request

    def service(self):
        from zExceptions import NotFound
        services = dict(_servicepath.registeredServices(
            self.context.getSiteManager()))
        name = self.request.form.get('service') or (
            sorted(services)[0] if services else None)
        if name not in services:
            raise NotFound('this site has no task service %r' % (name,))
        self.serviceName = name
        return services[name]

    def query(self):
        """The request's form as ``urllib.parse.parse_qs`` gives it."""
        return {name: value if isinstance(value, list) else [value]
                for name, value in self.request.form.items()
                if isinstance(value, (str, list))}

    def url(self, view, **params):
        params = dict(service=self.serviceName, **params)
        return '%s/%s?%s' % (self.context.absolute_url(), view,
                             urllib.parse.urlencode(params))

    def links(self):
        """The URLs of the other views of this service."""
        return {'jobs': self.url(self.jobsView),
                'clean': self.url(self.cleanView),
                'up': None if self.upView is None else '%s/%s' % (
                    self.context.absolute_url(), self.upView)}

    def allowActions(self):
        """Let the template show the actions if the user may act."""
        from AccessControl import getSecurityManager
        self.mayAct = bool(getSecurityManager().checkPermission(
            MANAGE_JOBS, self.context))
        self.action = '%s/%s' % (self.context.absolute_url(),
                                 self.actionView)

    def tokenFields(self):
        """The hidden fields of the token of an action's form, as
        ``(name, value)`` pairs."""
        return [('csrf', csrfToken(self.context))]

    def read(self, function):
        from zExceptions import BadRequest
        from zExceptions import NotFound
        from z3c.taskqueue.reports import pages
        try:
            return function(self.service())
        except pages.BadRequest as error:
            raise BadRequest(str(error)) from None
        except pages.NotFound as error:
            raise NotFound(str(error)) from None

    # Times

    def localTime(self, moment):
        """Return ``{'text': ..., 'iso': ...}`` for ``moment`` (a
        datetime, or an ISO 8601 string of one), or None: ``text`` to be
        read by the user, ``iso`` for ``<time datetime>``."""
        if moment is None:
            return None
        if isinstance(moment, str):
            try:
                moment = datetime.datetime.fromisoformat(moment)
            except ValueError:
                return {'text': moment, 'iso': None}
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=datetime.timezone.utc)
        utc = moment.astimezone(datetime.timezone.utc)
        return {'text': self.formatTime(moment),
                'iso': utc.strftime('%Y-%m-%dT%H:%M:%SZ')}

    def formatTime(self, moment):
        """Return the time-zone-aware datetime ``moment`` as the user
        reads it: in the ZMI, in UTC."""
        return moment.astimezone(datetime.timezone.utc).strftime(
            '%Y-%m-%d %H:%M:%S UTC')

    # What the job runs as

    def jobContext(self, service, jobid):
        """Return ``(user, site)``: the user a job runs as (None: nobody)
        and the path of the site it runs in (None: no site)."""
        job = service.jobs[jobid]
        context = getattr(job, 'context', None) or {}
        site = context.get('site')
        return context.get('user'), None if site is None else '/' + site

    def translate(self, message):
        from zope.i18n import translate
        return translate(message, context=self.request)


class JobsView(ServiceView):
    """The service's jobs, newest first, filtered and paged, as the
    dashboard lists them (``dashboard.pages.jobs``)."""

    def update(self):
        from z3c.taskqueue.reports import pages
        service = self.service()
        self.page = self.read(lambda service: pages.jobs(
            service, self.query(), '', hidePayloads=False))
        self.allowActions()
        for row in self.page['rows']:
            row['url'] = self.url(self.jobView, id=row['id'])
            job = service.jobs.get(row['id'])
            row['created'] = self.localTime(
                None if job is None else getattr(job, 'created', None))
        cursor = self.page['cursor']
        self.older = None if cursor is None else self.url(
            self.jobsView, after=cursor, **{
                name: self.page[name] for name in ('status', 'task', 'queue')
                if self.page[name]})
        self.filtered = any(self.page[name]
                            for name in ('status', 'task', 'queue'))
        counts = service.countJobs()
        self.finished = sum(counts[status] for status in interfaces.FINISHED)
        return self.page


class JobView(ServiceView):
    """Everything about one job, as the dashboard shows it, with the
    times localized, the user and the site it runs as and in; with the
    package's permission, its actions."""

    def update(self):
        from z3c.taskqueue.reports import pages
        service = self.service()
        jobid = self.read(lambda service: pages.jobId(
            str(self.request.form.get('id', ''))))
        self.page = self.read(lambda service: pages.job(service, jobid, ''))
        self.allowActions()
        self.describeContext(service, jobid)
        rows = []
        for row in self.page['details']:
            row['time'] = None
            if row['name'] in TIMES:
                row['time'] = self.localTime(row['value'])
            elif row['name'] == 'next' and row['value']:
                row['value'] = ', '.join(
                    self.localTime(moment)['text']
                    for moment in row['value'].split(', '))
            rows.append(row)
            if row['name'] == 'queue':
                rows.extend({'name': name, 'value': value, 'long': False,
                             'links': None, 'time': None}
                            for name, value in (('runs as', self.user),
                                                ('in site', self.site)))
        self.page['details'] = rows
        return self.page

    def describeContext(self, service, jobid):
        """Set ``user``, ``site`` and ``task`` to be read."""
        user, site = self.jobContext(service, jobid)
        self.user = user or self.translate(_('nobody'))
        self.site = site or self.translate(_('no site'))
        self.task = getattr(service.jobs[jobid], 'task', '?')


class CleanView(ServiceView):
    """Asks whether to remove the service's finished jobs, saying how
    many there are; the answer is a POST to the action view."""

    def update(self):
        service = self.service()
        self.allowActions()
        counts = service.countJobs()
        self.counts = [(status, counts[status])
                       for status in interfaces.FINISHED]
        self.finished = sum(count for unused, count in self.counts)
        return self.counts


class ActionView(ServiceView):
    """Cancels or retries a job, or removes the finished jobs, for a POST
    from one of the job views, in the request's own transaction (a
    conflict makes Zope retry the request); then goes back to the page
    of the job, or of the jobs, and says what it did (``say()``).

    It needs the package's permission *z3c.taskqueue: Manage jobs*
    (Managers by default) and the token of the form (``checkToken()``).
    Removing the finished jobs needs ``confirmed`` too, which only the
    confirmation page (``CleanView``) sends: without it, the request is
    sent there.
    """

    def __call__(self):
        from zExceptions import BadRequest
        from z3c.taskqueue.reports import pages
        request = self.request
        if request.get('REQUEST_METHOD', 'GET') != 'POST':
            raise BadRequest('an action is a POST')
        self.checkToken()
        action = request.form.get('action')
        service = self.service()
        if action == 'clean':
            return self.clean(service)
        jobid = self.read(lambda service: pages.jobId(
            str(request.form.get('id', ''))))
        if jobid not in service.jobs:
            raise BadRequest('there is no job %d' % jobid)
        mapping = {'id': jobid}
        if action == 'cancel':
            if service.getStatus(jobid) == interfaces.CANCELLED:
                self.say(_('Job ${id} was cancelled already.',
                           mapping=mapping))
                return self.redirect(self.jobView, id=jobid)
            service.cancel(jobid)
            status = service.getStatus(jobid)
            if status == interfaces.CANCELLED:
                self.say(_('Job ${id} cancelled.', mapping=mapping))
            else:
                mapping['status'] = status
                self.say(_('Job ${id} was not cancelled: it is ${status},'
                           ' and only waiting jobs can be cancelled.',
                           mapping=mapping), 'warning')
        elif action == 'retry':
            try:
                service.retry(jobid)
            except ValueError as error:
                mapping['error'] = str(error)
                self.say(_('Not retried: ${error}.', mapping=mapping),
                         'warning')
            else:
                mapping['status'] = service.getStatus(jobid)
                self.say(_('Job ${id} is ${status} again.', mapping=mapping))
        else:
            raise BadRequest('there is no action %r' % (action,))
        return self.redirect(self.jobView, id=jobid)

    def clean(self, service):
        if not self.request.form.get('confirmed'):
            return self.redirect(self.cleanView)
        removed = service.purge(limit=CLEAN_LIMIT)
        counts = service.countJobs()
        left = sum(counts[status] for status in interfaces.FINISHED)
        mapping = {'count': removed, 'left': left}
        if left:
            self.say(_('Removed ${count} finished jobs; ${left} are left:'
                       ' remove them again.', mapping=mapping), 'warning')
        else:
            self.say(_('Removed ${count} finished jobs.', mapping=mapping))
        return self.redirect(self.jobsView)

    def checkToken(self):
        """Refuse (403) a request without the user's token."""
        from zExceptions import Forbidden
        if not hmac.compare_digest(str(self.request.form.get('csrf', '')),
                                   csrfToken(self.context)):
            raise Forbidden('the form was not made for you (its CSRF token'
                            ' is missing or wrong): load the page again')

    def say(self, message, type='info'):
        """Tell the user what the action did, on the next page: in the
        ZMI, as ``manage_tabs_message``."""
        self.message = (self.translate(message), type)

    def redirect(self, view, **params):
        message = getattr(self, 'message', None)
        if message is not None:
            params['manage_tabs_message'] = message[0]
            if message[1] != 'info':
                params['manage_tabs_type'] = message[1]
        self.request.response.redirect(self.url(view, **params))
        return ''


# The tokens of the ZMI's forms

#: The key of the database root under which the key of the tokens is.
KEY_NAME = 'z3c.taskqueue.csrf-key'

_keys = weakref.WeakKeyDictionary()
_keysLock = threading.Lock()


def csrfToken(context):
    """Return the token of the current user for the job actions on
    ``context``, a stored object: an HMAC of the user's id keyed by the
    key of its database (``databaseKey()``)."""
    from AccessControl import getSecurityManager
    user = getSecurityManager().getUser()
    key = databaseKey(context._p_jar.db())
    return hmac.new(key, b'z3c.taskqueue actions\0'
                    + str(user.getId()).encode('utf-8'),
                    'sha256').hexdigest()


def databaseKey(db, attempts=10):
    """Return the random key of the tokens of the database ``db``.

    It is made once, by the first process that needs it, and stored under
    ``KEY_NAME`` in the database root, in a small transaction of its own
    on a connection of its own: not in the request's transaction, which
    may be a GET that must not write, or may be rolled back.  Processes
    that make it at once conflict; the loser reads the winner's key.  A
    database that cannot be written gets a key of this process (its
    tokens fail after a restart), and a warning in the log.
    """
    with _keysLock:
        key = _keys.get(db)
    if key is not None:
        return key
    import transaction
    from ZODB.POSException import ConflictError
    from ZODB.POSException import ReadOnlyError
    manager = transaction.TransactionManager()
    connection = db.open(transaction_manager=manager)
    try:
        for unused in range(attempts):
            manager.begin()
            root = connection.root()
            key = root.get(KEY_NAME)
            if key is not None:
                break
            root[KEY_NAME] = key = secrets.token_bytes(32)
            manager.get().note("z3c.taskqueue: the key of the job"
                               " actions' tokens")
            try:
                manager.commit()
                break
            except ConflictError:
                manager.abort()
                key = None
            except ReadOnlyError:
                manager.abort()
                log.warning('The database is read-only: the job actions'
                            ' of the ZMI use a key of this process')
                key = secrets.token_bytes(32)
                break
        else:
            raise ConflictError('could not store the key of the tokens')
    finally:
        manager.abort()
        connection.close()
    with _keysLock:
        return _keys.setdefault(db, key)


def hasServices(obj):
    """Tell whether ``obj`` is a site with a task service: the filter of
    the "Jobs" tab (see ``zmi``)."""
    try:
        siteManager = obj.getSiteManager()
    except Exception:
        return False
    return bool(list(_servicepath.registeredServices(siteManager)))
