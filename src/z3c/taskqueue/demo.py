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
"""The demo behind ``make demo``: real jobs on an embedded FileStorage."""
import argparse
import os
import sys
import threading
import time

import transaction
import ZODB
import ZODB.FileStorage
import zope.component

from z3c.taskqueue import interfaces
from z3c.taskqueue.processor import MultiProcessor
from z3c.taskqueue.service import TaskService
from z3c.taskqueue.task import SimpleTask
from z3c.taskqueue.task import TaskError


def echo(input):
    return input


def total(input):
    return sum(input)


def divide(input):
    numerator, denominator = input
    if denominator == 0:
        raise TaskError('cannot divide %r by zero' % (numerator,))
    return numerator / denominator


SAMPLE_TASKS = {'echo': echo, 'sum': total, 'divide': divide}


def registerSampleTasks():
    for name, func in SAMPLE_TASKS.items():
        zope.component.provideUtility(SimpleTask(func), name=name)


# So that ``z3c-taskqueue worker ... --import z3c.taskqueue.demo`` can run
# the demo's jobs.
registerSampleTasks()


def openService(path):
    """Open the FileStorage at ``path``; return (db, connection, service).
    """
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    db = ZODB.DB(ZODB.FileStorage.FileStorage(path))
    connection = db.open()
    root = connection.root()
    if 'tasks' not in root:
        service = root['tasks'] = TaskService()
        service.__name__ = 'tasks'
        transaction.commit()
    return db, connection, root['tasks']


def run(path, out=sys.stdout, threads=2):
    registerSampleTasks()
    db, connection, service = openService(path)
    try:
        service.clean()
        batch = [service.add('echo', {'greeting': 'hello'}),
                 service.add('sum', [1, 2, 3, 4]),
                 service.add('divide', (1, 0)),
                 service.add('divide', (22, 7))]
        batch += [service.add('sum', range(n)) for n in range(10, 210, 10)]
        delayed = service.addCronJob('echo', 'one second later', delay=1)
        cron = service.addCronJob('sum', [20, 22], minute=(0, 30))
        transaction.commit()
        print('queued %d jobs, a delayed job and a cron job in %s'
              % (len(batch), path), file=out)

        worker = MultiProcessor(db, ['tasks'], waitTime=0.1,
                                maxThreads=threads)
        thread = threading.Thread(target=worker, name=worker.name)
        thread.start()
        try:
            waitForJobs(service, batch + [delayed], out)
        finally:
            worker.stop()
            thread.join()
        print('%d worker threads completed %d jobs, %d failed' % (
            threads, worker.processed, worker.failed), file=out)

        # The cron job runs at minutes 0 and 30.  Rather than wait for the
        # clock, run it here as a processor would at its scheduled time.
        transaction.begin()
        when = service.jobs[cron].scheduledFor.timestamp()
        service.processNext(when)
        transaction.commit()
        print('cron job %d ran for %s, next run %s' % (
            cron, time.strftime('%H:%M', time.gmtime(when)),
            service.jobs[cron].scheduledFor.strftime('%H:%M UTC')),
            file=out)

        for jobid in batch[:6] + [delayed, cron]:
            job = service.jobs[jobid]
            print('%-10d %-6s %-10s %r' % (
                jobid, job.task, job.status,
                job.error if job.status == interfaces.ERROR else job.output),
                file=out)
        service.cancel(cron)
        transaction.commit()
        print('%d jobs stored in %s' % (len(service.jobs), path), file=out)
    finally:
        transaction.abort()
        connection.close()
        db.close()


def waitForJobs(service, ids, out, timeout=60):
    """Show a running count until the jobs ``ids`` are finished."""
    deadline = time.time() + timeout
    shown = None
    while True:
        transaction.begin()
        done = sum(1 for jobid in ids
                   if service.getStatus(jobid) in interfaces.FINISHED)
        if done != shown:
            out.write('\r%d of %d jobs finished' % (done, len(ids)))
            out.flush()
            shown = done
        if done == len(ids):
            out.write('\n')
            return
        if time.time() > deadline:
            raise RuntimeError('the jobs did not finish in %d s' % timeout)
        time.sleep(0.05)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('path', nargs='?', default='var/demo.fs',
                        help='the FileStorage file (default: %(default)s)')
    args = parser.parse_args(argv)
    run(args.path)


if __name__ == '__main__':
    main()
