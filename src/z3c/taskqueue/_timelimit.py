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
(see ``_supervisor``).

Workers that a supervisor runs report each limited job they start and
end to it (``setReporter()``), so that it knows when to kill them.
"""
import ctypes
import heapq
import itertools
import threading
import time

from z3c.taskqueue._numbers import isNumber
from z3c.taskqueue.interfaces import JobTimeout


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


class _Watchdog:
    """One daemon thread that raises ``JobTimeout`` in the threads whose
    alarm is due."""

    def __init__(self):
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self.alarms = []
        self.counter = itertools.count()
        self.thread = None

    def add(self, alarm):
        with self.lock:
            heapq.heappush(self.alarms,
                           (alarm.deadline, next(self.counter), alarm))
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(
                    target=self.watch, name='taskqueue.watchdog',
                    daemon=True)
                self.thread.start()
            self.changed.notify()

    def cancel(self, alarm):
        """Disarm ``alarm``; return True if it fired.  An exception that
        it raised and that is still pending is taken back."""
        with self.lock:
            alarm.active = False
            if alarm.fired:
                _setAsyncExc(alarm.thread, None)
            self.changed.notify()
            return alarm.fired

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
                alarm.fired = True
                # Raised as a bare class: ``limited`` gives it its message.
                _setAsyncExc(alarm.thread, JobTimeout)


_watchdog = _Watchdog()


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
