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
"""Helpers shared by the unit tests: a real database, an index checker."""
import importlib
import os
import shutil
import tempfile
from unittest import mock


def openFileStorageDB(test):
    """Open a ``DB`` over a ``FileStorage`` that ``test`` cleans up.

    A FileStorage, not a MappingStorage, because only a storage that
    resolves conflicts shows which concurrent changes merge.
    """
    import ZODB
    import ZODB.FileStorage
    # A test database need not survive a power failure, and fsync makes
    # each commit cost milliseconds.
    module = importlib.import_module('ZODB.FileStorage.FileStorage')
    patcher = mock.patch.object(module, 'fsync', None)
    patcher.start()
    test.addCleanup(patcher.stop)
    directory = tempfile.mkdtemp(prefix='z3c.taskqueue-')
    test.addCleanup(shutil.rmtree, directory)
    storage = ZODB.FileStorage.FileStorage(
        os.path.join(directory, 'Data.fs'))
    db = ZODB.DB(storage)
    test.addCleanup(db.close)
    return db


def openConnection(test, db):
    """Open a connection with its own ``TransactionManager``.

    Return ``(connection, manager)``; ``test`` aborts and closes them.
    """
    import transaction
    manager = transaction.TransactionManager(explicit=False)
    connection = db.open(manager)

    def close():
        manager.abort()
        connection.close()

    test.addCleanup(close)
    return connection, manager


def indexTrees(service):
    """Return a dict naming every BTree of the service's indexes."""
    trees = {'schedule': service._schedule.due,
             'pending': service._schedule.pending,
             'claims': service._claims._byJob}
    trees.update(('queue %r[%d]' % (name, i), shard)
                 for name, shards in service._queues._byName.items()
                 for i, shard in enumerate(shards))
    trees.update(('status %r[%d]' % (status, i), ids)
                 for status in service._statuses.statuses()
                 for i, ids in enumerate(service._statuses.sets(status)))
    return trees


def queueShards(service):
    """Return the shards of all queues of the service."""
    return [shard for shards in service._queues._byName.values()
            for shard in shards]


def indexProblems(service, processing_allowed=False):
    """Return a list of the ways the service's indexes disagree with its jobs.

    Walks ``service.jobs`` and every index: the queues, the schedule, the
    claims and the status index.  An empty list means consistent.
    """
    from z3c.taskqueue import interfaces
    from z3c.taskqueue.model._index import FIRST
    from z3c.taskqueue.model._index import LAST
    from z3c.taskqueue.model._index import keyTime
    from z3c.taskqueue.model._index import keys
    from z3c.taskqueue.model.lease import sameLease
    from z3c.taskqueue.model.statusindex import INDEXED

    problems = []
    waiting = (interfaces.CRONJOB, interfaces.DELAYED)
    if service._layout != 2:
        return ['the service has layout version %r' % service._layout]
    queues, schedule = service._queues, service._schedule
    claims, statuses = service._claims, service._statuses

    indexes = [('queue %r[%d]' % (name, i), shard)
               for name, shards in queues._byName.items()
               for i, shard in enumerate(shards)]
    indexes += [('schedule', schedule.due), ('pending', schedule.pending),
                ('claims', claims._byJob)]
    if set(statuses.statuses()) != set(INDEXED):
        problems.append('the status index has %r' % statuses.statuses())
    indexes.extend(('status %r[%d]' % (status, i), ids)
                   for status in sorted(statuses.statuses())
                   for i, ids in enumerate(statuses.sets(status)))
    for name, index in indexes:
        if FIRST not in index or LAST not in index:
            problems.append('%s lost a sentinel' % name)

    jobs = dict(service.jobs.items())
    claimed = {}        # claimed and not settled
    unretired = {}      # settled, the lease not retired yet
    for jobid, lease in claims.items():
        job = jobs.get(jobid)
        if job is None:
            problems.append('the claims hold the unknown job %r' % jobid)
        elif sameLease(job._lastLease, lease):
            unretired[jobid] = job
        else:
            claimed[jobid] = job
    for jobid, job in jobs.items():
        if job.id != jobid:
            problems.append('job %r is stored under %r' % (job.id, jobid))
        if job.status not in interfaces.STATUSES:
            problems.append('job %r has status %r' % (jobid, job.status))
        if service.getStatus(jobid) == interfaces.PROCESSING and (
                not processing_allowed):
            problems.append('job %r is left processing' % jobid)
    for jobid, job in claimed.items():
        if job.status not in (interfaces.QUEUED, interfaces.PROCESSING):
            problems.append('job %r is claimed but %s' % (jobid, job.status))

    for status in statuses.statuses():
        indexed = set()
        sets = statuses.sets(status)
        for shard, ids in enumerate(sets):
            for jobid in keys(ids):
                indexed.add(jobid)
                if jobid % len(sets) != shard:
                    problems.append('job %r is in status %r[%d]'
                                    % (jobid, status, shard))
        actual = {jobid for jobid, job in jobs.items()
                  if job.status == status and jobid not in claimed
                  and (jobid not in unretired or jobid in indexed)}
        if indexed != actual:
            problems.append(
                'the status index holds %r as %r but the jobs in that'
                ' status are %r' % (sorted(indexed), status, sorted(actual)))

    queue_ids = []
    for name, key, jobid in queues.entries():
        queue_ids.append(jobid)
        job = jobs.get(jobid)
        if job is None:
            problems.append('queue %r holds the unknown job %r'
                            % (name, jobid))
            continue
        shards = queues._byName[name]
        if job.queue != name or shards[jobid % len(shards)].get(key) != jobid:
            problems.append('job %r of queue %r is in queue %r'
                            % (jobid, job.queue, name))
        if job._queueKey != key:
            problems.append('job %r is in a queue at %r but its _queueKey'
                            ' is %r' % (jobid, key, job._queueKey))
        if job.status != interfaces.QUEUED:
            problems.append('job %r is queued but %s' % (jobid, job.status))
        if jobid in claimed:
            problems.append('job %r is queued and claimed' % jobid)
    if len(queue_ids) != len(set(queue_ids)):
        problems.append('the queues hold a job twice: %r' % queue_ids)

    in_schedule = list(schedule.entries())
    scheduled = [jobid for key, jobid in in_schedule]
    if len(scheduled) != len(set(scheduled)):
        problems.append('the schedule holds a job twice: %r' % scheduled)
    retrying = set()
    for key, jobid in in_schedule:
        job = jobs.get(jobid)
        if job is None:
            problems.append('the schedule holds the unknown job %r' % jobid)
            continue
        if job._scheduleKey != key:
            problems.append('job %r is in the schedule at %r but its'
                            ' _scheduleKey is %r'
                            % (jobid, key, job._scheduleKey))
        if job.status == interfaces.QUEUED:
            retrying.add(jobid)     # waits for another attempt
            continue
        if job.status not in waiting:
            problems.append('job %r is %s but in the schedule'
                            % (jobid, job.status))
        if job.attempts:
            continue    # waits for another attempt at its instant
        due = job.scheduledFor
        # A job given back unstarted waits again for the instant it was
        # claimed for, from the time it was given back.
        if due is None or keyTime(key) - due.timestamp() > 0.002:
            problems.append('job %r is scheduled at %r but scheduledFor is'
                            ' %r' % (jobid, keyTime(key), due))

    queued = {jobid for jobid, job in jobs.items()
              if job.status == interfaces.QUEUED and jobid not in claimed}
    if set(queue_ids) | retrying != queued:
        problems.append('the queues hold %r and the schedule %r but the'
                        ' queued jobs are %r' % (
                            sorted(queue_ids), sorted(retrying),
                            sorted(queued)))
    if set(queue_ids) & retrying:
        problems.append('jobs both queued and scheduled: %r'
                        % sorted(set(queue_ids) & retrying))

    pending = set(keys(schedule.pending))
    for jobid in pending & set(scheduled):
        problems.append('job %r is both pending and scheduled' % jobid)
    expected = {jobid for jobid, job in jobs.items() if job.status in waiting}
    if pending | (set(scheduled) - retrying) != expected:
        problems.append(
            'pending %r and scheduled %r jobs are not the cron and delayed'
            ' jobs %r' % (sorted(pending), sorted(scheduled),
                          sorted(expected)))

    for jobid, job in jobs.items():
        if jobid in claimed:
            continue
        if job.status != interfaces.QUEUED and job._queueKey is not None:
            problems.append('job %r is %s but has a _queueKey'
                            % (jobid, job.status))
        if (job.status not in waiting + (interfaces.QUEUED,)
                and job._scheduleKey is not None):
            problems.append('job %r is %s but has a _scheduleKey'
                            % (jobid, job.status))
        if jobid in pending and job._scheduleKey is not None:
            problems.append('job %r is pending but has a _scheduleKey'
                            % jobid)
    problems += controlProblems(service, jobs)
    return problems


def controlProblems(service, jobs):
    """Return the ways the indexes of the job controls (keys,
    dependencies, result expiry) disagree with ``jobs``."""
    from z3c.taskqueue import interfaces
    from z3c.taskqueue.model._index import keys
    problems = []
    blocked = {jobid for jobid, job in jobs.items()
               if job.status == interfaces.BLOCKED}
    deps = service._dependencies
    indexed = set() if deps is None else set(keys(deps._blocked))
    if indexed != blocked:
        problems.append('the blocked index holds %r but the blocked jobs are'
                        ' %r' % (sorted(indexed), sorted(blocked)))
    waitsFor = {}
    if deps is not None:
        for dep, dependants in deps._dependants.items():
            if not dependants:
                problems.append('job %r has an empty set of dependants' % dep)
            for jobid in dependants:
                waitsFor.setdefault(jobid, set()).add(dep)
    for jobid in blocked | set(waitsFor):
        job = jobs.get(jobid)
        if job is None:
            problems.append('the dependants hold the unknown job %r' % jobid)
            continue
        if job.status != interfaces.BLOCKED:
            problems.append('job %r waits for %r but is %s'
                            % (jobid, sorted(waitsFor[jobid]), job.status))
            continue
        if set(job._waitingFor or ()) != waitsFor.get(jobid, set()):
            problems.append('job %r waits for %r but the dependants say %r'
                            % (jobid, job._waitingFor,
                               sorted(waitsFor.get(jobid, ()))))
        for dep in job._waitingFor or ():
            other = jobs.get(dep)
            if other is None or other.status in interfaces.FINISHED:
                problems.append('job %r waits for job %r, which is %s'
                                % (jobid, dep, other and other.status))
    if service._keys is not None:
        for key, jobid in service._keys._jobs.items():
            job = jobs.get(jobid)
            if job is None or job.key != key:
                problems.append('key %r names job %r, which has key %r'
                                % (key, jobid, job and job.key))
    history = service._history
    if history is not None:
        listed = {}
        for shard, tree in enumerate(history._shards):
            for key in keys(tree):
                jobid = tree[key]
                listed[jobid] = key
                if jobid % len(history._shards) != shard:
                    problems.append('job %r is in history shard %d'
                                    % (jobid, shard))
        # Entries of jobs deleted behind the service's back, or replaced
        # because their record no longer loads, are left: listJobs()
        # skips them.
        for jobid, job in jobs.items():
            if (job._historyKey is not None
                    and listed.get(jobid) != job._historyKey):
                problems.append('job %r has the history key %r, the history'
                                ' %r' % (jobid, job._historyKey,
                                         listed.get(jobid)))
    if service._expiry is not None:
        for key in keys(service._expiry.due):
            jobid = service._expiry.due[key]
            job = jobs.get(jobid)
            if job is None or job._expiryKey != key:
                problems.append('job %r expires at %r but its _expiryKey is'
                                ' %r' % (jobid, key, job and job._expiryKey))
            elif job.status not in interfaces.FINISHED:
                problems.append('job %r expires but is %s'
                                % (jobid, job.status))
    return problems


def assertConsistent(test, service, processing_allowed=False):
    """Fail ``test`` unless the indexes of ``service`` match its jobs."""
    problems = indexProblems(service, processing_allowed)
    if problems:
        test.fail('inconsistent indexes:\n' + '\n'.join(problems))


def mountSmallDisk(test, size='2m'):
    """Mount a tmpfs of ``size`` for ``test``; return its path.

    A full disk is a real fault only a real file system makes: writes
    fail with ENOSPC, as on a full production disk.  Mounting needs root
    (or CAP_SYS_ADMIN); without it the test is skipped, saying so.
    """
    import subprocess
    import unittest
    directory = tempfile.mkdtemp(prefix='z3c.taskqueue-disk-')
    test.addCleanup(shutil.rmtree, directory, True)
    result = subprocess.run(
        ['mount', '-t', 'tmpfs', '-o', 'size=%s' % size, 'tmpfs', directory],
        capture_output=True, text=True)
    if result.returncode:
        raise unittest.SkipTest(
            'cannot mount a small tmpfs to fill (needs root): %s'
            % (result.stderr.strip() or result.returncode))
    test.addCleanup(subprocess.run, ['umount', '-l', directory])
    return directory


def fillDisk(directory):
    """Fill the file system of ``directory`` with a file; return its path.

    Removing the file frees the space again.
    """
    path = os.path.join(directory, 'filler')
    with open(path, 'ab', buffering=0) as f:
        for chunk in (65536, 512, 1):
            try:
                while True:
                    f.write(b'\0' * chunk)
            except OSError:
                pass
    return path


def installed(*modules):
    """Tell whether the distributions that provide ``modules`` (dotted
    names) are installed, without importing the modules themselves.

    For the layers of optional extras: a test module that finds them
    missing skips its tests, saying so.  Only a module that is not there
    reads as missing; any other ImportError (one inside this package, or
    in an installed distribution) is raised when the module is imported.
    """
    import importlib.util
    for name in modules:
        try:
            if importlib.util.find_spec(name) is None:
                return False
        except ModuleNotFoundError as error:
            # A parent package is missing (plone.app without Plone).
            if error.name is None or not (name + '.').startswith(
                    error.name + '.'):
                raise
            return False
    return True


def untraced(test):
    """Run the rest of ``test``, and the threads it starts, without a
    trace function (coverage's); the one there was comes back after it.

    For a test that leaves a ``JobTimeout`` pending in a thread blocked
    in a C call: on CPython 3.11, while one is pending, every thread that
    runs under a trace function hangs.  Coverage misses what runs then.
    """
    import sys
    import threading
    trace, threadTrace = sys.gettrace(), threading.gettrace()
    if trace is None and threadTrace is None:
        return
    sys.settrace(None)
    threading.settrace(None)

    def restore():
        sys.settrace(trace)
        threading.settrace(threadTrace)
    test.addCleanup(restore)
