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
"""Who may act on the dashboard: a token, sessions and CSRF tokens.

The dashboard shows without a login; its actions (cancel, retry, clean)
exist only when it was given a token (``--token-file``) and not
``--read-only``.  A person logs in with the token on ``/login``: the
dashboard remembers the session (a random id in an ``HttpOnly``,
``SameSite=Strict`` cookie) for ``SESSION_TIME``, and every form of that
session carries a CSRF token of its own, which a POST must send back.
A program sends the token itself (``Authorization: Bearer TOKEN``) and
needs no CSRF token, since a browser never adds that header by itself.
"""
import hmac
import secrets
import threading
import time


#: How long a login lasts (seconds).
SESSION_TIME = 12 * 3600

#: The shortest token the dashboard accepts.
MIN_TOKEN = 16

COOKIE = 'taskqueue_session'


class TokenError(ValueError):
    """The token file cannot be used; the message says why."""


def readToken(path):
    """Return the token in the file ``path``."""
    try:
        with open(path) as f:
            token = f.read().strip()
    except OSError as error:
        raise TokenError('cannot read the token file %r: %s'
                         % (path, error.strerror)) from None
    if len(token) < MIN_TOKEN or any(c.isspace() for c in token):
        raise TokenError('the token in %r must be at least %d characters'
                         ' without spaces' % (path, MIN_TOKEN))
    return token


class Guard:
    """Checks logins, sessions and CSRF tokens against ``token`` (None:
    nobody may act)."""

    def __init__(self, token=None, clock=time.time):
        self.token = token
        self.clock = clock
        self.sessions = {}      # session id: (expires, csrf token)
        self.lock = threading.Lock()

    @property
    def enabled(self):
        return self.token is not None

    def login(self, offered):
        """Return a new session id if ``offered`` is the token, else
        None."""
        if not self.enabled or not hmac.compare_digest(
                offered.encode('utf-8'), self.token.encode('utf-8')):
            return None
        session = secrets.token_urlsafe(32)
        with self.lock:
            now = self.clock()
            for old, (expires, unused) in list(self.sessions.items()):
                if expires < now:
                    del self.sessions[old]
            self.sessions[session] = (now + SESSION_TIME,
                                      secrets.token_urlsafe(32))
        return session

    def logout(self, session):
        with self.lock:
            self.sessions.pop(session, None)

    def csrf(self, session):
        """Return the CSRF token of ``session`` if it is a live session,
        else None."""
        with self.lock:
            found = self.sessions.get(session or '')
        if found is None or found[0] < self.clock():
            return None
        return found[1]

    def mayAct(self, environ, form):
        """Tell whether the request may act: a live session and its CSRF
        token, or the token itself in an ``Authorization`` header."""
        if not self.enabled:
            return False
        header = environ.get('HTTP_AUTHORIZATION', '')
        if header.startswith('Bearer '):
            return hmac.compare_digest(header[7:].strip().encode('utf-8'),
                                       self.token.encode('utf-8'))
        expected = self.csrf(sessionOf(environ))
        offered = form.get('csrf', [''])[0]
        return expected is not None and hmac.compare_digest(
            offered.encode('utf-8'), expected.encode('utf-8'))


def sessionOf(environ):
    """Return the session id of the request's cookie, or None."""
    for part in environ.get('HTTP_COOKIE', '').split(';'):
        name, sep, value = part.strip().partition('=')
        if name == COOKIE and value:
            return value
    return None


def sessionCookie(session, base):
    return ('Set-Cookie', '%s=%s; Path=%s/; HttpOnly; SameSite=Strict;'
            ' Max-Age=%d' % (COOKIE, session, base, SESSION_TIME))


def clearCookie(base):
    return ('Set-Cookie', '%s=; Path=%s/; HttpOnly; SameSite=Strict;'
            ' Max-Age=0' % (COOKIE, base))
