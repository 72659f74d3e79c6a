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
"""The demo behind ``make demo``: a worker process runs real jobs."""
import argparse
import os
import subprocess
import sys
import time

import transaction
import ZODB
import ZODB.FileStorage
import zope.component

from z3c.taskqueue import interfaces
from z3c.taskqueue.commands.command import workerCommand
from z3c.taskqueue.model.service import TaskService
from z3c.taskqueue.model.task import SimpleTask
from z3c.taskqueue.model.task import TaskError


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


# So that ``z3c-taskqueue worker ... --import z3c.taskqueue.commands.demo``
# can run the demo's jobs.
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


def run(path, out=sys.stdout, threads=2, jobs=200, workerLog=None):
    """Queue sample jobs in ``path``, run a worker process until they are
    done, and show what happened."""
    registerSampleTasks()
    path = os.path.abspath(path)
    db, connection, service = openService(path)
    try:
        service.clean()
        batch = [service.add('echo', {'greeting': 'hello'}),
                 service.add('sum', [1, 2, 3, 4]),
                 service.add('divide', (1, 0)),
                 service.add('divide', (22, 7))]
        batch += [service.add('sum', range(n)) for n in range(jobs - 4)]
        delayed = service.addCronJob('echo', 'two seconds later', delay=2)
        cron = service.addCronJob('sum', [20, 22], cron='*/30 * * * *',
                                  timezone='Europe/Berlin')
        transaction.commit()
        print('queued %d jobs, a delayed job and a cron job in %s'
              % (len(batch), path), file=out, flush=True)
    finally:
        close(db, connection)

    # The worker is a process of its own, as in production.  A FileStorage
    # is opened by one process at a time: ours is closed meanwhile.
    arguments = [
        'worker', 'file://' + path, '--service', 'tasks',
        '--import', 'z3c.taskqueue.commands.demo', '--threads', str(threads),
        '--wait', '0.1', '--exit-when-done']
    print('$ z3c-taskqueue ' + ' '.join(arguments), file=out, flush=True)
    command = workerCommand() + arguments
    started = time.time()
    status = subprocess.call(command, stdout=workerLog, stderr=workerLog)
    if status:
        raise RuntimeError('the worker failed with exit status %d' % status)
    print('the worker finished the batch in %.1f s' % (
        time.time() - started), file=out)

    db, connection, service = openService(path)
    try:
        counts = service.countJobs()
        print(', '.join('%d %s' % (counts[status], status)
                        for status in sorted(counts) if counts[status]),
              file=out)
        for jobid in batch[:4] + [delayed, cron]:
            job = service.jobs[jobid]
            print('%-10d %-6s %-10s %r' % (
                jobid, job.task, job.status,
                job.error if job.status == interfaces.ERROR else job.output),
                file=out)
        job = service.jobs[cron]
        print('cron job %d (%s in %s) waits for %s' % (
            cron, job.cron, job.timezone, job.scheduledFor.astimezone(
                _zone(job.timezone)).strftime('%H:%M %Z')), file=out)
        service.cancel(cron)
        transaction.commit()
        print('%d jobs stored in %s' % (len(service.jobs), path), file=out)
    finally:
        close(db, connection)


def close(db, connection):
    transaction.abort()
    connection.close()
    db.close()


def _zone(name):
    import zoneinfo
    return zoneinfo.ZoneInfo(name)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('path', nargs='?', default='var/demo.fs',
                        help='the FileStorage file (default: %(default)s)')
    args = parser.parse_args(argv)
    run(args.path)


if __name__ == '__main__':
    main()
