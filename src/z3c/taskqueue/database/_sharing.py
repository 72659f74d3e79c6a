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
"""One ``file://`` database for several local processes.

Only one process may open a FileStorage.  A process that runs for long
on a ``file://`` URI (a worker, a pool's supervisor, the dashboard)
therefore serves the file to the others with a ZEO server of its own
(``ZEO.StorageServer``, in a thread), on a Unix socket beside the file:
``var/Data.fs.sock``, of mode 0600, removed when it stops.  It uses the
database through that socket too, as every other process does: all see
each other's commits at once.

- A long-running process (``Sharing``) serves the file if no process
  does, or else uses the server that is there; when that server goes
  away (its process stopped), one of the processes that used it takes
  its place within a second or two, at the same socket, and the others
  reconnect to it.
- A short command (``openFile``: ``jobs``, ``add``, ``cancel`` ...) uses
  the server if one answers; otherwise it opens the file itself, for the
  moment it runs.
- A file locked by a process that does not serve it (an older version,
  or a Zope instance) is waited for a few seconds, then reported in one
  line that says what to do: run a ZEO server and use ``zeo://``.
"""
import logging
import os
import socket
import threading
import time
import urllib.parse

import ZODB
import zc.lockfile
import zodburi

from z3c.taskqueue.database import _uri


detail = logging.getLogger('z3c_taskqueue')

#: How long a process waits for a file that another one holds, without
#: serving it yet, before it gives up (seconds).
WAIT = 10

#: How often a process that uses another's server looks whether it is
#: still there (seconds).
WATCH = 1

#: The longest path of a Unix socket, in bytes (``sun_path`` of Linux,
#: less the closing NUL).
MAX_SOCKET_PATH = 107


class SharingError(_uri.URIError):
    """The file is held by a process that does not share it."""


def filePath(uri):
    """Return the path of the file a ``file://`` URI names."""
    return os.path.normpath(uri.split('file://', 1)[1].split('?', 1)[0])


def socketPath(path):
    """Return the path of the socket beside the database file ``path``,
    or None if it is too long for a Unix socket."""
    address = os.path.abspath(path) + '.sock'
    if len(os.fsencode(address)) > MAX_SOCKET_PATH:
        return None
    return address


def clientURI(address, uri):
    """Return the ``zeo://`` URI of the server at ``address`` (a socket
    path or a host and port) that serves the ``file://`` ``uri``."""
    if isinstance(address, str):
        served = 'zeo://' + address
    else:
        served = 'zeo://%s:%d' % address
    blobs = urllib.parse.parse_qs(urllib.parse.urlsplit(uri).query).get(
        'blobstorage_dir')
    if blobs:
        served += '?' + urllib.parse.urlencode(
            {'blob_dir': blobs[0], 'shared_blob_dir': 'true'})
    return served


def answers(address):
    """Tell whether a server listens on the Unix socket ``address``."""
    if address is None:
        return False
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.settimeout(2)
        probe.connect(address)
        # A ZEO server announces its protocol first, in a message of the
        # length its first four bytes say.  Read all of it: a close with
        # unread data resets the connection, which the server logs as an
        # error.
        header = _receive(probe, 4)
        size = int.from_bytes(header, 'big')
        return (len(header) == 4 and size > 0
                and len(_receive(probe, size)) == size)
    except OSError:
        return False
    finally:
        probe.close()


def _receive(connection, size):
    data = b''
    while len(data) < size:
        more = connection.recv(size - len(data))
        if not more:
            break
        data += more
    return data


def heldBy(path, address):
    """Return the one line that says the file is held and by whom."""
    return (
        '%s is in use by another process, which does not share it%s: stop'
        ' that process, or run a ZEO server (runzeo -a 127.0.0.1:8100 -f'
        ' %s) and use zeo://127.0.0.1:8100 everywhere' % (
            path, ' (no server answers at %s)' % address if address
            else ' (its path is too long for a Unix socket beside it)',
            path))


class FileServer:
    """A ZEO server, in a thread of this process, for the FileStorage of
    the ``file://`` ``uri``, on the Unix socket ``address`` or, if None,
    on a free port of 127.0.0.1.

    ``start()`` raises ``zc.lockfile.LockError`` if another process holds
    the file.
    """

    def __init__(self, uri, address=None):
        self.uri = uri
        self.address = address
        self.server = None

    def start(self):
        from ZEO.StorageServer import StorageServer
        factory, unused = zodburi.resolve_uri(self.uri)
        storage = factory()
        try:
            if self.address is None:
                self.server = StorageServer(('127.0.0.1', 0),
                                            {'1': storage})
                address = self.server.addr
            else:
                # The lock is ours: a socket left there is stale.
                _unlink(self.address)
                # Only this user may connect: the socket is made 0600.
                umask = os.umask(0o177)
                try:
                    self.server = StorageServer(self.address,
                                                {'1': storage})
                finally:
                    os.umask(umask)
                address = self.address
                self.inode = os.stat(address).st_ino
        except BaseException:
            storage.close()
            raise
        self.server.start_thread()
        self.served = clientURI(address, self.uri)
        detail.info('Serving %s to local processes at %s',
                    filePath(self.uri), self.served)
        return self.served

    def stop(self):
        if self.server is None:
            return
        if self.address is not None:
            # Before the lock is let go: the socket of a process that
            # takes our place is never ours to remove.
            try:
                if os.stat(self.address).st_ino == self.inode:
                    _unlink(self.address)
            except OSError:
                pass
        server, self.server = self.server, None
        server.close()
        detail.info('Stopped serving %s', filePath(self.uri))


def _unlink(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


class Sharing:
    """The ``file://`` database ``uri`` shared with the other local
    processes, for a process that runs for long: see the module's
    docstring.  ``start()`` returns the ``zeo://`` URI to open; ``stop()``
    stops serving, if this process does."""

    def __init__(self, uri):
        self.uri = uri
        self.path = filePath(uri)
        self.address = socketPath(self.path)
        self.server = None
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.watcher = None

    @property
    def serving(self):
        return self.server is not None

    def start(self, wait=None):
        """Serve the file, or find the process that serves it, waiting
        at most ``wait`` seconds for one that holds it briefly.  Return
        the ``zeo://`` URI of the server; raise ``SharingError`` if no
        server can be had.

        A file whose socket path would be too long is served on a port
        of 127.0.0.1, to this process and its children only.
        """
        _uri.checkFile(self.uri)
        wait = WAIT if wait is None else wait
        if self.address is None:
            return self.serveHere(wait)
        deadline = time.monotonic() + wait
        while True:
            if answers(self.address):
                break
            try:
                self.serve()
                break
            except zc.lockfile.LockError:
                if time.monotonic() > deadline:
                    raise SharingError(
                        heldBy(self.path, self.address)) from None
            self.stopping.wait(0.05)
        self.watcher = threading.Thread(
            target=self.watch, name='taskqueue-sharing', daemon=True)
        self.watcher.start()
        return clientURI(self.address, self.uri)

    def serveHere(self, wait):
        deadline = time.monotonic() + wait
        while True:
            try:
                self.server = FileServer(self.uri)
                served = self.server.start()
                break
            except zc.lockfile.LockError:
                self.server = None
                if time.monotonic() > deadline:
                    raise SharingError(heldBy(self.path, None)) from None
            self.stopping.wait(0.05)
        detail.warning('%s is served to this process and its children'
                       ' only, on 127.0.0.1: its path is too long for a'
                       ' Unix socket beside it', self.path)
        return served

    def serve(self):
        with self.lock:
            if self.server is None and not self.stopping.is_set():
                server = FileServer(self.uri, self.address)
                server.start()
                self.server = server

    def watch(self):
        """Take the place of the server this process used, once it is
        gone (a process that takes the lock first serves instead)."""
        while not self.stopping.wait(WATCH):
            if self.server is None and not answers(self.address):
                try:
                    self.serve()
                except zc.lockfile.LockError:
                    continue    # another process took it first
                except Exception as error:
                    detail.warning('Could not serve %s: %s', self.path,
                                   _uri.oneLine(error))
                    continue
                if self.server is not None:
                    detail.info('Took over serving %s: the process that'
                                ' served it is gone', self.path)

    def restart(self):
        """Serve the file anew (its storage broke), if this process
        serves it; return the ``zeo://`` URI to open."""
        with self.lock:
            if self.server is None:
                # Another process serves it: its storage, its restart.
                return clientURI(self.address, self.uri)
            self.server.stop()
            if self.address is None:
                self.server.start()     # at a new port
                return self.server.served
            self.server = None
        self.serve()
        return clientURI(self.address, self.uri)

    def stop(self):
        self.stopping.set()
        if self.watcher is not None:
            self.watcher.join()
        with self.lock:
            if self.server is not None:
                self.server.stop()
                self.server = None


class SharedDB(ZODB.DB):
    """A database on the server of a ``Sharing``, which it stops when it
    is closed."""

    sharing = None

    def close(self):
        try:
            super().close()
        finally:
            if self.sharing is not None:
                self.sharing.stop()


def openShared(uri):
    """Open the ``file://`` database ``uri`` for a process that runs for
    long: serve it to the others, or use the server of the process that
    does (see ``Sharing``)."""
    sharing = Sharing(uri)
    served = sharing.start()
    try:
        db = _uri.openDatabase(served, dbClass=SharedDB)
    except BaseException:
        sharing.stop()
        raise
    db.sharing = sharing
    return db


def openFile(uri, create=False, wait=None):
    """Open the ``file://`` database ``uri`` for a short command: through
    the server of the process that serves it, or else the file itself.
    Wait at most ``wait`` seconds (default: ``WAIT``) for a file another
    process holds without serving it yet."""
    path = filePath(uri)
    address = socketPath(path)
    deadline = time.monotonic() + (WAIT if wait is None else wait)
    while True:
        if answers(address):
            return _uri.openDatabase(clientURI(address, uri))
        try:
            return _uri.openDatabase(uri, create, passLockError=True)
        except zc.lockfile.LockError:
            if time.monotonic() > deadline:
                raise SharingError(heldBy(path, address)) from None
        time.sleep(0.05)
