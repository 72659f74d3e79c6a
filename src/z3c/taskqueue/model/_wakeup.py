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
"""Wake idle processors in this process when a transaction adds a job."""
import threading


_condition = threading.Condition()
_generation = 0


def current():
    """Return the number of wake-ups so far, to pass to ``wait()``."""
    return _generation


def wait(seen, timeout):
    """Wait until a wake-up after ``seen`` happened, or ``timeout`` passed.
    """
    with _condition:
        if _generation == seen:
            _condition.wait(timeout)


def notify():
    """Wake every waiting processor."""
    global _generation
    with _condition:
        _generation += 1
        _condition.notify_all()


def notifyOnCommit(transaction):
    """Call ``notify()`` once after ``transaction`` commits successfully.
    """
    try:
        transaction.data(_condition)
    except KeyError:
        transaction.set_data(_condition, True)
        transaction.addAfterCommitHook(_afterCommit)


def _afterCommit(committed):
    if committed:
        notify()
