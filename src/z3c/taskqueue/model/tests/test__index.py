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
"""Unit tests for the sentinel BTree indexes of
``z3c.taskqueue.model._index``."""
import unittest


class NewIndexTests(unittest.TestCase):

    def _callFUT(self):
        from z3c.taskqueue.model._index import newIndex
        return newIndex()

    def test_is_a_plain_LLBTree(self):
        # Plain BTrees, so that a ZEO server resolves conflicts without
        # importing this package.
        import BTrees.LLBTree
        self.assertIs(type(self._callFUT()), BTrees.LLBTree.LLBTree)

    def test_holds_only_the_two_sentinels(self):
        from z3c.taskqueue.model._index import FIRST
        from z3c.taskqueue.model._index import LAST
        self.assertEqual(list(self._callFUT().items()),
                         [(FIRST, 0), (LAST, 0)])

    def test_sentinels_are_the_extreme_64_bit_integers(self):
        from z3c.taskqueue.model._index import FIRST
        from z3c.taskqueue.model._index import LAST
        self.assertEqual(FIRST, -2 ** 63)
        self.assertEqual(LAST, 2 ** 63 - 1)

    def test_each_call_returns_a_new_index(self):
        one = self._callFUT()
        one[5] = 1
        self.assertNotIn(5, self._callFUT())

    def test_each_sentinel_has_a_bucket_of_its_own(self):
        # Never one bucket within the tree's record, which only a change
        # through the tree saves (see BucketChangeTests).
        from BTrees.check import check
        index = self._callFUT()
        check(index)
        self.assertEqual([list(bucket) for bucket in _buckets(index)],
                         [[-2 ** 63], [2 ** 63 - 1]])
        for key in range(-200, 200):
            index[key] = 1
        check(index)
        self.assertEqual(list(index.keys())[1:-1], list(range(-200, 200)))


class NewIdSetTests(unittest.TestCase):

    def _callFUT(self):
        from z3c.taskqueue.model._index import newIdSet
        return newIdSet()

    def test_is_a_plain_LLTreeSet(self):
        import BTrees.LLBTree
        self.assertIs(type(self._callFUT()), BTrees.LLBTree.LLTreeSet)

    def test_holds_only_the_two_sentinels(self):
        from z3c.taskqueue.model._index import FIRST
        from z3c.taskqueue.model._index import LAST
        self.assertEqual(list(self._callFUT()), [FIRST, LAST])

    def test_each_sentinel_has_a_bucket_of_its_own(self):
        from BTrees.check import check
        ids = self._callFUT()
        check(ids)
        self.assertEqual([list(bucket) for bucket in _buckets(ids)],
                         [[-2 ** 63], [2 ** 63 - 1]])


class NewTreeTests(unittest.TestCase):

    def test_a_plain_LOBTree_of_the_two_sentinels_in_two_buckets(self):
        import BTrees.LOBTree
        from BTrees.check import check
        from z3c.taskqueue.model._index import newTree
        tree = newTree()
        self.assertIs(type(tree), BTrees.LOBTree.LOBTree)
        check(tree)
        self.assertEqual([list(bucket.items()) for bucket in _buckets(tree)],
                         [[(-2 ** 63, None)], [(2 ** 63 - 1, None)]])


class KeysTests(unittest.TestCase):

    def _callFUT(self, *args, **kw):
        from z3c.taskqueue.model._index import keys
        return list(keys(*args, **kw))

    def _makeIndex(self, *keys):
        from z3c.taskqueue.model._index import newIndex
        index = newIndex()
        for key in keys:
            index[key] = 1
        return index

    def test_empty_index_has_no_keys(self):
        self.assertEqual(self._callFUT(self._makeIndex()), [])

    def test_real_keys_in_order_without_sentinels(self):
        index = self._makeIndex(3, -7, 12)
        self.assertEqual(self._callFUT(index), [-7, 3, 12])

    def test_bounds_are_inclusive(self):
        index = self._makeIndex(1, 2, 3, 4, 5)
        self.assertEqual(self._callFUT(index, 2, 4), [2, 3, 4])

    def test_lo_only(self):
        index = self._makeIndex(1, 2, 3)
        self.assertEqual(self._callFUT(index, lo=2), [2, 3])

    def test_hi_only(self):
        index = self._makeIndex(1, 2, 3)
        self.assertEqual(self._callFUT(index, hi=2), [1, 2])

    def test_bounds_beyond_the_sentinels_never_yield_them(self):
        from z3c.taskqueue.model._index import FIRST
        from z3c.taskqueue.model._index import LAST
        index = self._makeIndex(FIRST + 1, LAST - 1)
        self.assertEqual(self._callFUT(index, FIRST, LAST),
                         [FIRST + 1, LAST - 1])

    def test_works_on_id_sets(self):
        from z3c.taskqueue.model._index import newIdSet
        ids = newIdSet()
        ids.update([9, 4])
        self.assertEqual(self._callFUT(ids), [4, 9])


class SizeTests(unittest.TestCase):

    def _callFUT(self, index):
        from z3c.taskqueue.model._index import size
        return size(index)

    def test_empty_index(self):
        from z3c.taskqueue.model._index import newIndex
        self.assertEqual(self._callFUT(newIndex()), 0)

    def test_empty_id_set(self):
        from z3c.taskqueue.model._index import newIdSet
        self.assertEqual(self._callFUT(newIdSet()), 0)

    def test_counts_real_keys(self):
        from z3c.taskqueue.model._index import newIndex
        index = newIndex()
        for key in range(300):
            index[key] = key
        self.assertEqual(self._callFUT(index), 300)


class FirstKeyTests(unittest.TestCase):

    def _callFUT(self, *args, **kw):
        from z3c.taskqueue.model._index import firstKey
        return firstKey(*args, **kw)

    def _makeIndex(self, *keys):
        from z3c.taskqueue.model._index import newIndex
        index = newIndex()
        for key in keys:
            index[key] = 1
        return index

    def test_empty_index_is_None(self):
        self.assertIsNone(self._callFUT(self._makeIndex()))

    def test_empty_id_set_is_None(self):
        from z3c.taskqueue.model._index import newIdSet
        self.assertIsNone(self._callFUT(newIdSet()))

    def test_smallest_real_key(self):
        self.assertEqual(self._callFUT(self._makeIndex(8, -3, 5)), -3)

    def test_smallest_possible_real_key(self):
        from z3c.taskqueue.model._index import FIRST
        index = self._makeIndex(FIRST + 1, 0)
        self.assertEqual(self._callFUT(index), FIRST + 1)

    def test_largest_possible_real_key(self):
        from z3c.taskqueue.model._index import LAST
        index = self._makeIndex(LAST - 1)
        self.assertEqual(self._callFUT(index), LAST - 1)

    def test_key_equal_to_hi_counts(self):
        self.assertEqual(self._callFUT(self._makeIndex(5, 9), hi=5), 5)

    def test_key_above_hi_is_None(self):
        self.assertIsNone(self._callFUT(self._makeIndex(5, 9), hi=4))


class LastKeyTests(unittest.TestCase):

    def _callFUT(self, index):
        from z3c.taskqueue.model._index import lastKey
        return lastKey(index)

    def _makeIndex(self, *keys):
        from z3c.taskqueue.model._index import newIndex
        index = newIndex()
        for key in keys:
            index[key] = 1
        return index

    def test_empty_index_is_None(self):
        self.assertIsNone(self._callFUT(self._makeIndex()))

    def test_largest_real_key(self):
        self.assertEqual(self._callFUT(self._makeIndex(-8, 3, -5)), 3)

    def test_smallest_possible_real_key(self):
        from z3c.taskqueue.model._index import FIRST
        index = self._makeIndex(FIRST + 1)
        self.assertEqual(self._callFUT(index), FIRST + 1)

    def test_largest_possible_real_key(self):
        from z3c.taskqueue.model._index import LAST
        index = self._makeIndex(0, LAST - 1)
        self.assertEqual(self._callFUT(index), LAST - 1)


class InsertBelowTests(unittest.TestCase):

    def _callFUT(self, index, key, value):
        from z3c.taskqueue.model._index import insertBelow
        return insertBelow(index, key, value)

    def _makeIndex(self):
        from z3c.taskqueue.model._index import newIndex
        return newIndex()

    def test_free_key_is_used(self):
        index = self._makeIndex()
        self.assertEqual(self._callFUT(index, 10, 7), 10)
        self.assertEqual(index[10], 7)

    def test_taken_key_goes_to_the_next_key_below(self):
        index = self._makeIndex()
        index[10] = 1
        self.assertEqual(self._callFUT(index, 10, 2), 9)
        self.assertEqual(dict(index.items(9, 10)), {9: 2, 10: 1})

    def test_skips_a_run_of_taken_keys(self):
        index = self._makeIndex()
        for key in (8, 9, 10):
            index[key] = key
        self.assertEqual(self._callFUT(index, 10, 99), 7)
        self.assertEqual(dict(index.items(7, 10)),
                         {7: 99, 8: 8, 9: 9, 10: 10})

    def test_repeated_inserts_at_one_key_keep_their_order(self):
        # The queue relies on this: jobs added within one clock tick get
        # ever smaller keys, so they stay in the order they were added.
        index = self._makeIndex()
        used = [self._callFUT(index, 100, value) for value in range(5)]
        self.assertEqual(used, [100, 99, 98, 97, 96])

    def test_free_key_below_a_taken_one_is_not_skipped(self):
        index = self._makeIndex()
        index[5] = 1
        self.assertEqual(self._callFUT(index, 4, 2), 4)


class ConflictResolutionTests(unittest.TestCase):
    """The point of the sentinels, shown on a real database."""

    def setUp(self):
        from z3c.taskqueue.tests._support import openFileStorageDB
        self.db = openFileStorageDB(self)

    def _concurrently(self, index, change_one, change_two):
        """Store ``index``; apply the changes in two connections; commit.
        """
        import transaction
        tm1 = transaction.TransactionManager()
        tm2 = transaction.TransactionManager()
        conn1 = self.db.open(tm1)
        conn1.root()['index'] = index
        tm1.commit()
        conn2 = self.db.open(tm2)
        change_one(conn1.root()['index'])
        change_two(conn2.root()['index'])
        tm1.commit()
        try:
            tm2.commit()
        finally:
            tm2.abort()
            conn1.close()
            conn2.close()
        conn = self.db.open()
        try:
            return list(conn.root()['index'].keys())
        finally:
            conn.close()

    def test_removing_the_head_while_adding_a_new_head_merges(self):
        from z3c.taskqueue.model._index import FIRST
        from z3c.taskqueue.model._index import LAST
        from z3c.taskqueue.model._index import newIndex
        index = newIndex()
        index[10] = 1

        def remove(index):
            del index[10]

        def add(index):
            index[5] = 1

        self.assertEqual(self._concurrently(index, remove, add),
                         [FIRST, 5, LAST])

    def test_removing_the_tail_while_adding_a_new_tail_merges(self):
        from z3c.taskqueue.model._index import FIRST
        from z3c.taskqueue.model._index import LAST
        from z3c.taskqueue.model._index import newIdSet
        ids = newIdSet()
        ids.add(10)

        def remove(ids):
            ids.remove(10)

        def add(ids):
            ids.add(20)

        self.assertEqual(self._concurrently(ids, remove, add),
                         [FIRST, 20, LAST])

    def test_without_sentinels_the_same_changes_conflict(self):
        # The control experiment: it shows that the tests above would
        # catch an index that lost its sentinels.
        import BTrees
        from ZODB.POSException import ConflictError
        index = BTrees.family64.II.BTree()
        index[10] = 1

        def remove(index):
            del index[10]

        def add(index):
            index[5] = 1

        with self.assertRaises(ConflictError):
            self._concurrently(index, remove, add)


class ReadCurrentTests(unittest.TestCase):
    """``readCurrentKey`` and ``readCurrentTree`` make a commit conflict
    with a concurrent change of what they read, in two connections on a
    real database."""

    def setUp(self):
        import BTrees
        import ZODB
        import transaction
        self.db = ZODB.DB(None)
        self.addCleanup(self.db.close)
        self.tms = []
        tm, root = self.open()
        root['tree'] = tree = BTrees.family64.IO.BTree()
        root['small'] = BTrees.family64.IO.BTree({1: 'a', 2: 'b'})
        root['set'] = BTrees.family64.II.TreeSet(range(1000))
        root['scratch'] = BTrees.family64.IO.BTree()
        for key in range(0, 200000, 2):    # many buckets, two levels
            tree[key] = 'x'
        tm.commit()
        self.assertIsInstance(tree.__getstate__()[0][0], type(tree))
        self.transaction = transaction

    def open(self):
        import transaction
        tm = transaction.TransactionManager()
        connection = self.db.open(tm)
        self.addCleanup(connection.close)
        self.addCleanup(tm.abort)
        return tm, connection.root()

    def race(self, read, change):
        """Have ``read(root)`` in one transaction, ``change(root)`` commit
        in another, and then commit the first; tell whether it
        conflicted."""
        from ZODB.POSException import ConflictError
        reader, readerRoot = self.open()
        writer, writerRoot = self.open()
        read(readerRoot)
        readerRoot['scratch'][1] = 'a write, so that it commits'
        change(writerRoot)
        writer.commit()
        try:
            reader.commit()
        except ConflictError:
            return True
        return False

    def test_a_change_of_the_key_conflicts(self):
        from z3c.taskqueue.model._index import readCurrentKey
        self.assertTrue(self.race(
            lambda root: readCurrentKey(root['tree'], 5000),
            lambda root: root['tree'].__setitem__(5001, 'new')))

    def test_a_removal_of_the_key_conflicts(self):
        from z3c.taskqueue.model._index import readCurrentKey
        self.assertTrue(self.race(
            lambda root: readCurrentKey(root['tree'], 5000),
            lambda root: root['tree'].__delitem__(5000)))

    def test_a_change_in_another_bucket_does_not(self):
        from z3c.taskqueue.model._index import readCurrentKey
        self.assertFalse(self.race(
            lambda root: readCurrentKey(root['tree'], 5000),
            lambda root: root['tree'].__setitem__(150001, 'new')))

    def test_a_tree_of_one_inline_bucket(self):
        from z3c.taskqueue.model._index import readCurrentKey
        self.assertTrue(self.race(
            lambda root: readCurrentKey(root['small'], 3),
            lambda root: root['small'].__setitem__(3, 'c')))

    def test_an_empty_tree_that_gets_its_first_key(self):
        import BTrees
        from z3c.taskqueue.model._index import readCurrentKey
        tm, root = self.open()
        root['empty'] = BTrees.family64.IO.BTree()
        tm.commit()
        self.assertTrue(self.race(
            lambda root: readCurrentKey(root['empty'], 7),
            lambda root: root['empty'].__setitem__(7, 'first')))

    def test_a_whole_tree_set(self):
        from z3c.taskqueue.model._index import readCurrentTree
        self.assertTrue(self.race(
            lambda root: readCurrentTree(root['set']),
            lambda root: root['set'].add(5000)))

    def test_nothing_changed_nothing_conflicts(self):
        from z3c.taskqueue.model._index import readCurrentKey
        from z3c.taskqueue.model._index import readCurrentTree
        self.assertFalse(self.race(
            lambda root: (readCurrentKey(root['tree'], 5000),
                          readCurrentTree(root['set'])),
            lambda root: root.__setitem__('other', 1)))

    def test_objects_not_yet_stored_are_skipped(self):
        import BTrees
        from z3c.taskqueue.model._index import readCurrentKey
        from z3c.taskqueue.model._index import readCurrentTree
        readCurrentKey(BTrees.family64.IO.BTree({1: 'a'}), 1)
        readCurrentTree(BTrees.family64.II.TreeSet([1]))


class BucketChangeTests(unittest.TestCase):
    """``setEntry``, ``popEntry``, ``addId`` and ``discardId`` write only
    the bucket of the key, so that a concurrent split elsewhere in the
    tree does not conflict; and they conflict wherever losing a change
    would be possible.  Two connections on a real database."""

    def setUp(self):
        import BTrees
        from z3c.taskqueue.tests._support import openFileStorageDB
        self.db = openFileStorageDB(self)
        tm, root = self.open()
        # Buckets of 60 (IO) and 120 (II) keys: 2, 4, ... 2000 fill a few.
        root['tree'] = BTrees.family64.IO.BTree(
            {key: 'x' for key in range(2, 2002, 2)})
        root['ids'] = BTrees.family64.II.TreeSet(range(2, 2002, 2))
        root['small'] = BTrees.family64.IO.BTree({1: 'a'})
        tm.commit()
        self.assertEqual(len(root['tree'].__getstate__()), 2)

    def open(self):
        import transaction
        tm = transaction.TransactionManager()
        connection = self.db.open(tm)
        self.addCleanup(connection.close)
        self.addCleanup(tm.abort)
        return tm, connection.root()

    def race(self, change, other):
        """Commit ``other(root)`` in one transaction, then ``change(root)``
        in another that began before; tell whether it conflicted."""
        from ZODB.POSException import ConflictError
        tm, root = self.open()
        otherTm, otherRoot = self.open()
        change(root)
        other(otherRoot)
        otherTm.commit()
        try:
            tm.commit()
        except ConflictError:
            tm.abort()
            return True
        return False

    def split(self, root):
        """Split a bucket at the end of the tree, through the tree."""
        for key in range(3001, 3200, 2):
            root['tree'][key] = 'split'

    def check(self, name, expected):
        from BTrees.check import check
        tm, root = self.open()
        check(root[name])
        self.assertEqual(list(root[name].keys()), sorted(expected))

    def test_a_split_elsewhere_conflicts_with_a_tree_insert(self):
        # The control experiment: BTrees read every node on the way
        # current, so the tree's own insert conflicts.
        self.assertTrue(self.race(
            lambda root: root['tree'].__setitem__(101, 'new'), self.split))

    def test_a_split_elsewhere_does_not_conflict_with_setEntry(self):
        from z3c.taskqueue.model._index import setEntry
        self.assertFalse(self.race(
            lambda root: setEntry(root['tree'], 101, 'new'), self.split))
        self.check('tree', list(range(2, 2002, 2)) + [101]
                   + list(range(3001, 3200, 2)))

    def test_a_split_of_the_same_bucket_conflicts(self):
        from z3c.taskqueue.model._index import setEntry

        def splitHere(root):
            for key in range(1, 120, 2):
                root['tree'][key] = 'split'
        self.assertTrue(self.race(
            lambda root: setEntry(root['tree'], 60, 'new'), splitHere))

    def test_an_emptied_bucket_conflicts(self):
        from z3c.taskqueue.model._index import setEntry

        def empty(root):
            for key in range(2, 122, 2):
                root['tree'].pop(key, None)
        self.assertTrue(self.race(
            lambda root: setEntry(root['tree'], 61, 'new'), empty))

    def test_changes_elsewhere_in_the_bucket_merge(self):
        from z3c.taskqueue.model._index import popEntry
        from z3c.taskqueue.model._index import setEntry
        self.assertFalse(self.race(
            lambda root: setEntry(root['tree'], 61, 'new'),
            lambda root: popEntry(root['tree'], 70, None)))
        self.assertEqual(self.open()[1]['tree'][61], 'new')

    def test_a_full_bucket_is_split_by_the_tree(self):
        from z3c.taskqueue.model._index import setEntry
        tm, root = self.open()
        for key in range(1, 400, 2):
            setEntry(root['tree'], key, 'new')
        tm.commit()
        self.check('tree', list(range(2, 2002, 2)) + list(range(1, 400, 2)))
        sizes = [len(bucket) for bucket in _buckets(root['tree'])]
        self.assertLessEqual(max(sizes), 60)

    def test_a_stretched_bucket_grows_to_that_many_times_its_size(self):
        from z3c.taskqueue.model._index import setEntry
        tm, root = self.open()
        for key in range(-1, -1001, -1):
            setEntry(root['tree'], key, 'new', stretch=4)
        tm.commit()
        self.check('tree', list(range(2, 2002, 2)) + list(range(-1, -1001,
                                                               -1)))
        sizes = [len(bucket) for bucket in _buckets(root['tree'])]
        self.assertGreater(max(sizes), 60)
        self.assertLessEqual(max(sizes), 240)

    def test_a_removal_that_empties_a_bucket_goes_through_the_tree(self):
        from z3c.taskqueue.model._index import popEntry
        tm, root = self.open()
        before = len(_buckets(root['tree']))
        for key in range(2, 2002, 2):
            self.assertEqual(popEntry(root['tree'], key, None), 'x')
        tm.commit()
        self.assertLess(len(_buckets(root['tree'])), before)
        self.check('tree', [])

    def test_removals_leave_the_shape_the_tree_would(self):
        # The first key of a bucket may be the key of the bucket in the
        # node above: the tree moves it, and so the tree removes it.
        import random
        import BTrees
        from z3c.taskqueue.model._index import popEntry
        tm, root = self.open()
        keys = list(range(2, 2002, 2))
        random.Random(1).shuffle(keys)
        mine = root['tree']
        theirs = BTrees.family64.IO.BTree(mine)
        for key in keys[:900]:
            popEntry(mine, key, None)
            theirs.pop(key, None)
            self.assertEqual(_shape(mine), _shape(theirs))
        tm.commit()

    def test_id_sets(self):
        from z3c.taskqueue.model._index import addId
        from z3c.taskqueue.model._index import discardId

        def splitSet(root):
            for key in range(3001, 3400, 2):
                root['ids'].add(key)
        self.assertFalse(self.race(
            lambda root: (addId(root['ids'], 101), discardId(root['ids'],
                                                             500),
                          discardId(root['ids'], 501)),
            splitSet))
        expected = set(range(2, 2002, 2)) | {101} | set(range(3001, 3400, 2))
        self.check('ids', expected - {500})

    def test_a_tree_of_one_inline_bucket_is_changed_through_it(self):
        from z3c.taskqueue.model._index import popEntry
        from z3c.taskqueue.model._index import setEntry
        tm, root = self.open()
        setEntry(root['small'], 2, 'b')
        self.assertEqual(popEntry(root['small'], 1, None), 'a')
        tm.commit()
        self.assertEqual(dict(self.open()[1]['small']), {2: 'b'})

    def test_trees_not_stored_are_changed_through_them(self):
        import BTrees
        from z3c.taskqueue.model._index import addId
        from z3c.taskqueue.model._index import discardId
        from z3c.taskqueue.model._index import popEntry
        from z3c.taskqueue.model._index import setEntry
        tree = BTrees.family64.IO.BTree()
        ids = BTrees.family64.II.TreeSet()
        for key in range(1000):
            setEntry(tree, key, key)
            addId(ids, key)
        for key in range(0, 1000, 3):
            popEntry(tree, key, None)
            discardId(ids, key)
        discardId(ids, 5000)
        expected = [key for key in range(1000) if key % 3]
        self.assertEqual(list(tree), expected)
        self.assertEqual(list(ids), expected)

    def test_many_changes_in_several_transactions(self):
        import random
        from BTrees.check import check
        from z3c.taskqueue.model._index import popEntry
        from z3c.taskqueue.model._index import setEntry
        rng = random.Random(2)
        expected = {key: 'x' for key in range(2, 2002, 2)}
        for unused in range(20):
            tm, root = self.open()
            for unused in range(200):
                key = rng.randrange(-500, 2500)
                if rng.random() < 0.5:
                    setEntry(root['tree'], key, key)
                    expected[key] = key
                else:
                    self.assertEqual(popEntry(root['tree'], key, None),
                                     expected.pop(key, None))
            tm.commit()
        tm, root = self.open()
        check(root['tree'])
        self.assertEqual(dict(root['tree']), expected)


def _buckets(tree):
    """The buckets of a stored BTree, first to last."""
    state = tree.__getstate__()
    bucket = state[1] if state and len(state) == 2 else None
    found = []
    while bucket is not None:
        found.append(bucket)
        state = bucket.__getstate__()
        bucket = state[1] if len(state) == 2 else None
    return found


def _shape(tree):
    """The keys of a BTree's inner nodes, and its buckets' sizes."""
    from z3c.taskqueue.model._index import _isTree
    state = tree.__getstate__()
    if not state or len(state) == 1:
        return None
    return (state[0][1::2], [_shape(child) if _isTree(child) else len(child)
                             for child in state[0][0::2]])
