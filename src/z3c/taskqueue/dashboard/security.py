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

Every wrong token, on ``/login`` or in the header, is logged with the
client's address (never what was sent).  After ``MAX_FAILURES`` of them
within ``FAILURE_WINDOW`` from one address, that address may not try the
token for ``LOCKOUT`` seconds: its attempts are answered 429, even with
the right token, so that guessing costs time.  Each lock-out of the
same address doubles, up to ``MAX_LOCKOUT``.  Nothing waits in a
waitress thread: a locked-out attempt is refused at once.
"""
import collections
import hmac
import logging
import math
import secrets
import threading
import time


#: How long a login lasts (seconds).
SESSION_TIME = 12 * 3600

#: The shortest token the dashboard accepts.
MIN_TOKEN = 16

COOKIE = 'taskqueue_session'

#: Wrong tokens from one address within ``FAILURE_WINDOW`` seconds that
#: lock it out.
MAX_FAILURES = 5
FAILURE_WINDOW = 60

#: The first lock-out of an address (seconds); each next one doubles, up
#: to ``MAX_LOCKOUT``.
LOCKOUT = 60
MAX_LOCKOUT = 900

#: The most addresses whose failures are remembered; beyond, those that
#: failed longest ago are forgotten first.
MAX_ADDRESSES = 10000

log = logging.getLogger('z3c.taskqueue.dashboard')


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


class LockedOut(Exception):
    """Too many wrong tokens came from this address (429); ``seconds``
    until it may try again."""

    def __init__(self, seconds):
        super().__init__('too many refused logins from this address: try'
                         ' again in %d s' % seconds)
        self.seconds = seconds


class _Failures:
    """The recent wrong tokens of one address."""

    def __init__(self):
        self.times = []         # of the failures since the last lock-out
        self.last = None        # the time of the last failure
        self.until = 0          # locked out until
        self.lockouts = 0


class Throttle:
    """Remembers the wrong tokens of each address and locks out those
    that send too many."""

    def __init__(self):
        self.addresses = collections.OrderedDict()  # by last failure
        self.lock = threading.Lock()

    def check(self, address, now):
        """Raise ``LockedOut`` if ``address`` may not try now."""
        with self.lock:
            failures = self.addresses.get(address)
            if failures is not None and failures.until > now:
                raise LockedOut(math.ceil(failures.until - now))

    def failed(self, address, now):
        """Count a wrong token from ``address``; return how many count
        now, and how long the address is locked out (0: not)."""
        with self.lock:
            failures = self.addresses.pop(address, None) or _Failures()
            self._forget(now)
            self.addresses[address] = failures
            failures.times = [moment for moment in failures.times
                              if moment > now - FAILURE_WINDOW] + [now]
            failures.last = now
            count = len(failures.times)
            if count < MAX_FAILURES:
                return count, 0
            failures.lockouts += 1
            seconds = min(LOCKOUT * 2 ** (failures.lockouts - 1),
                          MAX_LOCKOUT)
            failures.until = now + seconds
            failures.times = []
            return count, seconds

    def succeeded(self, address):
        with self.lock:
            self.addresses.pop(address, None)

    def _forget(self, now):
        """Forget the addresses that have been quiet longer than any
        lock-out lasts, and the oldest beyond ``MAX_ADDRESSES``."""
        while self.addresses:
            address, failures = next(iter(self.addresses.items()))
            if (len(self.addresses) < MAX_ADDRESSES
                    and failures.last > now - 2 * MAX_LOCKOUT):
                break
            del self.addresses[address]


class Guard:
    """Checks logins, sessions and CSRF tokens against ``token`` (None:
    nobody may act)."""

    def __init__(self, token=None, clock=time.time):
        self.token = token
        self.clock = clock
        self.sessions = {}      # session id: (expires, csrf token)
        self.lock = threading.Lock()
        self.throttle = Throttle()

    @property
    def enabled(self):
        return self.token is not None

    def checkToken(self, offered, address, where):
        """Tell whether ``offered`` is the token; log and count it if
        not.  Raise ``LockedOut`` if ``address`` may not try now."""
        try:
            self.throttle.check(address, self.clock())
        except LockedOut as error:
            log.warning('Dashboard: refused a login from %s (%s): locked'
                        ' out for %d s more', address, where, error.seconds)
            raise
        if hmac.compare_digest(offered.encode('utf-8'),
                               self.token.encode('utf-8')):
            self.throttle.succeeded(address)
            return True
        count, seconds = self.throttle.failed(address, self.clock())
        log.warning('Dashboard: refused a login from %s (%s): wrong token,'
                    ' %d in %d s%s', address, where, count, FAILURE_WINDOW,
                    '; locked out for %d s' % seconds if seconds else '')
        return False

    def login(self, offered, address='?'):
        """Return a new session id if ``offered`` is the token, else
        None.  Raise ``LockedOut`` if ``address`` may not try now."""
        if not self.enabled or not self.checkToken(offered, address,
                                                   '/login'):
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

    def mayAct(self, environ, form, address='?'):
        """Tell whether the request may act: a live session and its CSRF
        token, or the token itself in an ``Authorization`` header (raise
        ``LockedOut`` if ``address`` may not try it now)."""
        if not self.enabled:
            return False
        header = environ.get('HTTP_AUTHORIZATION', '')
        if header.startswith('Bearer '):
            return self.checkToken(header[7:].strip(), address,
                                   'Authorization header')
        return self.sent(sessionOf(environ), form)

    def mayLogout(self, session, form):
        """Tell whether the request may end ``session``: a live session
        and its CSRF token, as for an action."""
        return self.enabled and self.sent(session, form)

    def sent(self, session, form):
        """Tell whether ``form`` holds the CSRF token of the live
        ``session``."""
        expected = self.csrf(session)
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
