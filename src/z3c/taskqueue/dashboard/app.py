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
"""The dashboard's WSGI application: routes, security headers and error
pages.

Every page reads the service on a connection of its own, in a
transaction that is aborted at the end: only the actions write.  A bad
query or an unknown job is a 4xx page; any other error a 500 page that
says what failed in one line, with the traceback in the log only.
POSTs (the actions of ``actions``) are served only to those
``security`` lets act.  A POST from a program (``Authorization:
Bearer``, or ``Accept: application/json``) is answered in JSON:
``{"ok": true, "message": ...}``, or ``{"ok": false, "error": ...,
"message": ...}`` with the error's status code.
"""
import json
import logging
import os
import re
import threading
import time
import urllib.parse

import transaction
from chameleon import PageTemplateLoader

from z3c.taskqueue.dashboard import actions
from z3c.taskqueue.dashboard import chart
from z3c.taskqueue.dashboard import metrics
from z3c.taskqueue.dashboard import security
from z3c.taskqueue.model._outcome import message
from z3c.taskqueue.model._servicepath import findService
from z3c.taskqueue.reports import pages
from z3c.taskqueue.reports.pages import BadRequest
from z3c.taskqueue.reports.pages import NotFound


log = logging.getLogger('z3c.taskqueue.dashboard')
# What the old package never logged (see docs/operations.rst).
detail = logging.getLogger('z3c_taskqueue.dashboard')

HERE = os.path.dirname(os.path.abspath(__file__))

#: Sent with every response.  The pages load nothing but their style
#: sheet, run no script, and may not be framed.
SECURITY_HEADERS = [
    ('Content-Security-Policy', "default-src 'none'; style-src 'self';"
     " img-src 'self'; form-action 'self'; frame-ancestors 'none';"
     " base-uri 'none'"),
    ('X-Content-Type-Options', 'nosniff'),
    ('X-Frame-Options', 'DENY'),
    ('Referrer-Policy', 'no-referrer'),
    ('Cache-Control', 'no-store'),
    ('Cross-Origin-Opener-Policy', 'same-origin'),
]

_STATIC = {'style.css': 'text/css; charset=utf-8'}

TEMPLATES = ('cron', 'done', 'error', 'job', 'jobs', 'login', 'overview',
             'retry-failed', 'workers')

_loaded = []

# Templates are compiled when first used (the layout, by each page), and
# waitress's threads compiling at once can fail in CPython's compiler
# (3.11.7 said "AST constructor recursion depth mismatch"): one thread
# renders at a time.  Rendering holds the GIL anyway.
_rendering = threading.Lock()


def loadTemplates():
    """Return the loader of the templates, compiled once per process."""
    with _rendering:
        if not _loaded:
            loader = PageTemplateLoader(os.path.join(HERE, 'templates'),
                                        '.pt')
            for name in TEMPLATES:
                loader[name].cook_check()
            _loaded.append(loader)
        return _loaded[0]


_ACTION = re.compile(r'^/jobs/([^/]+)/(cancel|retry)$')

#: The largest form the dashboard reads.
MAX_FORM = 10000


class Forbidden(Exception):
    """The request may not act (403)."""


def readForm(environ):
    """Return the fields of the request's urlencoded body."""
    try:
        length = int(environ.get('CONTENT_LENGTH') or 0)
    except ValueError:
        raise BadRequest('a bad Content-Length') from None
    if length > MAX_FORM:
        raise BadRequest('the form is too large')
    body = environ['wsgi.input'].read(length) if length else b''
    try:
        return urllib.parse.parse_qs(body.decode('ascii'),
                                     keep_blank_values=True)
    except UnicodeDecodeError:
        raise BadRequest('the form is not urlencoded') from None


def wantsJSON(environ):
    """Tell whether the request comes from a program: it sends the token
    itself, or accepts JSON."""
    if environ.get('HTTP_AUTHORIZATION', '').startswith('Bearer '):
        return True
    return any(part.split(';')[0].strip().lower() == 'application/json'
               for part in environ.get('HTTP_ACCEPT', '').split(','))


class Request:
    """What one request asks.

    The application serves many requests at once, in waitress's threads:
    it keeps nothing of a request, whose methods are given this instead.
    """

    def __init__(self, environ):
        self.environ = environ
        self.method = environ.get('REQUEST_METHOD', 'GET')
        self.base = environ.get('SCRIPT_NAME', '').rstrip('/')
        self.path = environ.get('PATH_INFO') or '/'
        self.query = urllib.parse.parse_qs(environ.get('QUERY_STRING', ''),
                                           keep_blank_values=True)
        self.session = security.sessionOf(environ)
        #: Whether to answer in JSON: a program's POST.
        self.json = self.method == 'POST' and wantsJSON(environ)
        #: The client's address, as waitress tells it (behind a proxy,
        #: the proxy's unless waitress is told to trust its headers).
        self.address = environ.get('REMOTE_ADDR') or '?'


class Dashboard:
    """The WSGI application of the dashboard of the service at ``path``
    of ``db``.

    ``refresh`` is how often pages reload themselves (seconds; 0: never);
    with ``hidePayloads``, job inputs and outputs are not shown.
    """

    def __init__(self, db, path, refresh=5, hidePayloads=False,
                 serviceName=None, token=None, readOnly=False):
        self.db = db
        self.path = path
        self.guard = security.Guard(None if readOnly else token)
        self.refresh = refresh
        self.hidePayloads = hidePayloads
        self.serviceName = serviceName or '/'.join(map(str, path))
        self.templates = loadTemplates()
        self.samples = chart.Samples()
        self.counter = metrics.FinishedCounter()
        self.registry = metrics.registry(self.read, self.counter)

    def read(self, function):
        """Return ``function(service)``, run in a transaction of a
        connection of its own, which is aborted."""
        tm = transaction.TransactionManager()
        connection = self.db.open(transaction_manager=tm)
        try:
            tm.begin()
            return function(findService(connection.root(), self.path))
        finally:
            tm.abort()
            connection.close()

    def sample(self, now=None):
        """Add the current counts to the chart's samples."""
        counts = self.read(lambda service: service.countJobs())
        self.counter.update(counts)
        self.samples.add(time.time() if now is None else now,
                         counts['queued'],
                         sum(counts[status] for status in
                             ('completed', 'error', 'cancelled')))

    def __call__(self, environ, start_response):
        request = Request(environ)
        allowed = 'GET, HEAD, POST' if self.guard.enabled else 'GET, HEAD'
        if request.method not in allowed.split(', '):
            return self.fail(request, start_response,
                             '405 Method Not Allowed', 'Not allowed',
                             'This dashboard only shows: it was started'
                             ' without a token, or read only.',
                             extra=[('Allow', allowed)])
        try:
            if request.method == 'POST':
                return self.act(request, start_response)
            return self.route(request, start_response)
        except actions.Refused as error:
            return self.fail(request, start_response, '409 Conflict',
                             'Not done', str(error))
        except Forbidden as error:
            return self.fail(request, start_response, '403 Forbidden',
                             'Forbidden', str(error))
        except security.LockedOut as error:
            return self.fail(request, start_response,
                             '429 Too Many Requests', 'Locked out',
                             str(error), extra=[('Retry-After',
                                                 str(error.seconds))])
        except BadRequest as error:
            return self.fail(request, start_response, '400 Bad Request',
                             'Bad request', str(error))
        except NotFound as error:
            return self.fail(request, start_response, '404 Not Found',
                             'Not found', str(error))
        except Exception as error:
            log.exception('Dashboard: %s failed', request.path)
            return self.fail(request, start_response,
                             '500 Internal Server Error', 'Error',
                             'The page could not be made: %s'
                             % message(error))

    def fail(self, request, start_response, status, title, text,
             extra=()):
        """Answer an error: a page, or JSON to a program's POST."""
        if request.json:
            return self.respondJSON(request, start_response, status, {
                'ok': False, 'error': title, 'message': text}, extra)
        return self.respond(request, start_response, status,
                            self.errorPage(request, title, text),
                            extra=extra)

    def act(self, request, start_response):
        """Do what a POST asks, if the request may act."""
        form = readForm(request.environ)
        path, base = request.path, request.base
        if path == '/login':
            session = self.guard.login((form.get('token') or [''])[0],
                                       request.address)
            if session is None:
                raise Forbidden('that is not the token')
            return self.respond(request, start_response, '303 See Other',
                                b'', extra=[('Location', base + '/'),
                                            security.sessionCookie(session,
                                                                   base)])
        if path == '/logout':
            if not self.guard.mayLogout(request.session, form):
                raise Forbidden('log out from a page of this dashboard'
                                ' (the CSRF token is missing or wrong)')
            self.guard.logout(request.session)
            return self.respond(request, start_response, '303 See Other',
                                b'', extra=[('Location', base + '/'),
                                            security.clearCookie(base)])
        if not self.guard.mayAct(request.environ, form, request.address):
            raise Forbidden('log in with the token first, and act from a'
                            ' page of this dashboard (the CSRF token is'
                            ' missing or wrong)')
        if path == '/clean':
            done = actions.clean(self.db, self.path, form)
            back, backText = base + '/', 'Back to the overview'
        elif path == '/retry-failed':
            task, queue = pages.failedFilter(form)
            done = actions.retryFailed(self.db, self.path, task, queue)
            back = pages.failedJobsURL(base, task, queue)
            backText = 'Back to the failed jobs'
        else:
            match = _ACTION.match(path)
            if match is None:
                raise NotFound('there is no action %r' % (path[:100],))
            jobid = pages.jobId(match.group(1))
            done = getattr(actions, match.group(2))(self.db, self.path,
                                                    jobid)
            back = '%s/jobs/%d' % (base, jobid)
            backText = 'Back to job %d' % jobid
        if isinstance(done, str):
            done = {'message': done}
        detail.info('Dashboard: %s', done['message'])
        if request.json:
            return self.respondJSON(request, start_response, '200 OK',
                                    dict(done, ok=True))
        return self.page(request, start_response, 'done', {
            'title': 'Done', 'message': done['message'], 'refresh': 0,
            'back': back, 'backText': backText})

    def route(self, request, start_response):
        hide = self.hidePayloads
        path, query, base = request.path, request.query, request.base
        if path == '/login' and self.guard.enabled:
            return self.page(request, start_response, 'login',
                             {'title': 'Log in'})
        if path == '/':
            names = self.read(lambda service: pages.overview(
                service, query, base, chart.svg(self.samples)))
            return self.page(request, start_response, 'overview', names)
        if path == '/jobs':
            def jobs(service):
                names = pages.jobs(service, query, base, hide)
                names.update(pages.filterChoices(service, names))
                return names
            names = self.read(jobs)
            return self.page(request, start_response, 'jobs', names)
        if path.startswith('/jobs/'):
            jobid = pages.jobId(path[len('/jobs/'):])
            names = self.read(lambda service: pages.job(service, jobid,
                                                        base, hide))
            return self.page(request, start_response, 'job', names)
        if path == '/find':
            location = self.read(lambda service: pages.find(service, query,
                                                            base))
            return self.respond(request, start_response, '303 See Other',
                                b'', extra=[('Location', location)])
        if path == '/cron':
            names = self.read(lambda service: pages.cron(service, query,
                                                         base))
            return self.page(request, start_response, 'cron', names)
        if path == '/workers':
            names = self.read(lambda service: pages.workers(service, query,
                                                            base))
            return self.page(request, start_response, 'workers', names)
        if path == '/retry-failed':
            names = self.read(lambda service: pages.retryFailed(
                service, query, base))
            return self.page(request, start_response, 'retry-failed',
                             names)
        if path == '/metrics':
            return self.respond(request, start_response, '200 OK',
                                metrics.render(self.registry),
                                metrics.CONTENT_TYPE)
        if path.startswith('/static/'):
            name = path[len('/static/'):]
            if name not in _STATIC:
                raise NotFound('there is no file %r' % (name,))
            with open(os.path.join(HERE, 'static', name), 'rb') as f:
                return self.respond(request, start_response, '200 OK',
                                    f.read(), _STATIC[name])
        raise NotFound('there is no page %r' % (path[:100],))

    def page(self, request, start_response, name, names):
        names.setdefault('refresh', self.refresh)
        names['csrf'] = self.guard.csrf(request.session)
        names['actions'] = self.guard.enabled
        with _rendering:
            body = self.templates[name](base=request.base,
                                        service=self.serviceName, **names)
        return self.respond(request, start_response, '200 OK',
                            body.encode('utf-8'))

    def errorPage(self, request, title, text):
        with _rendering:
            return self.templates['error'](
                base=request.base, service=self.serviceName, title=title,
                message=text, refresh=0, actions=self.guard.enabled,
                csrf=self.guard.csrf(request.session)).encode('utf-8')

    def respondJSON(self, request, start_response, status, answer,
                    extra=()):
        return self.respond(request, start_response, status,
                            json.dumps(answer).encode('utf-8'),
                            'application/json', extra)

    def respond(self, request, start_response, status, body,
                contentType='text/html; charset=utf-8', extra=()):
        """Start the response; return its body, or, to a HEAD, only the
        headers the GET would have (with its length)."""
        headers = [('Content-Type', contentType),
                   ('Content-Length', str(len(body)))]
        start_response(status, headers + SECURITY_HEADERS + list(extra))
        return [] if request.method == 'HEAD' else [body]
