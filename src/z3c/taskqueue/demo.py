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
import time

import transaction
import ZODB
import ZODB.FileStorage
import zope.component

from z3c.taskqueue import interfaces
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


def run(path, out=sys.stdout):
    registerSampleTasks()
    db, connection, service = openService(path)
    try:
        service.clean()
        batch = [service.add('echo', {'greeting': 'hello'}),
                 service.add('sum', [1, 2, 3, 4]),
                 service.add('divide', (1, 0)),
                 service.add('divide', (22, 7))]
        batch += [service.add('sum', range(n)) for n in range(10, 60, 10)]
        delayed = service.addCronJob('echo', 'one second later', delay=1)
        cron = service.addCronJob('sum', [20, 22], minute=(0, 30))
        transaction.commit()
        print('queued %d jobs, a delayed job and a cron job in %s'
              % (len(batch), path), file=out)

        while processNext(service):
            pass
        waitUntil(service, delayed)
        # The cron job runs at minutes 0 and 30: instead of waiting for the
        # clock, process it at its scheduled time.
        when = service.jobs[cron].scheduledFor.timestamp()
        processNext(service, when)
        print('cron job %d ran for %s, next run %s' % (
            cron, time.strftime('%H:%M', time.gmtime(when)),
            service.jobs[cron].scheduledFor.strftime('%H:%M UTC')),
            file=out)

        for jobid in batch + [delayed, cron]:
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


def processNext(service, now=None):
    done = service.processNext(now)
    transaction.commit()
    return done


def waitUntil(service, jobid, timeout=10):
    deadline = time.time() + timeout
    while service.getStatus(jobid) == interfaces.DELAYED:
        if time.time() > deadline:
            raise RuntimeError('job %d did not run in time' % jobid)
        time.sleep(0.05)
        processNext(service)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('path', nargs='?', default='var/demo.fs',
                        help='the FileStorage file (default: %(default)s)')
    args = parser.parse_args(argv)
    run(args.path)


if __name__ == '__main__':
    main()
