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
"""Time limits: a job that runs too long is interrupted.

A job's run-time limit is its own (``add(..., timeout=S)``) or its
task's (``ITask.timeout``).  While the task runs, ``limited()`` has a
watchdog thread raise ``JobTimeout`` in the task's thread once the limit
is over.  Python raises it at the next bytecode that thread runs: it
interrupts Python code, and a blocking call (``time.sleep()``, a socket
read) as soon as that call returns, but not a C call that never does.
For those, the supervisor of a process pool kills the worker process
(see ``_pool``).

The exception never lands inside a commit or an abort: ZODB's two-phase
commit, a storage's locks and its files are not written to be
interrupted at any bytecode (FileStorage closes itself when its
``_finish`` fails).  Code that must not be interrupted runs
``shielded()``: an alarm that falls due meanwhile waits, and once the
shield is left the same thread raises the ``JobTimeout`` itself, as a
plain exception.  Runner threads begin their transactions with a
``ShieldedTransactionManager``, whose transactions commit, abort and
take savepoints shielded, so a task that commits its work in steps may
be stopped between two steps, never inside one.

Workers that a supervisor runs report each limited job they start and
end to it (``setReporter()``), so that it knows when to kill them.
"""
import ctypes
import heapq
import itertools
import threading
import time

import transaction

from z3c.taskqueue.interfaces import JobTimeout
from z3c.taskqueue.model._numbers import isNumber


#: The longest run-time limit: a week.
MAX_TIMEOUT = 7 * 24 * 3600

def _setAsyncExc(thread, exception):
    """Have ``exception`` (a class) raised in ``thread``; None takes back
    what is pending."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread),
        None if exception is None else ctypes.py_object(exception))


def checkTimeout(timeout, what='timeout'):
    """Return ``timeout`` if it is None or a number of seconds above 0
    and up to ``MAX_TIMEOUT``; raise ``ValueError`` naming ``what``."""
    if timeout is None:
        return None
    if not isNumber(timeout, 0, MAX_TIMEOUT) or timeout == 0:
        raise ValueError('%s must be None or a number of seconds above 0'
                         ' and up to %d (a week), not %r'
                         % (what, MAX_TIMEOUT, timeout))
    return timeout


def timeoutOf(job, task):
    """Return the run-time limit of ``job`` run by ``task``, or None."""
    timeout = job.timeout
    if timeout is None:
        timeout = getattr(task, 'timeout', None)
    return timeout


class _Alarm:

    def __init__(self, thread, deadline, seconds):
        self.thread = thread
        self.deadline = deadline
        self.seconds = seconds
        self.active = True
        self.fired = False
        # How deep its thread is in shielded code, and whether the alarm
        # fell due there: then the thread raises it when it leaves.
        self.shields = 0
        self.deferred = False


class _Watchdog:
    """One daemon thread that raises ``JobTimeout`` in the threads whose
    alarm is due."""

    def __init__(self):
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self.alarms = []
        self.counter = itertools.count()
        self.thread = None
        # The armed alarm of each thread, by thread id.
        self.byThread = {}

    def add(self, alarm):
        with self.lock:
            self.byThread[alarm.thread] = alarm
            heapq.heappush(self.alarms,
                           (alarm.deadline, next(self.counter), alarm))
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(
                    target=self.watch, name='taskqueue.watchdog',
                    daemon=True)
                self.thread.start()
            self.changed.notify()

    def cancel(self, alarm):
        """Disarm ``alarm``, in its own thread; return True if it fired.
        An exception that it raised and that is still pending is raised
        and caught here."""
        with self.lock:
            alarm.active = False
            if self.byThread.get(alarm.thread) is alarm:
                del self.byThread[alarm.thread]
            self.changed.notify()
            fired = alarm.fired
        if fired:
            # Not taken back with PyThreadState_SetAsyncExc(id, NULL):
            # CPython 3.11 then keeps its flag of pending asynchronous
            # exceptions set for good, and a thread that runs under a
            # trace function (coverage, a debugger) hangs.  A pending
            # exception is raised at the loop's first backward jump.
            try:
                for i in range(8):
                    pass
            except JobTimeout:
                pass
        return fired

    def enterShield(self):
        """Let no alarm of this thread fire until ``leaveShield()``;
        return the alarm (None if none is armed)."""
        with self.lock:
            alarm = self.byThread.get(threading.get_ident())
            if alarm is not None:
                alarm.shields += 1
            return alarm

    def leaveShield(self, alarm):
        """Undo ``enterShield()``; return True if ``alarm`` fell due
        meanwhile: it has fired now, and the caller raises it."""
        with self.lock:
            alarm.shields -= 1
            if alarm.shields or not alarm.deferred or not alarm.active:
                return False
            alarm.deferred = False
            alarm.fired = True
            return True

    def join(self, timeout=None):
        """Wait until the thread ended, which it does when no alarm is
        set (for tests, which check that no thread is left)."""
        thread = self.thread
        if thread is not None:
            thread.join(timeout)

    def watch(self):
        with self.lock:
            while True:
                while self.alarms and not self.alarms[0][2].active:
                    heapq.heappop(self.alarms)
                if not self.alarms:
                    # Nothing to watch: end; the next alarm starts anew.
                    self.thread = None
                    return
                deadline, unused, alarm = self.alarms[0]
                wait = deadline - time.monotonic()
                if wait > 0:
                    self.changed.wait(wait)
                    continue
                heapq.heappop(self.alarms)
                if alarm.shields:
                    # Inside a commit: its thread raises it on leaving.
                    alarm.deferred = True
                    continue
                alarm.fired = True
                # Raised as a bare class: ``limited`` gives it its message.
                _setAsyncExc(alarm.thread, JobTimeout)


_watchdog = _Watchdog()


class shielded:
    """Run the block without being interrupted by this thread's time
    limit; if the limit ran out meanwhile, raise ``JobTimeout`` when the
    block ends.

    An alarm that fired just before the block started raises at the
    block's first call, before it did anything.
    """

    __slots__ = ('alarm',)

    def __enter__(self):
        self.alarm = _watchdog.enterShield()
        return self

    def __exit__(self, kind, error, tb):
        if self.alarm is not None and _watchdog.leaveShield(self.alarm):
            raise JobTimeout
        return False


class ShieldedTransaction(transaction.Transaction):
    """A transaction whose commit, abort and savepoints a time limit
    never interrupts (see ``shielded``)."""

    def commit(self):
        with shielded():
            return super().commit()

    def abort(self):
        with shielded():
            return super().abort()

    def savepoint(self, optimistic=False):
        with shielded():
            return super().savepoint(optimistic)


class ShieldedTransactionManager(transaction.TransactionManager):
    """A transaction manager that begins ``ShieldedTransaction`` objects.

    A runner thread makes it the thread's own (``transaction.manager``
    in that thread), so that a task's ``transaction.commit()``, and
    ``transaction.get().commit()``, are shielded.
    """

    def begin(self):
        # The connections' newTransaction() polls the storage: shielded.
        with shielded():
            if self._txn is not None:
                if self.explicit:
                    raise transaction.interfaces.AlreadyInTransaction()
                self._txn.abort()
            txn = self._txn = ShieldedTransaction(self._synchs, self)
            self._synchs.map(lambda synch: synch.newTransaction(txn))
            return txn

    def get(self):
        if self._txn is None:
            if self.explicit:
                raise transaction.interfaces.NoTransaction()
            self._txn = ShieldedTransaction(self._synchs, self)
        return self._txn


def shieldThread():
    """Make this thread's transaction manager a
    ``ShieldedTransactionManager``, unless it is one; return it.

    Only for threads of this package's own (runner threads): a thread
    that has begun a transaction keeps its manager.
    """
    threadManager = transaction.manager
    manager = threadManager.manager
    if not isinstance(manager, ShieldedTransactionManager):
        if manager._txn is not None or manager.registeredSynchs():
            return manager
        manager = threadManager.manager = ShieldedTransactionManager()
    return manager


class limited:
    """Raise ``JobTimeout`` in this thread if the block runs for more
    than ``seconds`` (None: no limit).

    Whatever the block raised or returned once the limit was over, it
    ends in a ``JobTimeout`` that says after how long: a task that
    catches the exception and returns still times out.
    """

    def __init__(self, seconds, jobid=None):
        self.seconds = seconds
        self.jobid = jobid
        self.alarm = None

    def __enter__(self):
        if self.seconds is not None:
            _report('start', self.jobid, self.seconds)
            self.alarm = _Alarm(threading.get_ident(),
                                time.monotonic() + self.seconds,
                                self.seconds)
            _watchdog.add(self.alarm)
        return self

    def __exit__(self, kind, error, tb):
        if self.alarm is None:
            return False
        fired = _watchdog.cancel(self.alarm)
        _report('end', self.jobid, self.seconds)
        if fired:
            raise JobTimeout('timed out after %s s'
                             % _seconds(self.seconds)) from error
        return False


def _seconds(seconds):
    return ('%g' % seconds) if seconds < 1e6 else '%d' % seconds


# Where a worker run by a supervisor reports its limited jobs.
_reporter = None


def setReporter(reporter):
    """Call ``reporter(event, jobid, seconds)``, event ``'start'`` or
    ``'end'``, for each job with a time limit that starts or ends in this
    process; None to stop."""
    global _reporter
    _reporter = reporter


def _report(event, jobid, seconds):
    reporter = _reporter
    if reporter is not None and jobid is not None:
        try:
            reporter(event, jobid, seconds)
        except Exception:
            pass    # a supervisor that went away kills us anyway
