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
"""Storage URIs: open the database a zodburi URI names, and keep the
URI's secrets out of every line that is printed or logged."""
import logging
import os
import re
import urllib.parse

import ZODB
import zc.lockfile
import zodburi


# How long a worker waits for an unreachable ZEO server before it gives up
# with an error, unless the URI says otherwise (?wait_timeout=...).
ZEO_WAIT_TIMEOUT = 10


class URIError(ValueError):
    """The URI names no database that can be opened; the message says
    why, in one line, with the URI's secrets hidden."""


def openDatabase(uri, create=False, passLockError=False,
                 dbClass=ZODB.DB):
    """Open the database ``uri`` names (a zodburi URI), as a ``dbClass``.

    A ``file://`` URI must name an existing file unless ``create``: a
    mistyped path must not leave an empty database behind.  With
    ``passLockError``, the ``LockError`` of a file that another process
    holds is raised as it is.
    """
    if not create:
        checkFile(uri)
    elif uri.startswith('file://'):
        directory = os.path.dirname(
            os.path.normpath(uri.split('file://', 1)[1].split('?', 1)[0]))
        if directory and not os.path.isdir(directory):
            raise URIError('there is no directory %r for the database'
                           ' (mkdir -p %s)' % (directory, directory))
    if uri.startswith('zeo://'):
        parts = urllib.parse.urlsplit(uri.replace('zeo://', 'http://', 1))
        if 'wait_timeout' not in urllib.parse.parse_qs(parts.query):
            uri += ('&' if parts.query else '?') + (
                'wait_timeout=%d' % ZEO_WAIT_TIMEOUT)
    shown = redact(uri)
    try:
        factory, dbkw = zodburi.resolve_uri(uri)
    except zodburi.NoResolverForScheme:
        raise URIError('unknown storage URI scheme in %r (known: %s)'
                           % (shown, ', '.join(_schemes()))) from None
    except Exception as error:
        raise URIError('bad storage URI %r: %s'
                           % (shown, oneLine(error))) from None
    try:
        storage = factory()
    except zc.lockfile.LockError:
        if passLockError:
            raise
        raise URIError('cannot open the storage %r: another process holds'
                       ' it' % (shown,)) from None
    except Exception as error:
        raise URIError('cannot open the storage %r: %s: %s' % (
            shown, error.__class__.__name__,
            hide(oneLine(error), uri))) from None
    try:
        return dbClass(storage, **dbkw)
    except Exception as error:
        storage.close()
        raise URIError('cannot open the database %r: %s: %s' % (
            shown, error.__class__.__name__,
            hide(oneLine(error), uri))) from None


def checkFile(uri):
    """Check that a ``file://`` ``uri`` names an existing file."""
    if uri.startswith('file://'):
        path = os.path.normpath(uri.split('file://', 1)[1].split('?', 1)[0])
        if not os.path.exists(path):
            raise URIError(
                'there is no database at %r (create one with: z3c-taskqueue'
                ' init)' % (path,))


# The secrets a storage URI can hold: the password of its user part, and
# the values of keys that hold passwords (zodburi's ``password`` for ZEO,
# RelStorage's ``password``, ``passwd`` and ``dsn``), wherever they are in
# the URI: ``demo:`` and ``zconfig:`` URIs nest others.
_SECRETS = (
    re.compile(r'//[^/@:?#]*:([^@/?#]+)@'),
    re.compile(r'[?&;]\w*(?:pass|pwd|secret|token|key|dsn|credential)\w*'
               r'=([^&;#)\s]+)', re.I),
)


def secrets(uri):
    """Return the secrets in ``uri``, as written and unquoted."""
    found = set()
    for pattern in _SECRETS:
        for value in pattern.findall(uri):
            found.add(value)
            found.add(urllib.parse.unquote_plus(value))
    return sorted(found, key=len, reverse=True)


def hide(text, uri):
    """Return ``text`` with the secrets of ``uri`` replaced by ``***``.

    Secrets are masked where they stand in a URI in ``text``, and, if
    four characters or longer, wherever else ``text`` holds them.
    """
    for pattern in _SECRETS:
        text = pattern.sub(lambda match: _mask(match, 1), text)
    for secret in secrets(uri):
        if len(secret) >= 4:
            text = text.replace(secret, '***')
    return text


def _mask(match, group):
    start, end = match.span(group)
    whole = match.group(0)
    offset = match.start(0)
    return whole[:start - offset] + '***' + whole[end - offset:]


def redact(uri):
    """Return ``uri`` with its passwords replaced by ``***``."""
    return hide(uri, uri)


class HideSecrets(logging.Filter):
    """Keeps the secrets of a URI out of every logged line."""

    def __init__(self, uri):
        super().__init__()
        self.uri = uri

    def filter(self, record):
        text = record.getMessage()
        hidden = hide(text, self.uri)
        if hidden != text:
            record.msg, record.args = hidden, None
        return True


def oneLine(error):
    """Return the message of ``error`` in one line."""
    return ' '.join(str(error).split())


def _schemes():
    from importlib.metadata import entry_points
    return sorted(e.name for e in entry_points(group='zodburi.resolvers'))
