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
import logging
import math
import os
import sys

import transaction

from z3c.taskqueue import interfaces
from z3c.taskqueue.database import _uri
from z3c.taskqueue.database._opening import CommandError  # noqa: F401 (API)
from z3c.taskqueue.database._opening import findService  # noqa: F401 (API)
from z3c.taskqueue.database._opening import loadTasks  # noqa: F401 (API)
from z3c.taskqueue.database._opening import openDatabase  # noqa: F401 (API)
from z3c.taskqueue.database._opening import parsePath  # noqa: F401 (API)
from z3c.taskqueue.database._uri import hide
from z3c.taskqueue.database._uri import redact  # noqa: F401 (API)
from z3c.taskqueue.database._uri import secrets  # noqa: F401 (API)
from z3c.taskqueue.model.queues import checkName
from z3c.taskqueue.processing import processor as _processor


log = logging.getLogger('z3c.taskqueue')


#: The ranges of the command's numeric options, where they are narrower
#: than the processor's: a worker that polls without a pause, or holds
#: its claims for less than a second, is a mistake in production.
OPTION_LIMITS = {
    '--wait': ('waitTime', 0.01),
    '--lease': ('leaseTime', 1),
    '--stop-timeout': ('stopTimeout', None),
    '--threads': ('maxThreads', None),
    '--batch-size': ('batchSize', None),
    '--batch-time': ('batchTime', None),
    '--kill-grace': ('killGrace', None),
}

#: How many jobs ``add --count`` adds at most.
MAX_COUNT = 1000000

#: How many worker processes ``worker --processes`` runs at most.
MAX_PROCESSES = 64


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


def integerOption(low, high):
    """Return the argparse type of an integer from ``low`` to ``high``."""
    def check(text):
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise argparse.ArgumentTypeError(
                'must be an integer from %d to %d, not %r'
                % (low, high, text))
        return value
    return check


_processes = integerOption(1, MAX_PROCESSES)


def _queueName(text):
    try:
        return checkName(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def workerCommand():
    """Return the command line that starts ``z3c-taskqueue``: the script
    next to this Python, or else this Python with this process's path
    (as under buildout, whose eggs the bare interpreter does not see)."""
    script = os.path.join(os.path.dirname(sys.executable), 'z3c-taskqueue')
    if os.path.exists(script):
        return [script]
    return pythonCommand('z3c.taskqueue.commands.command')


def pythonCommand(module):
    """Return a command line that runs ``module``'s ``main()`` with this
    Python and this process's ``sys.path``."""
    return [sys.executable, '-c',
            'import sys; sys.path[0:0] = %r; from %s import main;'
            ' sys.exit(main())' % (sys.path, module)]


def worker(args):
    """Run one worker process, or a pool of them (``--processes``)."""
    from z3c.taskqueue.commands import _workercommand
    _workercommand.worker(args)


def add(args):
    from z3c.taskqueue.commands import _addcommand
    _addcommand.add(args)


#: The distributions of the ``dashboard`` extra, by the names they are
#: imported with.
DASHBOARD_EXTRA = ('chameleon', 'prometheus_client', 'waitress')


def dashboard(args):
    try:
        from z3c.taskqueue.dashboard import server
    except ModuleNotFoundError as error:
        if (error.name or '').split('.')[0] not in DASHBOARD_EXTRA:
            raise
        raise CommandError(
            "the dashboard needs the extra 'dashboard' (there is no module"
            " %r): pip install -e '.[dashboard]' in a checkout, or pip"
            " install 'z3c.taskqueue[dashboard]>=1.0.dev0'" % error.name
        ) from None
    server.dashboard(args)


_refresh = integerOption(0, 3600)


def status(args):
    from z3c.taskqueue.commands import _statuscommand
    _statuscommand.status(args)


def migrate(args):
    from z3c.taskqueue.model import _migration
    db = openDatabase(args.uri)
    try:
        service, connection = findService(db, parsePath(args.service))
        try:
            if service._layout == _migration.LAYOUT:
                print('the service has layout version %d already'
                      % _migration.LAYOUT)
                return
            old = _migration.layoutOf(service)
            moved = _migration.migrate(service, args.timezone)
            connection.transaction_manager.commit()
            print('migrated the service from layout version %d to %d (%d'
                  ' jobs moved)' % (old, _migration.LAYOUT, moved))
        finally:
            connection.transaction_manager.abort()
            connection.close()
    finally:
        db.close()


def init(args):
    from z3c.taskqueue.model.service import TaskService
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
    parser.add_argument('-v', '--verbose', action='store_true',
                        help="log ZEO's connections and servers too (INFO)")
    commands = parser.add_subparsers(dest='command', required=True)

    def common(command, tasks=False, zope=False):
        command.add_argument('uri', nargs='?' if zope else None,
                             help='database URI, e.g. file://var/'
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
    common(run, tasks=True, zope=True)
    run.add_argument('--zope-conf', metavar='FILE',
                     help="start the Zope instance of FILE (its zope.conf)"
                     " in the worker, with its products, ZCML and database,"
                     " instead of a URI")
    run.add_argument('--base-url', metavar='URLS',
                     help='the public URL of the root folder, or'
                     ' SITE=URL for sites served at their own URL, comma'
                     ' separated, for the URLs jobs make (default: the'
                     ' base-url of the product-config, or'
                     ' http://localhost:8080)')

    def limited(option, default, help):
        """Add ``option``, checked against its ``OPTION_LIMITS``."""
        run.add_argument(option, type=_option(option), default=default,
                         help=help + ' (default: %(default)s)')

    limited('--threads', 1, 'worker threads')
    limited('--wait', 1.0, 'seconds an idle worker waits before it looks'
            ' for jobs again')
    limited('--lease', 60.0, 'seconds a claim lasts before other workers'
            ' may recover the job; renewed while the job runs')
    limited('--stop-timeout', 30.0, 'seconds to wait for running jobs on'
            ' SIGTERM')
    run.add_argument('--queue', dest='queues', action='append',
                     type=_queueName, metavar='NAME',
                     help='serve the queue NAME (repeatable; default: all'
                     ' queues)')
    limited('--batch-size', 100, 'most jobs a claim takes, and most'
            ' batchable jobs a shared commit holds')
    limited('--batch-time', 0.5, 'seconds after which a shared commit of'
            ' batchable jobs is made however few ran')
    run.add_argument('--processes', type=_processes, metavar='N',
                     help='run N worker processes under a supervisor,'
                     ' which restarts those that die and kills those whose'
                     ' job runs past its timeout and --kill-grace'
                     ' (default: one process, no supervisor)')
    limited('--kill-grace', 10.0, 'with --processes: seconds past its'
            " timeout after which a job's process is killed")
    run.add_argument('--report-fd', type=int, help=argparse.SUPPRESS)
    run.add_argument('--exit-when-done', action='store_true',
                     help='show a running count, and exit once no queued,'
                     ' running or delayed job is left (cron jobs wait on)')
    run.add_argument('--exclusive', action='store_true',
                     help='open a file:// database in this process alone,'
                     ' not serving it to the other commands: faster, but'
                     ' they cannot open it while the worker runs')
    run.set_defaults(func=worker)

    from z3c.taskqueue.commands import _addcommand
    _addcommand.addParser(commands, common, _queueName)

    showing = commands.add_parser(
        'status', help='count jobs by status and queue; show the workers,'
        ' when each was last seen, and the claims they hold')
    common(showing)
    showing.add_argument('--json', action='store_true', help='print JSON')
    showing.set_defaults(func=status)

    from z3c.taskqueue.commands import _jobparsers
    _jobparsers.addParsers(commands, common, _queueName)

    serving = commands.add_parser(
        'dashboard', help='serve the web dashboard and /metrics')
    common(serving)
    serving.add_argument('--bind', default='127.0.0.1:8180',
                         metavar='HOST:PORT',
                         help='where to listen (default: %(default)s)')
    serving.add_argument('--refresh', type=_refresh, default=5,
                         help='seconds after which pages reload themselves'
                         ' (0: never; default: %(default)s)')
    serving.add_argument('--hide-payloads', action='store_true',
                         help='never show job inputs and outputs')
    serving.add_argument('--token-file', metavar='FILE',
                         help='allow actions (cancel, retry, clean) to those'
                         ' who log in with the token in FILE (at least 16'
                         ' characters); without it, the dashboard only'
                         ' shows')
    serving.add_argument('--read-only', action='store_true',
                         help='serve no actions at all, even with'
                         ' --token-file')
    serving.set_defaults(func=dashboard)

    migrating = commands.add_parser(
        'migrate', help="bring the service's indexes to the current layout"
        ' (the first use does it too)')
    common(migrating)
    migrating.add_argument('--timezone', metavar='ZONE',
                           help='the time zone (an IANA name) of the server'
                           ' of z3c.taskqueue 0.2 or lovely.remotetask, in'
                           ' whose local time its jobs kept their times'
                           ' (default: the local zone, TZ)')
    migrating.set_defaults(func=migrate)

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
    hider = _uri.HideSecrets(args.uri or '')
    for handler in logging.getLogger().handlers:
        handler.addFilter(hider)
    zeo = logging.getLogger('ZEO')
    zeoLevel = zeo.level
    if not (args.debug or args.verbose):
        # Each connection and server says four things at INFO.
        zeo.setLevel(logging.WARNING)
    try:
        args.func(args)
    except BrokenPipeError:
        # The reader went away (jobs | head): end quietly, as Unix tools
        # do, with the status of a SIGPIPE.  Later writes go nowhere.
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass    # no file: nothing is left to flush to it
        return 128 + 13
    except CommandError as error:
        if args.debug:
            raise
        return _fail(hide(_uri.oneLine(error), args.uri or ''))
    except Exception as error:
        if args.debug:
            raise
        return _fail(hide('%s: %s' % (error.__class__.__name__,
                                      _uri.oneLine(error)), args.uri or ''))
    finally:
        zeo.setLevel(zeoLevel)
        for handler in logging.getLogger().handlers:
            handler.removeFilter(hider)
    return 0


def _fail(message):
    print('z3c-taskqueue: error: %s' % message, file=sys.stderr)
    return 2


if __name__ == '__main__':
    sys.exit(main())
