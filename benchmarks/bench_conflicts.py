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
"""Print how often add() conflicts on a real ZEO server while worker
processes claim: a job per transaction from several threads, and 1,000
jobs in one transaction; and on which objects."""
import argparse
import collections
import platform
import sys
import textwrap
import threading
import time

import transaction
import ZEO
import ZODB
from ZODB.POSException import ConflictError

import _harness


SECONDS = 20            # of single adds, a row
QUICK_SECONDS = 6
BULKS = 10              # bulk adds, a row
QUICK_BULKS = 3
BULK = 1000             # jobs in a bulk add
PACE = 1.0              # seconds from a bulk add to the next
FIRST = 2.0             # seconds at the start, with a new service
ADDERS = 4              # threads adding one job per transaction
RETRIES = 3             # as Zope retries a request
WAIT = 0.05             # the workers' --wait
START_TIMEOUT = 60
SINGLE_GOAL = 0.02      # conflicts per transaction of one add
BULK_GOAL = 0.3         # conflicts per transaction of a bulk add


class Server(_harness.ZEOServer):
    """A ZEO server on a FileStorage in a temporary directory, a service
    at the root key ``tasks``, and worker processes."""

    db = workers = None

    def __init__(self, workers, tmpdir=None):
        super().__init__('conflicts', tmpdir)
        self.count = workers

    def start(self):
        super().start()
        self.db = ZODB.DB(ZEO.client(self.addr), pool_size=ADDERS + 2)
        with self.db.transaction() as connection:
            _harness.new_service(connection.root())
        self.workers = _harness.Workers(self.uri, self.directory,
                                        self.count, wait=WAIT)
        self.workers.start()
        self.workers.wait_until_ready(START_TIMEOUT)

    def close(self):
        try:
            if self.workers is not None:
                self.workers.close()
            if self.db is not None:
                self.db.close()
        finally:
            super().close()


class Tally:
    """Transactions, the conflicts they met, and the most conflicts in a
    row, of one kind of add."""

    def __init__(self):
        self.lock = threading.Lock()
        self.transactions = 0
        self.jobs = 0
        self.conflicts = []
        self.worst = 0
        self.failed = 0      # ran out of RETRIES, as a request would
        self.seconds = 0.0

    def record(self, jobs, conflicts, seconds):
        with self.lock:
            self.transactions += 1
            self.jobs += jobs
            self.conflicts.extend(conflicts)
            self.worst = max(self.worst, len(conflicts))
            if len(conflicts) > RETRIES:
                self.failed += 1
            self.seconds += seconds


def addAndCommit(db, jobs, tally, name):
    """Add ``jobs`` jobs in one transaction, retrying conflicts; record
    each conflict's oid and class."""
    tm = transaction.TransactionManager()
    connection = db.open(transaction_manager=tm)
    conflicts = []
    started = time.perf_counter()
    try:
        while True:
            tm.begin()
            service = connection.root()['tasks']
            try:
                for unused in range(jobs):
                    service.add('noop')
                tm.commit()
                break
            except ConflictError as error:
                tm.abort()
                conflicts.append((error.oid, error.class_name,
                                  'read conflict' in str(error),
                                  time.perf_counter()))
                if len(conflicts) > 50:
                    raise
    finally:
        connection.close()
    tally.record(jobs, conflicts, time.perf_counter() - started)


def singles(server, seconds):
    """ADDERS threads, each adding one job per transaction."""
    tally = Tally()
    tally.started = time.perf_counter()
    deadline = time.monotonic() + seconds

    def adder():
        while time.monotonic() < deadline:
            addAndCommit(server.db, 1, tally, 'single')
    threads = [threading.Thread(target=adder) for i in range(ADDERS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 120)
    tally.wall = time.perf_counter() - started
    return tally


def bulks(server, count):
    """One thread adding BULK jobs per transaction, ``count`` times, one
    every PACE seconds: the workers are still claiming the jobs of the
    last ones."""
    tally = Tally()
    started = tally.started = time.perf_counter()
    for number in range(count):
        time.sleep(max(0, started + number * PACE - time.perf_counter()))
        addAndCommit(server.db, BULK, tally, 'bulk')
    tally.wall = time.perf_counter() - started
    return tally


def names(db, oids):
    """Name each of ``oids`` by the attribute of the service that holds
    it (as bench_zope.py does), and by its part of a BTree."""
    with db.transaction() as connection:
        found = _harness.ObjectNames()
        found.add_service(connection.root()['tasks'])
        result = {}
        for oid in oids:
            name = found.get(oid)
            if name is None:
                try:
                    cls = type(connection.get(oid)).__name__
                except Exception:
                    cls = '?'
                name = {'Job': 'a job', 'Lease': 'a lease'}.get(
                    cls, 'elsewhere: ' + cls)
            result[oid] = name
        return result


# Printing

ROW = '%-37s %6s %6s %9s %7s %4s %6s %5s'


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    _harness.add_quick(parser, '%d s of single adds and %d bulk adds a'
                       ' row, not %d and %d' % (QUICK_SECONDS, QUICK_BULKS,
                                                SECONDS, BULKS))
    _harness.add_tmpdir(parser, 'where the databases and logs go')
    _harness.add_no_fail(parser, 'exit 0 even if a goal is missed')
    args = parser.parse_args(argv)
    seconds = QUICK_SECONDS if args.quick else SECONDS
    count = QUICK_BULKS if args.quick else BULKS
    run = _harness.Run()
    rows = []
    for workers in (1, 4):
        for kind in ('single', 'bulk'):
            _harness.progress('%s adds, %d claiming workers' % (kind, workers))
            with Server(workers, args.tmpdir) as server:
                if kind == 'single':
                    tally = singles(server, seconds)
                else:
                    tally = bulks(server, count)
                oids = {oid for oid, cls, read, when in tally.conflicts}
                tally.names = names(server.db, oids)
            rows.append((kind, workers, tally))

    lines = [
        'How often add() conflicts on a ZEO server (runzeo, FileStorage)'
        ' while 1 or 4 worker processes (z3c-taskqueue worker, one thread'
        ' each, --wait %g) claim and run its no-op jobs: %d threads adding'
        ' one job per transaction for %d s, or one thread adding %s jobs'
        ' per transaction %d times, one every %g s (the workers still'
        ' claim the last one\'s jobs).  A conflicted transaction is tried'
        ' again at once; ms per tr.: its time, tries included; first'
        ' %g s: the conflicts of the first %g s, when the service is new'
        ' and the connections\' jobs still share buckets.'
        % (WAIT, ADDERS, seconds, format(BULK, ','), count, PACE, FIRST,
           FIRST),
        'Python %s; %s; %s; run started %s; 1-minute load average %s at'
        ' the end.' % (
            platform.python_version(),
            _harness.versions('ZEO', 'ZODB', 'BTrees', 'z3c.taskqueue'),
            _harness.machine(), run.started, _harness.load_average()),
    ]
    _harness.print_wrapped(lines)
    print()
    print(ROW % ('', 'trans-', '', 'conflicts', 'most in', 'over',
                 'ms per', 'first'))
    print(ROW % ('row', 'actions', 'jobs', 'per tr.', 'a row',
                 str(RETRIES), 'tr.', '%g s' % FIRST))
    for kind, workers, tally in rows:
        label = ('one job per transaction' if kind == 'single'
                 else '%s jobs per transaction' % format(BULK, ','))
        print(ROW % ('%s, %d worker%s' % (label, workers,
                                          '' if workers == 1 else 's'),
                     format(tally.transactions, ','),
                     format(tally.jobs, ','),
                     '%.4f' % (len(tally.conflicts) / tally.transactions),
                     tally.worst, tally.failed,
                     '%.0f' % (tally.seconds / tally.transactions * 1000),
                     len([c for c in tally.conflicts
                          if c[3] - tally.started < FIRST])))
    print()
    print('The objects they conflicted on (write/read conflicts):')
    for kind, workers, tally in rows:
        counts = collections.Counter(
            (tally.names[oid], cls.rsplit('.', 1)[-1] if cls else '',
             read) for oid, cls, read, when in tally.conflicts)
        objects = collections.defaultdict(lambda: [0, 0])
        for (name, cls, read), number in counts.items():
            objects[name][read] += number
        summary = '; '.join(
            '%s %d/%d' % (name, w, r) for name, (w, r) in sorted(
                objects.items(), key=lambda item: -sum(item[1])))
        print(textwrap.fill('%s, %d workers: %s' % (
            kind, workers, summary or 'none'), 79, subsequent_indent='    '))
    print()
    print(textwrap.fill(
        'Over %d: transactions that conflicted more than %d times in a'
        ' row, which a Zope request, retried %d times, would have answered'
        ' with an error.' % (RETRIES, RETRIES, RETRIES), 79))
    print()
    met = printGoals(rows)
    return run.end(met, args)


def printGoals(rows):
    met = []
    print('Goals:')
    for kind, workers, tally in rows:
        goal = SINGLE_GOAL if kind == 'single' else BULK_GOAL
        rate = len(tally.conflicts) / tally.transactions
        ok = rate <= goal and not tally.failed
        met.append(ok)
        print('%-6s adds, %d worker%s: %.4f conflicts per transaction <='
              ' %g, %d over %d  %s' % (
                  kind, workers, ' ' if workers == 1 else 's', rate, goal,
                  tally.failed, RETRIES, _harness.verdict(ok)))
    print()
    return all(met)


if __name__ == '__main__':
    sys.exit(main())
