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
"""Print how long the job commands and the dashboard's pages take on
1,000 and 1,000,000 jobs.

Each command runs as an operator runs it: a new ``z3c-taskqueue``
process on a FileStorage (so the time includes starting Python and
opening the database), best of three.  Both sizes are measured side by
side in one run; the ratio says how the cost grows with a thousand times
more jobs (1 would be flat; 1000 would mean every job is loaded).
"""
import argparse
import os
import subprocess
import sys
import time

import transaction
import ZODB
import ZODB.FileStorage

import _harness


HERE = os.path.dirname(os.path.abspath(__file__))
COMMAND = [os.path.join(os.path.dirname(sys.executable), 'z3c-taskqueue')]


def build(path, count):
    """Store ``count`` jobs: most queued, some completed, a few failed, a
    few cron jobs; return the id of a failed job."""
    from z3c.taskqueue.commands import demo
    demo.registerSampleTasks()
    db = ZODB.DB(ZODB.FileStorage.FileStorage(path))
    connection = db.open()
    service = _harness.new_service(connection.root())
    transaction.commit()
    for start in range(0, count, 10000):
        for number in range(start, min(count, start + 10000)):
            service.add('sum', [number])
        transaction.commit()
    for number in range(5):
        service.addCronJob('sum', [number], cron='*/5 * * * *',
                           timezone='Europe/Berlin')
    failed = service.add('sum', 'oops')
    transaction.commit()
    service.processNext(jobid=failed)
    for number in range(min(1000, count // 10)):
        service.processNext()
        if number % 100 == 0:
            transaction.commit()
    transaction.commit()
    connection.close()
    db.close()
    return failed


def timed(argv, rounds=3):
    best = None
    for unused in range(rounds):
        started = time.perf_counter()
        done = subprocess.run(argv, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
        elapsed = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit('%s failed: %s' % (' '.join(argv), done.stderr))
        best = elapsed if best is None else min(best, elapsed)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--large', type=int, default=1000000)
    parser.add_argument('--small', type=int, default=1000)
    # It has no goals to miss; accepted as the other benchmarks take it.
    _harness.add_no_fail(parser, '(no goals here: always exits with 0)')
    args = parser.parse_args()
    # Removed at the end, the large database with it.
    with _harness.temporary_directory('listing') as directory:
        measure(args, directory)


def measure(args, directory):
    sizes = (args.small, args.large)
    databases = {}
    for size in sizes:
        path = os.path.join(directory, '%d.fs' % size)
        started = time.perf_counter()
        failed = build(path, size)
        _harness.progress('stored %d jobs in %.0f s' % (
            size, time.perf_counter() - started))
        databases[size] = ('file://' + path, failed)
    rows = [
        ('jobs (first page of 50)', ['jobs']),
        ('jobs --status error (rare)', ['jobs', '--status', 'error']),
        ('jobs --task sum --limit 500', ['jobs', '--task', 'sum',
                                         '--limit', '500']),
        ('show ID', ['show', '{failed}']),
        ('status', ['status']),
        ('cron', ['cron']),
        ('clean --older-than 100d', ['clean', '--older-than', '100d']),
        ('python -c pass (the floor)', None),
    ]
    print('%-32s %10s %12s %7s' % ('command, best of 3, seconds',
                                   '%d jobs' % sizes[0],
                                   '%d jobs' % sizes[1], 'ratio'))
    for name, argv in rows:
        times = []
        for size in sizes:
            uri, failed = databases[size]
            if argv is None:
                line = [sys.executable, '-c', 'pass']
            else:
                line = COMMAND + [argv[0], uri, '--service', 'tasks'] + [
                    part.format(failed=failed) for part in argv[1:]]
            times.append(timed(line))
        print('%-32s %10.3f %12.3f %7.2f' % (name, times[0], times[1],
                                             times[1] / times[0]))
    print('\nEach command opens the database anew (FileStorage reads its'
          ' index file), reads a page or a batch, and exits.')
    pageRows = [('/ (overview)', '/'), ('/jobs', '/jobs'),
                ('/jobs?status=error', '/jobs?status=error'),
                ('/jobs/ID', '/jobs/{failed}'), ('/cron', '/cron'),
                ('/workers', '/workers'), ('/metrics', '/metrics')]
    print('\n%-32s %10s %12s %7s' % ('dashboard page, best of 5, seconds',
                                     '%d jobs' % sizes[0],
                                     '%d jobs' % sizes[1], 'ratio'))
    servers = {size: Served(*databases[size]) for size in sizes}
    try:
        for name, page in pageRows:
            times = [servers[size].time(page) for size in sizes]
            print('%-32s %10.3f %12.3f %7.2f' % (name, times[0], times[1],
                                                 times[1] / times[0]))
    finally:
        for served in servers.values():
            served.close()
    print('\nEach page is asked over HTTP of a dashboard serving the'
          ' database, after one warm-up request.')


class Served:
    """A dashboard of the database ``uri``, served in this process."""

    def __init__(self, uri, failed):
        import threading
        from z3c.taskqueue.database import _uri
        from z3c.taskqueue.dashboard import server
        self.failed = failed
        self.db = _uri.openDatabase(uri)
        self.server, unused = server.makeServer(self.db, ['tasks'],
                                                ('127.0.0.1', 0))
        self.thread = threading.Thread(target=server.run,
                                       args=(self.server,), daemon=True)
        self.thread.start()
        self.base = 'http://127.0.0.1:%s' % self.server.effective_port

    def time(self, page, rounds=5):
        import urllib.request
        url = self.base + page.format(failed=self.failed)
        urllib.request.urlopen(url, timeout=120).read()     # warm up
        best = None
        for unused in range(rounds):
            started = time.perf_counter()
            urllib.request.urlopen(url, timeout=120).read()
            elapsed = time.perf_counter() - started
            best = elapsed if best is None else min(best, elapsed)
        return best

    def close(self):
        from z3c.taskqueue.dashboard import server
        server.stop(self.server)
        self.thread.join(10)
        self.db.close()


if __name__ == '__main__':
    main()
