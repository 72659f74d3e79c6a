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
"""The ``z3c-taskqueue worker`` command: one worker process, or a pool
of them under a supervisor (``--processes N``, see ``_pool``)."""
import logging
import os
import signal
import sys
import threading
import time

from z3c.taskqueue import interfaces
from z3c.taskqueue.commands.command import redact
from z3c.taskqueue.commands.command import workerCommand
from z3c.taskqueue.database import _loading
from z3c.taskqueue.database import _sharing
from z3c.taskqueue.database import _uri
from z3c.taskqueue.database._opening import CommandError
from z3c.taskqueue.database._opening import findService
from z3c.taskqueue.database._opening import loadTasks
from z3c.taskqueue.database._opening import openDatabase
from z3c.taskqueue.database._opening import parsePath
from z3c.taskqueue.processing import _malloc
from z3c.taskqueue.processing import _pool


log = logging.getLogger('z3c.taskqueue')
# What the old package never logged (see docs/operations.rst).
detail = logging.getLogger('z3c_taskqueue')


def worker(args):
    from z3c.taskqueue.processing.processor import MultiProcessor
    # A process that runs for months: a heap that does not fragment.
    _malloc.fixMmapThreshold()
    if (args.uri is None) == (args.zope_conf is None):
        raise CommandError('worker needs a database URI or --zope-conf, not'
                           ' both')
    path = parsePath(args.service)
    if args.processes is not None:
        if args.exclusive:
            raise CommandError('--exclusive cannot be used with'
                               ' --processes: the workers of a pool use the'
                               " supervisor's server")
        return pool(args, path)
    if args.report_fd is not None:
        _pool.installReporter(args.report_fd)
    if args.zope_conf is not None:
        try:
            db = _loading.startZope(args.zope_conf)
        except _loading.LoadError as error:
            raise CommandError(str(error)) from None
        args.uri = 'zope.conf:' + args.zope_conf
    else:
        db = None
    tasks = loadTasks(args.imports, args.zcml)
    sharing = None
    if db is None:
        uri = args.uri
        if uri.startswith('file://') and not args.exclusive:
            # Served to the other local processes: see _sharing.
            sharing = _sharing.Sharing(uri)
            uri = startSharing(sharing)

        def reopen():
            if args.exclusive:
                return openExclusive(uri)
            return openDatabase(
                uri if sharing is None else sharing.restart())
        try:
            db = reopen() if args.exclusive else openDatabase(uri)
        except BaseException:
            if sharing is not None:
                sharing.stop()
            raise
    else:
        reopen = None
    processor = None
    gone = False
    try:
        unused, connection = findService(db, path)
        connection.close()
        processor = MultiProcessor(
            db, path, waitTime=args.wait, maxThreads=args.threads,
            leaseTime=args.lease, stopTimeout=args.stop_timeout,
            spread=True, reopen=reopen, baseURL=args.base_url,
            queues=args.queues, batchSize=args.batch_size,
            batchTime=args.batch_time)
        # A daemon: a job that outlives the stop timeout must not keep
        # the process alive.
        thread = threading.Thread(target=processor, name=processor.name,
                                  daemon=True)
        stopped = threading.Event()

        def stop(signum, frame):
            detail.info('Worker %s: %s received, finishing running jobs',
                        processor.name, signal.Signals(signum).name)
            stopped.set()
        previous = {signum: signal.signal(signum, stop)
                    for signum in (signal.SIGTERM, signal.SIGINT)}
        # Said once SIGTERM stops the worker cleanly.
        detail.info('Worker %s: %d threads on %s, service %s, queues %s,'
                    ' tasks %s', processor.name, args.threads,
                    redact(args.uri), args.service,
                    ', '.join(args.queues) if args.queues else 'all',
                    ', '.join(tasks))
        try:
            gone = work(processor, thread, stopped, args, path)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
    finally:
        # The processor may have reopened the database.  One that is gone
        # is left alone: closing it would only wake the threads waiting
        # for it, each to log that it failed.
        if not gone:
            (db if processor is None else processor.db).close()
        if sharing is not None:
            sharing.stop()


def openExclusive(uri):
    """Open the database ``uri`` in this process alone (``--exclusive``).
    """
    try:
        return _uri.openDatabase(uri)
    except _uri.URIError as error:
        raise CommandError(str(error)) from None


def startSharing(sharing):
    """Serve the ``file://`` database of ``sharing`` to the other local
    processes, or use the server of the one that does; return the
    ``zeo://`` URI to open."""
    try:
        served = sharing.start()
    except _uri.URIError as error:
        raise CommandError(str(error)) from None
    if not sharing.serving:
        detail.info('Using the server of another process for %s, at %s',
                    sharing.path, served)
    return served


def work(processor, thread, stopped, args, path):
    """Run ``processor`` in ``thread`` until ``stopped``, then drain.

    Running jobs get ``--stop-timeout`` seconds to finish; those that do
    not are given back at once, for other workers, and their late results
    are discarded.

    A worker of a pool whose supervisor is gone stops too.  If the
    database went with the supervisor (the ZEO server a pool runs for a
    ``file://`` database), the worker waits for nothing: no job of its
    could be recorded, nor given back; their leases expire, and another
    worker recovers them.  Return True then: the database is gone.
    """
    thread.start()
    progress = (Progress(processor.db, path, queues=args.queues)
                if args.exit_when_done else None)
    pooled = args.report_fd is not None
    parent = os.getppid()
    orphaned = False
    while not stopped.wait(0.2 if progress or pooled else 1):
        if not thread.is_alive():
            raise CommandError('the processor thread ended')
        if pooled and os.getppid() != parent:
            log.warning('Worker %s: the pool that started it is gone:'
                        ' stopping', processor.name)
            orphaned = True
            break
        if progress is not None and progress.show():
            detail.info('Worker %s: no job left to do', processor.name)
            break
    processor.stop()

    def unreachable():
        return orphaned and not answers(processor.db)
    join(thread, args.stop_timeout, unreachable)
    if thread.is_alive() and unreachable():
        running = processor.runningJobs()
        log.warning('Worker %s: the database went with the pool: exiting'
                    ' without waiting for %s; their leases will expire',
                    processor.name,
                    'jobs ' + ', '.join(map(str, running)) if running
                    else 'the running jobs')
        return True
    if thread.is_alive():
        given = processor.abandon()
        log.warning('Worker %s: jobs still running after %s s: gave back'
                    ' %s for other workers; exiting', processor.name,
                    args.stop_timeout,
                    ', '.join(map(str, given)) or 'none')
    detail.info('Worker %s stopped: %d jobs completed, %d failed,'
                ' %d conflicts', processor.name, processor.processed,
                processor.failed, processor.conflicts)


def join(thread, timeout, giveUp):
    """Wait at most ``timeout`` seconds for ``thread`` to end, and not
    once ``giveUp()`` is true."""
    deadline = time.monotonic() + timeout
    while thread.is_alive() and not giveUp():
        left = deadline - time.monotonic()
        if left <= 0:
            return
        thread.join(min(left, 0.2))


def answers(db):
    """Tell whether the storage of ``db`` is connected: a ZEO client's
    may not be; other storages are taken to be."""
    isConnected = getattr(db.storage, 'is_connected', None)
    return isConnected is None or isConnected()


class Progress:
    """Shows a running count of finished jobs, for --exit-when-done.

    A count reads every bucket of the service's indexes (``countJobs()``),
    which takes a while where many jobs are kept: the next count is made
    only after ``COST_FACTOR`` times as long as the last one took (at
    most ``MAX_PAUSE`` seconds), so that counting takes a tenth of one
    thread's time at most, however many jobs there are.
    """

    #: The statuses of jobs that still have to run once.
    UNFINISHED = (interfaces.QUEUED, interfaces.PROCESSING,
                  interfaces.DELAYED, interfaces.BLOCKED)

    COST_FACTOR = 10
    MAX_PAUSE = 5.0

    def __init__(self, db, path, out=None, queues=None,
                 clock=time.monotonic):
        self.service, self.connection = findService(db, path)
        self.out = sys.stderr if out is None else out
        self.queues = queues
        self.clock = clock
        self.start = self.finished(self.service.countJobs())
        self.shown = None
        self.due = clock()

    @staticmethod
    def finished(counts):
        return sum(counts[status] for status in interfaces.FINISHED)

    def show(self):
        """Show the count, unless the last one is too recent; return True
        once no job is left to do."""
        started = self.clock()
        if started < self.due:
            return False
        self.connection.transaction_manager.begin()
        counts = self.service.countJobs()
        if self.queues is not None:
            # Only the queued jobs of the queues this worker serves.
            queued = self.service.countQueued()
            counts[interfaces.QUEUED] = sum(queued.get(name, 0)
                                            for name in self.queues)
        left = sum(counts[status] for status in self.UNFINISHED)
        done = self.finished(counts) - self.start
        now = self.clock()
        self.due = now + min(self.MAX_PAUSE,
                             (now - started) * self.COST_FACTOR)
        line = '%d jobs done, %d to go' % (done, left)
        if line != self.shown:
            if self.out.isatty():
                self.out.write('\r' + line + ' ' * 8)
            else:
                self.out.write(line + '\n')
            self.out.flush()
            self.shown = line
        if left == 0:
            if self.out.isatty():
                self.out.write('\n')
            self.connection.close()
            return True
        return False


def pool(args, path):
    """Run ``args.processes`` worker processes under a supervisor."""
    if args.zope_conf is not None:
        raise CommandError('--processes needs a database URI: the workers of'
                           ' a pool cannot share a --zope-conf instance yet')
    # Check what the workers would find, before starting any.
    loadTasks(args.imports, args.zcml)
    sharing = None
    uri = args.uri
    if uri.startswith('file://'):
        # One process may open a FileStorage: serve it to the workers
        # (and the other local processes).
        sharing = _sharing.Sharing(uri)
        uri = startSharing(sharing)
    try:
        db = openDatabase(uri)
        try:
            unused, connection = findService(db, path)
            connection.close()
        finally:
            db.close()
        command = workerCommand() + childArguments(args, uri)
        detail.info('Pool: %d worker processes of %d threads on %s, service'
                    ' %s', args.processes, args.threads, redact(args.uri),
                    args.service)
        _pool.ProcessPool(command, args.processes, uri, path,
                          args.stop_timeout, args.kill_grace,
                          exitWhenDone=args.exit_when_done).run()
    finally:
        if sharing is not None:
            sharing.stop()


def childArguments(args, uri):
    """Return the arguments of a worker of the pool: those of ``args``
    but for the pool's own, for the database ``uri``."""
    line = ['worker', uri, '--service', args.service,
            '--threads', str(args.threads), '--wait', repr(args.wait),
            '--lease', repr(args.lease),
            '--stop-timeout', repr(args.stop_timeout),
            '--batch-size', str(args.batch_size),
            '--batch-time', repr(args.batch_time)]
    for option, values in (('--import', args.imports),
                           ('--zcml', args.zcml),
                           ('--queue', args.queues or ())):
        for value in values:
            line += [option, value]
    if args.base_url:
        line += ['--base-url', args.base_url]
    if args.exit_when_done:
        line.append('--exit-when-done')
    if args.verbose:
        line.insert(0, '--verbose')
    if args.debug:
        line.insert(0, '--debug')
    return line
