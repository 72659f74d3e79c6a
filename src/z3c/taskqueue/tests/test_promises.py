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
"""The job controls keep the old promises under concurrency, on a real
FileStorage: a time limit never interrupts a commit, a job added to wait
for another never misses its end, a keyed add never hands back a job a
worker already runs, a retried dependant waits again."""
import logging
import unittest
import threading
import time

import transaction
from ZODB.POSException import ConflictError
from zope.testing.loggingsupport import InstalledHandler

from z3c.taskqueue import interfaces
from z3c.taskqueue.model.tests.test_controls import ControlTestBase


class SlowSecondPhase:
    """A resource manager whose second phase takes ``seconds``: it sorts
    before the FileStorage, so a time limit that falls due while it
    sleeps would land between the two second phases."""

    def __init__(self, seconds):
        self.seconds = seconds
        self.finished = False

    def sortKey(self):
        return '\0 slow second phase'

    def abort(self, txn):
        pass

    tpc_begin = commit = tpc_vote = tpc_abort = abort

    def tpc_finish(self, txn):
        time.sleep(self.seconds)
        self.finished = True


class TimeLimitTests(ControlTestBase):
    """A time limit never lands inside a commit: the commit completes,
    and the task is stopped right after it."""

    def setUp(self):
        super().setUp()
        self.critical = InstalledHandler('txn', level=logging.CRITICAL)
        self.addCleanup(self.critical.uninstall)
        self.storageLog = InstalledHandler('ZODB.FileStorage')
        self.addCleanup(self.storageLog.uninstall)

    def assertDatabaseWorks(self):
        self.tm.abort()
        self.root['after'] = 'works'
        self.tm.commit()
        self.assertFalse(self.db.storage._is_read_only)
        self.assertEqual(
            [r.getMessage() for r in self.critical.records], [])
        self.assertEqual(
            [r.getMessage() for r in self.storageLog.records
             if r.levelno >= logging.ERROR], [])

    def test_a_limit_that_falls_due_in_a_commit_waits_for_its_end(self):
        slow = SlowSecondPhase(0.6)
        steps = []

        def stepwise(service, jobid, input):
            root = service._p_jar.root()
            root['step'] = 1
            transaction.get().join(slow)
            transaction.commit()        # the limit falls due in here
            steps.append('after the commit')
            while True:
                root['step'] += 1
                time.sleep(0.01)
        self.provide('stepwise', stepwise)
        jobid = self.service.add('stepwise', timeout=0.2)
        self.tm.commit()
        self.startProcessor()
        self.waitUntil(lambda: self.service.getStatus(jobid) == 'error')
        self.assertIn('timed out after 0.2 s', self.service.getError(jobid))
        # The commit was whole: both second phases ran, and the task was
        # stopped when it returned, before its next step.
        self.assertTrue(slow.finished)
        self.assertEqual(self.root['step'], 1)
        self.assertEqual(steps, [])
        self.assertDatabaseWorks()

    def test_tasks_that_commit_in_steps_never_close_the_database(self):
        def stepwise(service, jobid, input):
            root = service._p_jar.root()
            for step in range(100000):
                root['data%d' % (step % 5)] = 'x' * 200000
                transaction.commit()
        self.provide('stepwise', stepwise)
        ids = [self.service.add('stepwise', timeout=0.3) for i in range(4)]
        self.tm.commit()
        self.startProcessor()
        self.waitUntil(lambda: all(
            self.service.getStatus(jobid) == 'error' for jobid in ids))
        for jobid in ids:
            self.assertIn('timed out after 0.3 s',
                          self.service.getError(jobid))
        self.assertDatabaseWorks()

    def test_a_progress_commit_is_never_interrupted(self):
        from z3c.taskqueue.model import progress
        commitReport = progress._commitReport
        committing = []

        def slowly(*args):
            # The limit falls due while the report is being committed.
            committing.append(args[2])
            time.sleep(0.4)
            commitReport(*args)
        self.patchModule(progress, '_commitReport', slowly)

        def reporting(service, jobid, input):
            service.setProgress(jobid, 0.5, 'half way')
            time.sleep(5)
        self.provide('reporting', reporting)
        jobid = self.service.add('reporting', timeout=0.1)
        self.tm.commit()
        self.startProcessor()
        self.waitUntil(lambda: self.service.getStatus(jobid) == 'error')
        self.assertIn('timed out after 0.1 s', self.service.getError(jobid))
        self.assertEqual(committing, [jobid])
        self.assertEqual(self.service.getProgress(jobid), (0.5, 'half way'))
        self.assertDatabaseWorks()

    def patchModule(self, module, name, value):
        original = getattr(module, name)
        setattr(module, name, value)
        self.addCleanup(setattr, module, name, original)

    def test_a_shield_defers_the_limit_and_raises_it_after(self):
        from z3c.taskqueue.model._timelimit import limited
        from z3c.taskqueue.model._timelimit import shielded
        events = []
        with self.assertRaises(interfaces.JobTimeout) as raised:
            with limited(0.05):
                with shielded():
                    time.sleep(0.2)     # the limit falls due in here
                    for i in range(1000):
                        pass            # and is not raised here
                    events.append('shield done')
                events.append('after the shield')
        self.assertEqual(events, ['shield done'])
        self.assertEqual(str(raised.exception), 'timed out after 0.05 s')

    def test_a_shield_without_a_limit_changes_nothing(self):
        from z3c.taskqueue.model._timelimit import shielded
        with shielded():
            pass
        with self.assertRaises(KeyError):
            with shielded():
                raise KeyError('x')


def sleepy(service, jobid, input):
    time.sleep(input or 0)
    return input


class DependencyRaceTests(ControlTestBase):
    """``add(after=[X])`` while X ends in another transaction: the new
    job is never left ``blocked`` for good."""

    def setUp(self):
        super().setUp()
        self.provide('sleepy', sleepy)

    def claimed(self, service, jobid):
        lease, ids = service.claimJobs('w', 60, limit=1)
        self.assertEqual(ids, [jobid])
        return lease

    def test_an_add_that_commits_first_is_released_by_the_retirement(self):
        x = self.service.add('echo', 'x')
        self.tm.commit()
        worker, service = self.otherConnection()
        lease = self.claimed(service, x)
        worker.commit()
        # The worker's transaction that records X's end began before the
        # request's add commits.
        self.assertTrue(service.completeJob(x, lease, 'done'))
        b = self.service.add('echo', 'b', after=[x])
        self.tm.commit()
        worker.commit()
        self.assertEqual(self.service.getStatus(b), 'blocked')
        # The next claim retires the lease, and sees the new dependant.
        service.retireLease(lease)
        worker.commit()
        self.tm.abort()
        self.assertEqual(self.service.getStatus(b), 'queued')
        self.assertConsistent()

    def test_an_add_that_commits_after_the_end_conflicts(self):
        x = self.service.add('echo', 'x')
        self.tm.commit()
        worker, service = self.otherConnection()
        lease = self.claimed(service, x)
        worker.commit()
        self.tm.abort()
        b = self.service.add('echo', 'b', after=[x])    # X still runs
        self.assertTrue(service.completeJob(x, lease, 'done'))
        worker.commit()
        with self.assertRaises(ConflictError):
            self.tm.commit()
        self.tm.abort()
        b = self.service.add('echo', 'b', after=[x])    # the retry
        self.tm.commit()
        self.assertEqual(self.service.getStatus(b), 'queued')

    def test_a_cancel_that_missed_an_add_conflicts(self):
        x = self.service.add('echo', 'x', startLater=True)
        self.tm.commit()
        request, service = self.otherConnection()
        service.cancel(x)      # its transaction began before the add
        b = self.service.add('echo', 'b', after=[x])
        self.tm.commit()
        with self.assertRaises(ConflictError):
            request.commit()
        request.abort()
        service.cancel(x)
        request.commit()
        self.tm.abort()
        self.assertEqual(self.service.getStatus(b), 'cancelled')
        self.assertIn('job %d, which it waited for, ended cancelled' % x,
                      self.service.getError(b))

    def test_a_failure_recorded_by_a_recovery_conflicts_too(self):
        x = self.service.add('echo', 'x')
        self.tm.commit()
        worker, service = self.otherConnection()
        self.claimed(service, x)
        worker.commit()
        # A supervisor gives up on X; a request adds B after X meanwhile.
        service.recoverProcess('w', 'killed', {x: 'killed after 1 s'})
        b = self.service.add('echo', 'b', after=[x])
        self.tm.commit()
        with self.assertRaises(ConflictError):
            worker.commit()
        worker.abort()
        service.recoverProcess('w', 'killed', {x: 'killed after 1 s'})
        worker.commit()
        self.tm.abort()
        self.assertEqual(self.service.getStatus(b), 'cancelled')

    def test_requests_that_add_after_a_running_job_never_block(self):
        # As the issue saw it: a 0.3 s job, and requests that add a job
        # after it while it runs, holding their transaction 0.4 s.
        self.startProcessor()
        request, service = self.otherConnection()
        for round in range(3):
            x = self.service.add('sleepy', 0.3)
            self.tm.commit()
            self.waitUntil(lambda: self.service.getStatus(x) == 'processing')
            for attempt in range(5):
                request.begin()
                b = service.add('echo', 'b', after=[x])
                time.sleep(0.4)     # the request does its other work
                try:
                    request.commit()
                    break
                except ConflictError:
                    request.abort()     # Zope retries the request
            self.tm.abort()
            self.waitUntil(lambda: self.service.getStatus(b) == 'completed')
        self.assertConsistent()


class KeyedAddRaceTests(ControlTestBase):
    """``add(key=k)`` never hands back a job that a worker took in a
    transaction that committed first."""

    def test_an_add_that_returns_a_job_claimed_meanwhile_conflicts(self):
        j = self.service.add('echo', 'v1', key='k')
        self.tm.commit()
        worker, service = self.otherConnection()
        self.root['doc'] = 'v2'
        self.assertEqual(self.service.add('echo', 'v2', key='k'), j)
        lease, ids = service.claimJobs('w', 60)
        self.assertEqual(ids, [j])
        worker.commit()
        with self.assertRaises(ConflictError):
            self.tm.commit()
        self.tm.abort()
        self.root['doc'] = 'v2'
        again = self.service.add('echo', 'v2', key='k')
        self.assertNotEqual(again, j)
        self.tm.commit()

    def test_a_claim_that_missed_a_keyed_add_conflicts(self):
        j = self.service.add('echo', 'v1', key='k')
        self.tm.commit()
        worker, service = self.otherConnection()
        service.jobs[j]         # the claim's transaction began before
        self.root['doc'] = 'v2'
        self.assertEqual(self.service.add('echo', 'v2', key='k'), j)
        self.tm.commit()
        service.claimJobs('w', 60)
        with self.assertRaises(ConflictError):
            worker.commit()
        worker.abort()
        lease, ids = service.claimJobs('w', 60)
        worker.commit()
        self.assertEqual(ids, [j])
        # The run begins after the claim: it sees the edit.
        self.assertEqual(service._p_jar.root()['doc'], 'v2')

    def test_an_edit_is_always_seen_by_a_keyed_job(self):
        # An edit and a keyed reindex, while a real worker takes jobs:
        # the last reindex that ran saw the last edit.
        seen = []

        def reindex(service, jobid, input):
            seen.append(service._p_jar.root()['doc'])
        self.provide('reindex', reindex)
        self.root['doc'] = 0
        self.service.add('reindex', key='doc')
        self.tm.commit()
        request, service = self.otherConnection()
        root = service._p_jar.root()
        self.startProcessor()
        for version in range(1, 6):
            for attempt in range(10):
                request.begin()
                root['doc'] = version
                jobid = service.add('reindex', key='doc')
                # Hold the transaction until the worker took the job.
                time.sleep(0.3)
                try:
                    request.commit()
                    break
                except ConflictError:
                    request.abort()
        self.waitUntil(lambda: seen and seen[-1] == 5
                       and self.service.getStatus(jobid) == 'completed')
        self.assertEqual(seen[-1], 5)

    def test_a_keyed_job_given_back_beside_a_newer_one_is_superseded(self):
        j = self.service.add('echo', 'v1', key='k')
        self.tm.commit()
        lease, ids = self.service.claimJobs('w', 60)
        self.tm.commit()
        newer = self.service.add('echo', 'v2', key='k')
        self.assertNotEqual(newer, j)
        self.tm.commit()
        # Its worker dies; the lease expires.
        self.assertEqual(
            self.service.recoverExpired(time.time() + 120), [j])
        self.tm.commit()
        self.assertEqual(self.service.getStatus(j), 'cancelled')
        self.assertIn('superseded by job %d' % newer,
                      self.service.getError(j))
        self.assertEqual(self.service.getStatus(newer), 'queued')
        self.assertEqual(self.service.add('echo', 'v3', key='k'), newer)
        self.assertConsistent()

    def test_a_keyed_job_that_others_wait_for_is_kept(self):
        j = self.service.add('echo', 'v1', key='k')
        self.tm.commit()
        lease, ids = self.service.claimJobs('w', 60)
        waiting = self.service.add('echo', after=[j])
        newer = self.service.add('echo', 'v2', key='k')
        self.tm.commit()
        self.service.recoverExpired(time.time() + 120)
        self.tm.commit()
        self.assertEqual(self.service.getStatus(j), 'queued')
        self.assertEqual(self.service.getStatus(newer), 'queued')
        self.assertEqual(self.service.getStatus(waiting), 'blocked')


class RetryWithDependenciesTests(ControlTestBase):
    """A retried job that was added ``after`` others waits for them
    again, or the retry says why it cannot."""

    def test_a_dependant_cancelled_for_a_failed_job_waits_again(self):
        x = self.service.add('echo', 'x', startLater=True)
        y = self.service.add('fail')
        b = self.service.add('echo', 'b', after=[x, y])
        self.tm.commit()
        self.assertTrue(self.service.processNext())     # y fails
        self.tm.commit()
        self.assertEqual(self.service.getStatus(b), 'cancelled')
        with self.assertRaises(ValueError) as raised:
            self.service.retry(b)
        self.assertEqual(str(raised.exception), 'job %d waits for job %d,'
                         ' which ended error: retry that job first' % (b, y))
        self.assertEqual(self.service.getStatus(b), 'cancelled')
        self.provide('fail')        # the cause is mended
        self.service.retry(y)
        self.service.retry(b)
        self.tm.commit()
        self.assertEqual(self.service.getStatus(b), 'blocked')
        self.assertTrue(self.service.processNext())     # y completes
        self.tm.commit()
        self.assertEqual(self.service.getStatus(b), 'blocked')
        self.assertFalse(self.service.processNext())    # x starts later
        self.service.startJob(x)
        self.assertTrue(self.service.processNext())
        self.assertTrue(self.service.processNext())
        self.tm.commit()
        self.assertEqual(self.service.getStatus(b), 'completed')
        self.assertConsistent()

    def test_a_dependant_cancelled_by_hand_waits_again(self):
        x = self.service.add('echo', 'x', startLater=True)
        b = self.service.add('echo', 'b', after=[x])
        self.service.cancel(b)
        self.tm.commit()
        self.service.retry(b)
        self.tm.commit()
        self.assertEqual(self.service.getStatus(b), 'blocked')
        self.assertFalse(self.service.processNext())
        self.assertConsistent()

    def test_a_dependant_whose_dependency_is_gone_is_refused(self):
        x = self.service.add('echo', 'x', startLater=True)
        b = self.service.add('echo', 'b', after=[x])
        self.service.cancel(b)
        self.service.clean(['start later'])
        with self.assertRaises(ValueError) as raised:
            self.service.retry(b)
        self.assertIn('which no longer exists', str(raised.exception))

    def test_a_dependant_that_ran_and_failed_is_queued(self):
        x = self.service.add('echo', 'x')
        b = self.service.add('fail', after=[x])
        self.tm.commit()
        self.assertTrue(self.service.processNext())
        self.assertTrue(self.service.processNext())
        self.tm.commit()
        self.assertEqual(self.service.getStatus(b), 'error')
        self.service.clean(['completed'])   # x is gone: b ran after it
        self.service.retry(b)
        self.assertEqual(self.service.getStatus(b), 'queued')


class DelayedDependencyTests(ControlTestBase):

    def test_a_job_can_wait_for_a_delayed_job(self):
        d = self.service.addCronJob('echo', 'd', delay=60)
        b = self.service.add('echo', 'b', after=[d])
        self.tm.commit()
        self.assertEqual(self.service.getStatus(b), 'blocked')
        self.assertFalse(self.service.processNext())    # scheduled
        self.assertTrue(self.service.processNext(time.time() + 61))
        self.tm.commit()
        self.assertEqual(self.service.getStatus(d), 'completed')
        self.assertEqual(self.service.getStatus(b), 'queued')

    def test_a_cron_job_still_cannot_be_waited_for(self):
        c = self.service.addCronJob('echo', minute=(5,))
        self.assertRefused('a cron job: it never completes', after=[c])


class RetryCommandTests(unittest.TestCase):
    """``z3c-taskqueue retry`` of a dependant, on a real FileStorage."""

    # The helpers of the job command tests, not their tests.
    from z3c.taskqueue.commands.tests.test_jobcommands import JobCommandTests
    setUp = JobCommandTests.setUp
    service = JobCommandTests.service
    close = JobCommandTests.close
    command = JobCommandTests.command
    run_command = JobCommandTests.run_command
    registerDemoTasks = JobCommandTests.registerDemoTasks
    del JobCommandTests

    def test_retry_says_what_a_dependant_waits_for(self):
        service = self.service()
        first = service.add('sum', [1, 2], startLater=True)
        failing = service.add('divide', [1, 0])
        dependant = service.add('sum', [3], after=[first, failing])
        self.tm.commit()
        self.assertTrue(service.processNext(jobid=failing))
        self.tm.commit()
        self.assertEqual(service.getStatus(dependant), 'cancelled')
        self.close()
        out = self.command('retry', str(dependant))
        self.assertEqual(out.splitlines(), [
            '%d: left as it is: job %d waits for job %d, which ended error:'
            ' retry that job first' % (dependant, dependant, failing)])
        out = self.command('retry', str(failing), str(dependant))
        self.assertEqual(out.splitlines(), [
            '%d: queued again' % failing, '%d: blocked again' % dependant])
