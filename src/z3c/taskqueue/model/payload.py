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
"""Payloads: a job's input and output, each in a database record of its own.

A job refers to its payloads instead of holding them, so that the job
loads whatever its payloads hold.  An input or output can stop loading
long after it was stored: its class was removed, renamed or changed so
that it no longer unpickles.  Then only that payload is unreadable: the
job can still be claimed, counted, cancelled, failed and cleaned, and it
never stands in the way of the jobs behind it.
"""
import io
import pickle

import persistent
from ZODB.broken import Broken
from ZODB.POSException import StateLoadError

from z3c.taskqueue.interfaces import PayloadError


class Payload(persistent.Persistent):
    """The input or the output of one job.

    Never changed once stored: a new value gets a new record, so that
    replacing a payload that no longer loads never has to load it.
    """

    def __init__(self, value):
        self.value = value

    def __repr__(self):
        return '<%s at %s>' % (self.__class__.__name__,
                               None if self._p_oid is None
                               else int.from_bytes(self._p_oid, 'big'))


#: The longest string or bytes kept in the job's own record.
INLINE = 100


def wrap(value):
    """Return what to store for ``value``: None stores nothing; a number
    or a short string is kept in the job's record (it always loads); any
    other value gets a ``Payload`` record of its own."""
    if value is None:
        return None
    if type(value) in _ATOMIC and (
            not isinstance(value, (str, bytes)) or len(value) <= INLINE):
        return value
    return Payload(value)


def unwrap(payload, what, job):
    """Return the value of ``payload``, the ``what`` of ``job``.

    Raise ``PayloadError`` naming the job and the cause if the record
    cannot be loaded.
    """
    if not isinstance(payload, Payload):
        return payload      # None, or a value kept in the job's record
    try:
        return payload.value
    except StateLoadError as error:
        cause = error.__cause__ or error
        culprit = _culprit(cause)
        raise PayloadError(
            'the %s of job %r cannot be loaded: %s: %s%s' % (
                what, job.id, cause.__class__.__name__, _text(cause),
                ' (in %s)' % culprit if culprit else '')
        ) from cause


def _culprit(error):
    """Name what raised ``error`` while unpickling: the class of the
    object whose ``__setstate__`` (say) failed, or else the function."""
    tb = error.__traceback__
    if tb is None:
        return None
    while tb.tb_next is not None:
        tb = tb.tb_next
    frame = tb.tb_frame
    obj = frame.f_locals.get('self')
    if obj is not None:
        cls = obj.__class__
        return '%s.%s' % (cls.__module__, cls.__qualname__)
    code = frame.f_code
    return '%s.%s' % (frame.f_globals.get('__name__', '?'),
                      getattr(code, 'co_qualname', code.co_name))


def missingClass(value, budget=1000):
    """Return the dotted name of a class that ``value`` holds an instance
    of but that cannot be imported (ZODB loads such an instance as a
    ``Broken`` object), or None.

    Looks into dicts, lists, tuples and sets, at most ``budget`` objects.
    """
    todo = [value]
    while todo and budget > 0:
        budget -= 1
        obj = todo.pop()
        if isinstance(obj, Broken):
            cls = obj.__class__
            return '%s.%s' % (cls.__module__, cls.__name__)
        if isinstance(obj, dict):
            todo.extend(obj.values())
            todo.extend(obj.keys())
        elif isinstance(obj, (list, tuple, set, frozenset)):
            todo.extend(obj)
    return None


class _DatabasePickler(pickle.Pickler):
    """Pickles like ZODB would for ``jar``: stored objects by reference.

    Refuses what ZODB would refuse only at commit: an object stored
    through another connection or in another database.
    """

    def __init__(self, file, jar):
        super().__init__(file, protocol=3)
        self.jar = jar

    def persistent_id(self, obj):
        if not isinstance(obj, persistent.Persistent):
            return None
        other = obj._p_jar
        if other is None:
            return None     # a new object: stored with the payload
        if self.jar is not None and other is not self.jar:
            if _sameMultiDatabase(self.jar, other):
                return obj._p_oid
            raise TypeError(
                '%r is stored in another database or through another'
                ' connection than the task service' % (obj,))
        return obj._p_oid


def _sameMultiDatabase(jar, other):
    try:
        name = other.db().database_name
        return (jar.db().xrefs
                and jar.get_connection(name) is other)
    except Exception:
        return False


#: Values that always pickle: checked without a pickler.
_ATOMIC = frozenset([type(None), bool, int, float, complex, str, bytes])


def checkStorable(value, jar, what):
    """Raise ``TypeError`` naming ``what`` if ``value`` cannot be stored
    through the connection ``jar`` (None: any database)."""
    if type(value) in _ATOMIC:
        return
    try:
        _DatabasePickler(io.BytesIO(), jar).dump(value)
    except Exception as error:
        raise TypeError('%s cannot be stored in the database: %s: %s' % (
            what, error.__class__.__name__, _text(error))) from error


def _text(error):
    try:
        return str(error)
    except Exception:
        return '<the message cannot be shown>'
