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
"""Concurrent transactions on one stored service do not conflict.

The one exception BTrees leave: a transaction that changes the shape of a
tree (splits a bucket, removes an emptied one, or changes a separator key
of an inner node) conflicts with any concurrent write to that tree.  So
every conflict here must come with such a change in one of the two
transactions, and a retry of the losing transaction must then succeed.
"""
import logging
import random
import unittest
from unittest import mock


# Each scenario starts from a few fresh databases (a few random id ranges)
# and repeats the concurrent step often enough to cross the size of a
# BTree bucket (60 for the jobs tree, 120 for the indexes): a bucket that
# splits, empties or loses its first key shows up within that many steps.
STATES = 2
STEPS = 65

FEW = 3
SEVERAL_HUNDRED = 300


class _LogCapture(logging.Handler):
    """Collects why ZODB's conflict resolution gave up."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


class _Pair:
    """A stored service and two connections, each with its own manager.

    Connection A prepares the service and commits; then A and B each
    change it in a transaction of their own, and both commit.
    """

    def __init__(self, test, seed, prepare):
        import transaction

        from z3c.taskqueue.model.service import TaskService
        from z3c.taskqueue.tests._support import openFileStorageDB
        self.db = openFileStorageDB(test)
        self.tmA = transaction.TransactionManager()
        self.tmB = transaction.TransactionManager()
        self.connA = self.db.open(self.tmA)
        self.connA.root()['service'] = TaskService()
        self.tmA.commit()
        random.seed(seed)
        self.prepared = prepare(self.a) or []
        self.tmA.commit()
        self.connB = self.db.open(self.tmB)

    @property
    def a(self):
        return self.connA.root()['service']

    @property
    def b(self):
        return self.connB.root()['service']

    def _names(self, service):
        """Map the oid of each tree, node and bucket to a readable name."""
        trees = _trees(service)
        names = {}
        for name, tree in trees.items():
            names[tree._p_oid] = name
            for i, child in enumerate(_children(tree)):
                names[child._p_oid] = '%s, bucket or node %d of %s' % (
                    name, i, type(child).__name__)
        return names

    def step(self, changeA, changeB, order):
        """Change the service in A and in B, then commit in ``order``.

        Return None, or a description of the conflict, and whether one of
        the transactions changed the shape of a tree.  After a conflict,
        the losing transaction is retried, as an application would.
        """
        from ZODB.POSException import ConflictError
        from ZODB.utils import u64
        managers = {'A': self.tmA, 'B': self.tmB}
        changes = {'A': (changeA, lambda: self.a),
                   'B': (changeB, lambda: self.b)}
        self.tmA.begin()
        self.tmB.begin()
        before = _shapes(self.a)
        changeA(self.a)
        changeB(self.b)
        reshaped = _shapes(self.a) != before or _shapes(self.b) != before
        capture = _LogCapture()
        logger = logging.getLogger('ZODB.ConflictResolution')
        level = logger.level
        logger.addHandler(capture)
        logger.setLevel(logging.DEBUG)
        try:
            for name in order:
                try:
                    managers[name].commit()
                except ConflictError as error:
                    self.tmA.abort()
                    self.tmB.abort()
                    oid = error.oid
                    where = self._names(self.a).get(oid)
                    if where is None and oid is not None:
                        where = 'oid 0x%x' % u64(oid)
                    description = '%s raised at the commit of %s on %s%s%s' % (
                        error.__class__.__name__, name, where,
                        ' (%s)' % error.class_name if error.class_name
                        else '',
                        ''.join('; ' + message
                                for message in capture.messages))
                    change, service = changes[name]
                    managers[name].begin()
                    change(service())
                    managers[name].commit()     # the retry must succeed
                    return description, reshaped
        finally:
            logger.removeHandler(capture)
            logger.setLevel(level)
        return None, reshaped

    def close(self):
        self.tmA.abort()
        self.tmB.abort()
        self.connA.close()
        self.connB.close()


class _Base(unittest.TestCase):

    def setUp(self):
        import zope.component.testing

        from z3c.taskqueue.model.task import SimpleTask
        zope.component.testing.setUp(self)
        self.addCleanup(random.setstate, random.getstate())
        zope.component.provideUtility(SimpleTask(lambda input: input),
                                      name='echo')

    def tearDown(self):
        import zope.component.testing
        zope.component.testing.tearDown(self)

    def _run(self, prepare, changeA, changeB, check=None, steps=STEPS):
        """Run the scenario from ``STATES`` fresh states; fail on conflict.

        Commit A first in one state and B first in the next.
        """
        from z3c.taskqueue.tests._support import indexProblems
        failures = []
        for state in range(STATES):
            order = 'AB' if state % 2 == 0 else 'BA'
            pair = _Pair(self, seed=state, prepare=prepare)
            try:
                for step in range(steps):
                    conflict, reshaped = pair.step(changeA, changeB, order)
                    if conflict is not None and not reshaped:
                        failures.append(
                            'state %d (%d jobs before), step %d, committing'
                            ' %s, no tree changed its shape: %s'
                            % (state, len(pair.prepared), step,
                               ' then '.join(order), conflict))
                pair.tmA.begin()
                self.assertEqual(indexProblems(pair.a), [])
                if check is not None:
                    check(pair, steps)
                pair.tmA.abort()
            finally:
                pair.close()
        if failures:
            self.fail('\n'.join(failures))


def _children(tree):
    """Yield the stored nodes and buckets of a BTree, depth first."""
    state = tree.__getstate__()
    if not state or len(state) < 2:
        return      # empty, or one bucket stored inline
    for child in state[0][::2]:
        yield child
        if hasattr(child, 'maxKey') and not hasattr(child, '_next'):
            yield from _children(child)


def _trees(service):
    from z3c.taskqueue.tests._support import indexTrees
    trees = indexTrees(service)
    trees['jobs'] = service.jobs
    return trees


def _shape(tree):
    """Describe the inner nodes of a BTree: what a split, a removed bucket
    or a new separator key changes."""
    state = tree.__getstate__()
    if not state or len(state) < 2:
        return None     # empty, or one bucket stored inline
    data = state[0]
    return (tuple(data[1::2]),
            tuple('bucket' if hasattr(child, '_next') else _shape(child)
                  for child in data[::2]))


def _shapes(service):
    return {name: _shape(tree) for name, tree in _trees(service).items()}


def addQueued(count):
    def prepare(service):
        return [service.add('echo', i) for i in range(count)]
    return prepare


def addCron(count, **times):
    def prepare(service):
        return [service.addCronJob('echo', **times) for i in range(count)]
    return prepare


def _pickJob(queued, pick):
    """Return the job of the newest (firstKey) or oldest (lastKey) key."""
    from z3c.taskqueue.model._index import firstKey
    keys = [key for key, jobid in queued]
    key = min(keys) if pick is firstKey else max(keys)
    return dict(queued)[key]


def statuses(service):
    result = {}
    for job in service.jobs.values():
        result[job.status] = result.get(job.status, 0) + 1
    return result


class ConcurrentAddTests(_Base):
    """(a) Both connections add jobs to one stored service."""

    def _assertAdds(self, prepare, add=lambda s: s.add('echo', 'new')):
        def check(pair, steps):
            self.assertEqual(len(pair.a.jobs),
                             len(pair.prepared) + 2 * steps)
        self._run(prepare, add, add, check)

    def test_to_an_empty_service(self):
        self._assertAdds(addQueued(0))

    def test_to_a_service_with_a_few_jobs(self):
        self._assertAdds(addQueued(FEW))

    def test_to_a_service_with_several_hundred_jobs(self):
        self._assertAdds(addQueued(SEVERAL_HUNDRED))

    def test_cron_jobs(self):
        self._assertAdds(addQueued(FEW),
                         lambda s: s.addCronJob('echo', minute=(5,)))

    def test_at_the_same_clock_reading(self):
        # Two connections add at the same microsecond, as happens with a
        # coarse clock or simply by chance when adding in bulk.
        from z3c.taskqueue.model import service as module
        clock = mock.Mock()
        clock.time.return_value = 1700000000.0
        with mock.patch.object(module, 'time', clock):
            self._run(addQueued(FEW), lambda s: s.add('echo', 'new'),
                      lambda s: s.add('echo', 'new'), steps=1)


class AddWhileProcessingTests(_Base):
    """(b) A adds a job while B commits a processNext()."""

    def _assertAddWhileProcessing(self, count):
        def process(service):
            self.assertTrue(service.processNext(0))

        def check(pair, steps):
            self.assertEqual(statuses(pair.a),
                             {'queued': count, 'completed': steps})
        self._run(addQueued(count), lambda s: s.add('echo', 'new'),
                  process, check)

    def test_queue_of_one_job(self):
        self._assertAddWhileProcessing(1)

    def test_queue_of_a_few_jobs(self):
        self._assertAddWhileProcessing(FEW)

    def test_queue_of_several_hundred_jobs(self):
        self._assertAddWhileProcessing(SEVERAL_HUNDRED)

    def test_empty_queue(self):
        # B runs the job A added in the step before.
        def check(pair, steps):
            self.assertEqual(statuses(pair.a),
                             {'queued': 1, 'completed': steps - 1})
        self._run(addQueued(0), lambda s: s.add('echo', 'new'),
                  lambda s: s.processNext(0), check)


class AddCronJobWhileProcessingTests(_Base):
    """(c) A adds a cron job while B commits a processNext()."""

    def _assertAddCronJob(self, prepare, process, expected):
        def check(pair, steps):
            self.assertEqual(statuses(pair.a), expected(steps))
        self._run(prepare, lambda s: s.addCronJob('echo', minute=(5,)),
                  process, check)

    def test_while_processing_a_few_queued_jobs(self):
        self._assertAddCronJob(
            addQueued(FEW), lambda s: s.processNext(0),
            lambda steps: {'cronjob': steps, 'completed': FEW})

    def test_while_processing_several_hundred_queued_jobs(self):
        self._assertAddCronJob(
            addQueued(SEVERAL_HUNDRED), lambda s: s.processNext(0),
            lambda steps: {'cronjob': steps, 'completed': steps,
                           'queued': SEVERAL_HUNDRED - steps})

    def test_while_scheduling_a_few_pending_cron_jobs(self):
        # Each processNext() schedules the cron jobs added before it.
        self._assertAddCronJob(
            addCron(FEW, minute=(5,)),
            lambda s: self.assertFalse(s.processNext(0)),
            lambda steps: {'cronjob': FEW + steps})

    def test_while_scheduling_several_hundred_pending_cron_jobs(self):
        self._assertAddCronJob(
            addCron(SEVERAL_HUNDRED, minute=(5,)),
            lambda s: self.assertFalse(s.processNext(0)),
            lambda steps: {'cronjob': SEVERAL_HUNDRED + steps})

    def test_while_running_due_cron_jobs(self):
        # B runs a due cron job in each step, one minute later each time;
        # the job goes back to the schedule, and the other due ones wait
        # in the queue (status queued) for the next steps.
        clock = {}

        def prepare(service):
            clock['minute'] = 0
            ids = addCron(FEW)(service)     # every minute
            service.processNext(0)
            return ids

        def process(service):
            clock['minute'] += 1
            self.assertTrue(service.processNext(60 * clock['minute']))

        def check(pair, steps):
            counts = statuses(pair.a)
            self.assertEqual(set(counts) - {'cronjob', 'queued'}, set())
            self.assertEqual(sum(counts.values()), FEW + steps)
        self._run(prepare, lambda s: s.addCronJob('echo', minute=(5,)),
                  process, check)


class CancelWhileAddingTests(_Base):
    """(d) B cancels a queued job while A adds one."""

    def _cancel(self, pick):
        def cancel(service):
            from z3c.taskqueue.tests._support import queueShards
            queued = [(key, queue[key]) for queue in queueShards(service)
                      for key in [pick(queue)] if key is not None]
            self.assertTrue(queued)
            service.cancel(_pickJob(queued, pick))
        return cancel

    def _assertCancel(self, count, pick):
        def check(pair, steps):
            self.assertEqual(statuses(pair.a),
                             {'queued': count, 'cancelled': steps})
        self._run(addQueued(count), lambda s: s.add('echo', 'new'),
                  self._cancel(pick), check)

    def test_cancel_the_newest_of_a_few(self):
        from z3c.taskqueue.model._index import firstKey
        self._assertCancel(FEW, firstKey)

    def test_cancel_the_oldest_of_a_few(self):
        from z3c.taskqueue.model._index import lastKey
        self._assertCancel(FEW, lastKey)

    def test_cancel_the_newest_of_several_hundred(self):
        from z3c.taskqueue.model._index import firstKey
        self._assertCancel(SEVERAL_HUNDRED, firstKey)

    def test_cancel_the_oldest_of_several_hundred(self):
        from z3c.taskqueue.model._index import lastKey
        self._assertCancel(SEVERAL_HUNDRED, lastKey)
