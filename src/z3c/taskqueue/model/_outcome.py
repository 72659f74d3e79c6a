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
"""Outcomes: whose fault an error is, and what a failed job records.

A run can end in four ways that must not be confused:

- the job failed: the task raised (any exception, ``SystemExit``
  included), its input cannot be loaded, or what it returned or wrote
  cannot be stored.  The job is charged and records the error.
- the process is asked to stop: ``KeyboardInterrupt`` or ``SystemExit``
  raised in the main thread, where Python delivers signals.  Nothing is
  recorded; the job is given back.
- a conflict or an unavailable database: the run is tried again.
- the storage failed to commit (a full disk, say): never the job's fault.
"""
import pickle
import threading

from transaction.interfaces import DoomedTransaction
from transaction.interfaces import TransientError
from ZEO.Exceptions import ServerException
from ZODB.POSException import InvalidObjectReference

from z3c.taskqueue import interfaces
from z3c.taskqueue.model import payload


#: Errors of the database, not of a job: a ZEO server that went away or
#: is restarting (``ClientDisconnected``), say.  The work is tried again
#: once the database answers.  (Other errors a ZEO server reports, such as
#: a full disk, are the storage's: see ``isDataFault()``.)
UNAVAILABLE = (TransientError,)

#: Errors of a commit that come from what was written, not from the
#: storage: pickling errors, a reference to another database, a doomed
#: transaction.  Any other error of a commit is taken for the storage's.
DATA_FAULTS = (pickle.PicklingError, TypeError, AttributeError,
               RecursionError, InvalidObjectReference, DoomedTransaction)


def isStopRequest(error):
    """Tell whether ``error`` asks this process to stop.

    Python raises ``KeyboardInterrupt`` for Ctrl-C, and signal handlers
    raise ``SystemExit``, only in the main thread.  Anywhere else they
    come from the task itself (argparse calls ``sys.exit()``, say), and
    are the job's failure like any other exception.
    """
    return (isinstance(error, (KeyboardInterrupt, SystemExit))
            and threading.current_thread() is threading.main_thread())


def isDataFault(error):
    """Tell whether a commit that raised ``error`` failed for what it
    wrote (the job's fault) rather than for the storage."""
    return isinstance(error, DATA_FAULTS)


def message(error):
    """Return the error message a job records for ``error``.

    ``TaskError`` and ``JobTimeout`` give their message; any other
    exception its class name and message.  Never raises, even for an
    exception whose ``__str__`` does.
    """
    if _isServerException(error):
        # ZEO's report of an error it could not send as itself.
        name, args = error.args
        return '%s on the ZEO server: %s' % (
            name.rsplit('.', 1)[-1], ' '.join(map(str, args)))
    try:
        text = str(error)
    except Exception:
        text = '<the message cannot be shown: its __str__ failed>'
    if isinstance(error, (interfaces.TaskError, interfaces.JobTimeout)):
        return text
    name = error.__class__.__name__
    return '%s: %s' % (name, text) if text else name


def _isServerException(error):
    return (isinstance(error, ServerException) and len(error.args) == 2
            and isinstance(error.args[0], str)
            and isinstance(error.args[1], tuple))


def runnableInput(job):
    """Return the input of ``job`` for its task.

    Raise ``PayloadError`` if it cannot be loaded, or holds an instance
    of a class that can no longer be imported.
    """
    value = job.input
    missing = payload.missingClass(value)
    if missing is not None:
        raise interfaces.PayloadError(
            'the input of job %r holds an instance of %s, a class that'
            ' cannot be imported' % (job.id, missing))
    return value


def checkOutput(job, output):
    """Raise ``TypeError`` if ``output`` of ``job`` cannot be stored."""
    payload.checkStorable(output, job._p_jar,
                          'the output of task %r' % (job.task,))


class Trouble:
    """Says once what keeps failing, and when it works again.

    A worker that meets the same error again and again (a full disk, a
    service path that does not resolve) logs it once, with a traceback,
    and waits longer each time, up to ``maximum`` seconds; an error that
    differs is logged again, and ``over()`` logs the recovery.
    """

    def __init__(self, log, name, base=0.5, maximum=30.0):
        self.log = log
        self.name = name
        self.base = base
        self.maximum = maximum
        self.lock = threading.Lock()
        self.seen = None
        self.count = 0

    def report(self, what, error):
        """Log ``error`` met while doing ``what`` unless it was the last
        one logged; return the seconds to wait before trying again."""
        key = (error.__class__, message(error))
        with self.lock:
            self.count += 1
            count = self.count
            fresh = key != self.seen
            self.seen = key
        if fresh:
            self.log.error('%s: could not %s: %s; trying again, less and'
                           ' less often, until it works', self.name, what,
                           message(error), exc_info=error)
        else:
            self.log.debug('%s: could not %s (%d times): %s', self.name,
                           what, count, message(error))
        return min(self.maximum, self.base * 2 ** min(count - 1, 16))

    def over(self):
        """Log that the work goes on again, if it had stopped: call it
        when a job's outcome was committed."""
        with self.lock:
            if self.seen is None:
                return
            count, error = self.count, self.seen[1]
            self.seen = None
            self.count = 0
        self.log.warning('%s: works again, after %d failures (%s)',
                         self.name, count, error)
