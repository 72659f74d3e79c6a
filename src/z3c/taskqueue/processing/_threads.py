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
"""The processor threads of this process: one per service, stopped on
request and when the process exits.

When the process exits normally (after Ctrl-C, say) or on SIGTERM, the
processors stop: they stop claiming, running jobs get their processor's
``stopTimeout`` to finish, and the jobs still running after it are given
back at once, for other workers (see ``IProcessor.abandon()``).  For
SIGTERM, a handler is installed the first time a processor is started
in the main thread, unless SIGTERM is ignored; after the processors
stopped, it hands the signal on to the handler that was there before,
or lets it end the process as it would have.
"""
import atexit
import logging
import os
import signal
import threading


log = logging.getLogger('z3c.taskqueue')
# What the old package never logged (see docs/operations.rst).
detail = logging.getLogger('z3c_taskqueue')

# The processors running in this process, by thread name, and the thread
# name of each service's processor, by a key of the service's.
_threads = {}
_names = {}
_lock = threading.Lock()


def start(processor, key=None):
    """Run ``processor`` in a daemon thread named after it, unless a
    processor of that name runs already (or is still stopping).

    ``key`` names the service, for ``nameFor()``.  Return True if it
    was started.
    """
    with _lock:
        # One processor per service: the last one started for ``key``
        # may run under another name.
        previous = _names.get(key) if key is not None else None
        for name in {processor.name, previous} - {None}:
            running = _threads.get(name)
            if running is not None and running[0].is_alive():
                if running[1].stopping.is_set():
                    log.warning('Processor %s is still finishing a job: not'
                                ' starting another', name)
                return False
        if key is not None:
            _names[key] = processor.name
        thread = threading.Thread(target=processor, name=processor.name,
                                  daemon=True)
        _threads[processor.name] = (thread, processor)
        thread.start()
        detail.debug('Started processor %s', processor.name)
    _stopOnExit()
    return True


def nameFor(key):
    """Return the thread name of the processor last started for ``key``,
    or None."""
    with _lock:
        return _names.get(key)


def stop(name, timeout=None):
    """Stop the processor running in thread ``name`` and wait for it.

    Return True if it stopped (or none was running) within ``timeout``
    seconds, by default the processor's ``stopTimeout``.  If it did not,
    it finishes its job in the background, and no other processor of
    that name starts until it has.
    """
    with _lock:
        running = _threads.get(name)
    if running is None:
        return True
    thread, processor = running
    processor.stop()
    thread.join(processor.stopTimeout if timeout is None else timeout)
    if thread.is_alive():
        running = processor.runningJobs()
        log.warning('Processor %s did not stop within %s s: %s still'
                    ' running; it stops in the background when %s, and'
                    ' no other processor of this service starts until then',
                    name, processor.stopTimeout if timeout is None
                    else timeout, 'job %s is' % ', '.join(map(str, running))
                    if running else 'a job is', 'it ends' if len(running) < 2
                    else 'they end')
        return False
    with _lock:
        if _threads.get(name) is running:
            del _threads[name]
    detail.debug('Stopped processor %s', name)
    return True


def isRunning(name):
    """Tell whether a processor runs in thread ``name``."""
    with _lock:
        running = _threads.get(name)
    return running is not None and running[0].is_alive()


def stopAll(timeout=None):
    """Stop every processor running in this process (for tests)."""
    with _lock:
        names = list(_threads)
    return all([stop(name, timeout) for name in names])


def shutdown():
    """Stop every processor of this process at once, as the process
    exits: each gets its ``stopTimeout``; the jobs still running then are
    given back.  Return the ids of the jobs given back."""
    with _lock:
        running = list(_threads.values())
        _threads.clear()
    for thread, processor in running:
        processor.stop()
    given = []
    for thread, processor in running:
        thread.join(processor.stopTimeout)
        if thread.is_alive():
            ids = processor.abandon()
            given += ids
            log.warning('Processor %s: jobs still running after %s s: gave'
                        ' back %s for other workers', processor.name,
                        processor.stopTimeout,
                        ', '.join(map(str, ids)) or 'none')
        detail.info('Processor %s stopped: %d jobs completed, %d failed',
                    processor.name, processor.processed,
                    processor.failed)
    return given


_hooked = {'atexit': False, 'previous': None}


def _stopOnExit():
    if not _hooked['atexit']:
        _hooked['atexit'] = True
        atexit.register(shutdown)
    if (_hooked['previous'] is None
            and threading.current_thread() is threading.main_thread()):
        previous = signal.getsignal(signal.SIGTERM)
        if previous in (signal.SIG_IGN, _onTerminate):
            return
        _hooked['previous'] = previous
        signal.signal(signal.SIGTERM, _onTerminate)


def _onTerminate(signum, frame):
    detail.info('SIGTERM received: stopping the task queue processors')
    shutdown()
    previous = _hooked['previous']
    if callable(previous):
        previous(signum, frame)
        return
    # What SIGTERM would have done: end the process, by that signal.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)
