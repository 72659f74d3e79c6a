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
"""``z3c-taskqueue dashboard``: serve the dashboard with waitress."""
import logging
import signal
import threading

from z3c.taskqueue.dashboard import chart
from z3c.taskqueue.dashboard import security
from z3c.taskqueue.dashboard.app import Dashboard
from z3c.taskqueue.database._opening import CommandError
from z3c.taskqueue.database._opening import findService
from z3c.taskqueue.database._opening import openDatabase
from z3c.taskqueue.database._opening import parsePath
from z3c.taskqueue.model import _servicepath


log = logging.getLogger('z3c.taskqueue.dashboard')
# What the old package never logged (see docs/operations.rst).
detail = logging.getLogger('z3c_taskqueue.dashboard')

#: The most connections the dashboard keeps open (waitress's default is
#: 100), fewer if the process may not open that many files.
CONNECTION_LIMIT = 1000

#: Seconds after which a connection that sends nothing, or stops in the
#: middle of a request, is closed (waitress's default is 120), and how
#: often waitress looks for such connections (its default is 30).
CHANNEL_TIMEOUT = 15
CLEANUP_INTERVAL = 5


def limits():
    """Return the waitress adjustments that keep the dashboard answering
    while many idle or half-sent connections are open.

    Waitress stops accepting connections at its ``connection_limit``
    until idle ones time out: with its defaults, 100 idle connections
    made it deaf for up to two minutes.  The dashboard takes many more,
    closes idle ones sooner, and waits for them with ``poll()``, since
    ``select()`` takes no file descriptor above 1023.
    """
    connections = CONNECTION_LIMIT
    try:
        import resource
    except ImportError:     # Windows
        pass
    else:
        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        if soft != resource.RLIM_INFINITY:
            # Leave files for the database, the logs and the threads.
            connections = max(50, min(connections, soft - 100))
    return {'connection_limit': connections,
            'channel_timeout': CHANNEL_TIMEOUT,
            'cleanup_interval': CLEANUP_INTERVAL,
            'asyncore_use_poll': True}


def parseBind(text):
    """Turn ``HOST:PORT`` into ``(host, port)``."""
    host, sep, port = text.rpartition(':')
    if not sep or not host or not port.isdigit() or not 0 <= int(port) < 2**16:
        raise CommandError('--bind must be HOST:PORT, such as'
                           ' 127.0.0.1:8180, not %r' % (text,))
    return host.strip('[]'), int(port)


def makeServer(db, path, bind=('127.0.0.1', 8180), refresh=5,
               hidePayloads=False, token=None, readOnly=False,
               **adjustments):
    """Return the waitress server of a dashboard, and the dashboard;
    ``adjustments`` are waitress's, in place of those of ``limits()``."""
    import waitress.server
    app = Dashboard(db, path, refresh=refresh, hidePayloads=hidePayloads,
                    serviceName=_servicepath.pathName(path), token=token,
                    readOnly=readOnly)
    server = waitress.server.create_server(
        app, host=bind[0], port=bind[1], threads=4, ident='z3c.taskqueue',
        **dict(limits(), **adjustments))
    return server, app


def stop(server):
    """Stop ``server`` from another thread: its open connections close
    (a browser keeps some open), and then its ``run()`` returns."""
    if getattr(server, 'stopped', False):
        return
    server.stopped = True

    def shutdown():
        # In the server's own thread, so that no poll sees a closed file.
        for channel in list(server.active_channels.values()):
            channel.will_close = True
        server.close()
    try:
        server.trigger.pull_trigger(shutdown)
    except OSError:
        pass    # closed already: the server has stopped


def run(server):
    """Serve until ``stop(server)``; then end the server's threads."""
    try:
        server.run()
    finally:
        server.task_dispatcher.shutdown(timeout=5)


def sampleForever(app, stopping, interval=chart.INTERVAL):
    while not stopping.is_set():
        try:
            app.sample()
        except Exception as error:
            log.warning('Dashboard: could not sample the counts: %s', error)
        stopping.wait(interval)


def dashboard(args):
    path = parsePath(args.service)
    bind = parseBind(args.bind)
    token = None
    if args.token_file is not None and not args.read_only:
        try:
            token = security.readToken(args.token_file)
        except security.TokenError as error:
            raise CommandError(str(error)) from None
    # A file:// database is served to the other local processes while
    # the dashboard runs, unless another process serves it.
    db = openDatabase(args.uri, share=True)
    try:
        unused, connection = findService(db, path)
        connection.close()
        server, app = makeServer(db, path, bind, refresh=args.refresh,
                                 hidePayloads=args.hide_payloads,
                                 token=token, readOnly=args.read_only)
        stopping = threading.Event()
        sampler = threading.Thread(target=sampleForever,
                                   args=(app, stopping), daemon=True)
        sampler.start()
        host, port = server.effective_host, server.effective_port
        detail.info('Dashboard of %s at http://%s:%s/ (%s)', args.service,
                    host, port, 'actions for those with the token'
                    if token else 'read only')
        previous = signal.signal(signal.SIGTERM,
                                 lambda signum, frame: stop(server))
        try:
            run(server)
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGTERM, previous)
            stopping.set()
            stop(server)
    finally:
        db.close()
