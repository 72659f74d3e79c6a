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
"""The ``z3c-taskqueue`` command: run workers, add jobs, show the queue."""
import argparse
import importlib
import json
import logging
import math
import os
import re
import signal
import sys
import threading
import urllib.parse

import transaction
import ZODB
import zodburi
import zope.component

from z3c.taskqueue import _servicepath
from z3c.taskqueue import interfaces
from z3c.taskqueue import processor as _processor


log = logging.getLogger('z3c.taskqueue')

# How long a worker waits for an unreachable ZEO server before it gives up
# with an error, unless the URI says otherwise (?wait_timeout=...).
ZEO_WAIT_TIMEOUT = 10


#: The ranges of the command's numeric options, where they are narrower
#: than the processor's: a worker that polls without a pause, or holds
#: its claims for less than a second, is a mistake in production.
OPTION_LIMITS = {
    '--wait': ('waitTime', 0.01),
    '--lease': ('leaseTime', 1),
    '--stop-timeout': ('stopTimeout', None),
    '--threads': ('maxThreads', None),
}

#: How many jobs ``add --count`` adds at most.
MAX_COUNT = 1000000


class CommandError(Exception):
    """A problem with the command's input, reported in one line."""


class _Parser(argparse.ArgumentParser):
    """Reports a usage error in one line, with exit status 2."""

    def error(self, message):
        _fail('%s (see %s --help)' % (message, self.prog))
        sys.exit(2)


def _option(option):
    """Return the argparse type that checks ``option``'s value."""
    name, low = OPTION_LIMITS[option]
    unused, high, integer = _processor.LIMITS[name]
    low = _processor.LIMITS[name][0] if low is None else low

    def check(text):
        try:
            value = int(text) if integer else float(text)
        except ValueError:
            value = None
        if (value is None or not math.isfinite(value)
                or not low <= value <= high):
            raise argparse.ArgumentTypeError(
                'must be %s from %s to %s, not %r' % (
                    'an integer' if integer else 'a number of seconds',
                    low, high, text))
        return value
    return check


def _count(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_COUNT:
        raise argparse.ArgumentTypeError(
            'must be an integer from 1 to %d, not %r' % (MAX_COUNT, text))
    return value


def parsePath(text):
    """Turn ``--service`` into a service path: ``a/b/c`` or ``site@name``.
    """
    try:
        return _servicepath.parsePath(text)
    except ValueError as error:
        raise CommandError('--service: %s' % (error,)) from None


def workerCommand():
    """Return the command line that starts ``z3c-taskqueue``: the script
    next to this Python, or else this Python with this process's path
    (as under buildout, whose eggs the bare interpreter does not see)."""
    script = os.path.join(os.path.dirname(sys.executable), 'z3c-taskqueue')
    if os.path.exists(script):
        return [script]
    return pythonCommand('z3c.taskqueue.command')


def pythonCommand(module):
    """Return a command line that runs ``module``'s ``main()`` with this
    Python and this process's ``sys.path``."""
    return [sys.executable, '-c',
            'import sys; sys.path[0:0] = %r; from %s import main;'
            ' sys.exit(main())' % (sys.path, module)]


def openDatabase(uri, create=False):
    """Open the database ``uri`` names (a zodburi URI).

    A ``file://`` URI must name an existing file unless ``create``: a
    mistyped path must not leave an empty database behind.
    """
    if uri.startswith('file://') and not create:
        path = os.path.normpath(uri.split('file://', 1)[1].split('?', 1)[0])
        if not os.path.exists(path):
            raise CommandError(
                'there is no database at %r (create one with: z3c-taskqueue'
                ' init)' % (path,))
    if uri.startswith('zeo://'):
        parts = urllib.parse.urlsplit(uri.replace('zeo://', 'http://', 1))
        if 'wait_timeout' not in urllib.parse.parse_qs(parts.query):
            uri += ('&' if parts.query else '?') + (
                'wait_timeout=%d' % ZEO_WAIT_TIMEOUT)
    shown = redact(uri)
    try:
        factory, dbkw = zodburi.resolve_uri(uri)
    except zodburi.NoResolverForScheme:
        raise CommandError('unknown storage URI scheme in %r (known: %s)'
                           % (shown, ', '.join(_schemes()))) from None
    except Exception as error:
        raise CommandError('bad storage URI %r: %s'
                           % (shown, _oneLine(error))) from None
    try:
        storage = factory()
    except Exception as error:
        raise CommandError('cannot open the storage %r: %s: %s' % (
            shown, error.__class__.__name__,
            hide(_oneLine(error), uri))) from None
    try:
        return ZODB.DB(storage, **dbkw)
    except Exception as error:
        storage.close()
        raise CommandError('cannot open the database %r: %s: %s' % (
            shown, error.__class__.__name__,
            hide(_oneLine(error), uri))) from None


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


class _HideSecrets(logging.Filter):
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


def _oneLine(error):
    return ' '.join(str(error).split())


def _schemes():
    from importlib.metadata import entry_points
    return sorted(e.name for e in entry_points(group='zodburi.resolvers'))


def findService(db, path):
    """Check that the service at ``path`` exists; return it and its
    connection."""
    connection = db.open()
    try:
        service = _servicepath.findService(connection.root(), path)
    except LookupError as error:
        connection.close()
        raise CommandError('%s (create one with: z3c-taskqueue init)'
                           % (error,)) from None
    if not interfaces.ITaskService.providedBy(service):
        connection.close()
        raise CommandError('%r is not a task service' % (service,))
    return service, connection


def loadTasks(modules, zcmlFiles):
    """Import ``modules`` and load ``zcmlFiles``, which register tasks."""
    for name in modules:
        _importTasks(name)
    if zcmlFiles:
        from zope.configuration import xmlconfig
        context = None
        for path in zcmlFiles:
            try:
                context = xmlconfig.file(path, context=context,
                                         execute=False)
            except Exception as error:
                raise CommandError('cannot load ZCML file %r: %s' % (
                    path, error)) from None
        try:
            context.execute_actions()
        except Exception as error:
            raise CommandError('cannot load ZCML: %s' % (error,)) from None
    tasks = sorted(name for name, unused in zope.component.getUtilitiesFor(
        interfaces.ITask))
    if not tasks:
        raise CommandError('no task is registered: name the modules or ZCML'
                           ' files that register them with --import or'
                           ' --zcml')
    return tasks


class _ExitDuringImport(BaseException):
    """A module called ``os._exit()`` while ``--import`` imported it."""


def _importTasks(name):
    """Import the module ``name``; a failure, or a call of ``sys.exit()``
    or ``os._exit()`` while it is imported, is a CommandError."""
    def refuse(status):
        raise _ExitDuringImport(status)
    real, os._exit = os._exit, refuse
    try:
        importlib.import_module(name)
    except SystemExit as error:
        raise CommandError('module %r called sys.exit(%r) while it was'
                           ' imported' % (name, error.code)) from None
    except _ExitDuringImport as error:
        raise CommandError('module %r called os._exit(%r) while it was'
                           ' imported' % (name, error.args[0])) from None
    except Exception as error:
        raise CommandError('cannot import module %r: %s: %s' % (
            name, error.__class__.__name__, error)) from None
    finally:
        os._exit = real


def worker(args):
    from z3c.taskqueue.processor import MultiProcessor
    tasks = loadTasks(args.imports, args.zcml)
    path = parsePath(args.service)
    db = openDatabase(args.uri)
    processor = None
    try:
        unused, connection = findService(db, path)
        connection.close()
        processor = MultiProcessor(
            db, path, waitTime=args.wait, maxThreads=args.threads,
            leaseTime=args.lease, stopTimeout=args.stop_timeout,
            spread=True, reopen=lambda: openDatabase(args.uri))
        log.info('Worker %s: %d threads on %s, service %s, tasks %s',
                 processor.name, args.threads, redact(args.uri), args.service,
                 ', '.join(tasks))
        # A daemon: a job that outlives the stop timeout must not keep
        # the process alive.
        thread = threading.Thread(target=processor, name=processor.name,
                                  daemon=True)
        stopped = threading.Event()

        def stop(signum, frame):
            log.info('Worker %s: %s received, finishing running jobs',
                     processor.name, signal.Signals(signum).name)
            stopped.set()
        previous = {signum: signal.signal(signum, stop)
                    for signum in (signal.SIGTERM, signal.SIGINT)}
        try:
            work(processor, thread, stopped, args, path)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
    finally:
        # The processor may have reopened the database.
        (db if processor is None else processor.db).close()


def work(processor, thread, stopped, args, path):
    """Run ``processor`` in ``thread`` until ``stopped``, then drain.

    Running jobs get ``--stop-timeout`` seconds to finish; those that do
    not are given back at once, for other workers, and their late results
    are discarded.
    """
    thread.start()
    progress = Progress(processor.db, path) if args.exit_when_done else None
    while not stopped.wait(0.2 if progress else 1):
        if not thread.is_alive():
            raise CommandError('the processor thread ended')
        if progress is not None and progress.show():
            log.info('Worker %s: no job left to do', processor.name)
            break
    processor.stop()
    thread.join(args.stop_timeout)
    if thread.is_alive():
        given = processor.abandon()
        log.warning('Worker %s: jobs still running after %s s: gave back'
                    ' %s for other workers; exiting', processor.name,
                    args.stop_timeout,
                    ', '.join(map(str, given)) or 'none')
    log.info('Worker %s stopped: %d jobs completed, %d failed,'
             ' %d conflicts', processor.name, processor.processed,
             processor.failed, processor.conflicts)


class Progress:
    """Shows a running count of finished jobs, for --exit-when-done."""

    #: The statuses of jobs that still have to run once.
    UNFINISHED = (interfaces.QUEUED, interfaces.PROCESSING,
                  interfaces.DELAYED)

    def __init__(self, db, path, out=None):
        self.service, self.connection = findService(db, path)
        self.out = sys.stderr if out is None else out
        self.start = self.finished(self.service.countJobs())
        self.shown = None

    @staticmethod
    def finished(counts):
        return sum(counts[status] for status in interfaces.FINISHED)

    def show(self):
        """Show the count; return True once no job is left to do."""
        self.connection.transaction_manager.begin()
        counts = self.service.countJobs()
        left = sum(counts[status] for status in self.UNFINISHED)
        done = self.finished(counts) - self.start
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


def add(args):
    if args.input is None:
        input = None
    else:
        try:
            input = json.loads(args.input)
        except ValueError as error:
            raise CommandError('the input is not JSON: %s' % error) from None
    loadTasks(args.imports, args.zcml)
    db = openDatabase(args.uri)
    try:
        service, connection = findService(db, parsePath(args.service))
        try:
            ids = []
            for unused in range(args.count):
                try:
                    ids.append(service.add(args.task, input))
                except (ValueError, TypeError) as error:
                    raise CommandError(str(error)) from None
            transaction.commit()
        finally:
            transaction.abort()
            connection.close()
        print('added %d job(s) for task %r: %s' % (
            len(ids), args.task, ' '.join(map(str, ids[:10]))
            + (' ...' if len(ids) > 10 else '')))
    finally:
        db.close()


def status(args):
    db = openDatabase(args.uri)
    try:
        service, connection = findService(db, parsePath(args.service))
        try:
            for name, count in sorted(service.countJobs().items()):
                print('%-12s %d' % (name, count))
            age = service.oldestQueuedAge()
            print('oldest queued job: %s' % (
                'none' if age is None else '%.1f s old' % age))
        finally:
            connection.close()
    finally:
        db.close()


def init(args):
    from z3c.taskqueue.service import TaskService
    path = parsePath(args.service)
    if isinstance(path, str) or len(path) != 1:
        raise CommandError('init creates a service under a key of the'
                           ' database root: --service NAME')
    db = openDatabase(args.uri, create=True)
    try:
        connection = db.open()
        try:
            root = connection.root()
            if path[0] in root:
                there = root[path[0]]
                if not interfaces.ITaskService.providedBy(there):
                    raise CommandError(
                        'the root key %r holds %r, not a task service'
                        % (path[0], there))
                print('a service exists at %r already' % path[0])
                return
            service = root[path[0]] = TaskService()
            service.__name__ = path[0]
            transaction.commit()
            print('created a task service at %r' % path[0])
        finally:
            transaction.abort()
            connection.close()
    finally:
        db.close()


def makeParser():
    parser = _Parser(
        prog='z3c-taskqueue',
        description='Run task queue workers and manage task services.')
    parser.add_argument('--debug', action='store_true',
                        help='show tracebacks and debug logging')
    commands = parser.add_subparsers(dest='command', required=True)

    def common(command, tasks=False):
        command.add_argument('uri', help='database URI, e.g. file://var/'
                             'Data.fs, zeo://127.0.0.1:8100, memory://')
        command.add_argument('--service', required=True,
                             help='path of the task service from the root:'
                             ' tasks, a/b/c, or site@name')
        if tasks:
            command.add_argument(
                '--import', dest='imports', action='append', default=[],
                metavar='MODULE', help='import MODULE, which registers'
                ' tasks (repeatable)')
            command.add_argument(
                '--zcml', action='append', default=[], metavar='FILE',
                help='load the ZCML FILE, which registers tasks'
                ' (repeatable)')

    run = commands.add_parser('worker', help='run a worker until stopped')
    common(run, tasks=True)
    run.add_argument('--threads', type=_option('--threads'), default=1,
                     help='worker threads (default: %(default)s)')
    run.add_argument('--wait', type=_option('--wait'), default=1.0,
                     help='seconds an idle worker waits before it looks'
                     ' for jobs again (default: %(default)s)')
    run.add_argument('--lease', type=_option('--lease'), default=60.0,
                     help='seconds a claim lasts before other workers may'
                     ' recover the job; renewed while the job runs'
                     ' (default: %(default)s)')
    run.add_argument('--stop-timeout', type=_option('--stop-timeout'),
                     default=30.0,
                     help='seconds to wait for running jobs on SIGTERM'
                     ' (default: %(default)s)')
    run.add_argument('--exit-when-done', action='store_true',
                     help='show a running count, and exit once no queued,'
                     ' running or delayed job is left (cron jobs wait on)')
    run.set_defaults(func=worker)

    adding = commands.add_parser('add', help='add jobs')
    common(adding, tasks=True)
    adding.add_argument('task', help='the task name')
    adding.add_argument('input', nargs='?', help='the input, as JSON')
    adding.add_argument('--count', type=_count, default=1,
                        help='how many such jobs (default: %(default)s)')
    adding.set_defaults(func=add)

    showing = commands.add_parser('status', help='count jobs by status')
    common(showing)
    showing.set_defaults(func=status)

    creating = commands.add_parser('init', help='create a task service')
    common(creating)
    creating.set_defaults(func=init)
    return parser


def main(argv=None):
    try:
        args = makeParser().parse_args(argv)
    except SystemExit as error:
        return error.code
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.INFO,
        format='%(asctime)s %(levelname)s %(name)s %(message)s')
    hider = _HideSecrets(args.uri)
    for handler in logging.getLogger().handlers:
        handler.addFilter(hider)
    try:
        args.func(args)
    except CommandError as error:
        if args.debug:
            raise
        return _fail(hide(_oneLine(error), args.uri))
    except Exception as error:
        if args.debug:
            raise
        return _fail(hide('%s: %s' % (error.__class__.__name__,
                                      _oneLine(error)), args.uri))
    finally:
        for handler in logging.getLogger().handlers:
            handler.removeFilter(hider)
    return 0


def _fail(message):
    print('z3c-taskqueue: error: %s' % message, file=sys.stderr)
    return 2


if __name__ == '__main__':
    sys.exit(main())
