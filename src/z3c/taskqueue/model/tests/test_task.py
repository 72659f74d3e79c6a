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
"""Unit tests for ``z3c.taskqueue.model.task``."""
import unittest


def echo(input):
    return input


class SimpleTaskTests(unittest.TestCase):

    def setUp(self):
        import zope.component.testing
        zope.component.testing.setUp(self)

    def tearDown(self):
        import zope.component.testing
        zope.component.testing.tearDown(self)

    def _getTargetClass(self):
        from z3c.taskqueue.model.task import SimpleTask
        return SimpleTask

    def _makeOne(self, func=echo):
        return self._getTargetClass()(func)

    def test_class_conforms_to_ITask(self):
        from zope.interface.verify import verifyClass

        from z3c.taskqueue.interfaces import ITask
        self.assertTrue(verifyClass(ITask, self._getTargetClass()))

    def test_instance_conforms_to_ITask(self):
        from zope.interface.verify import verifyObject

        from z3c.taskqueue.interfaces import ITask
        self.assertTrue(verifyObject(ITask, self._makeOne()))

    def test_provides_exactly_one_interface(self):
        # provideUtility() infers the interface to register under only
        # when the component provides exactly one.
        import zope.interface

        from z3c.taskqueue.interfaces import ITask
        self.assertEqual(list(zope.interface.providedBy(self._makeOne())),
                         [ITask])

    def test_provideUtility_registers_it_as_an_ITask(self):
        import zope.component

        from z3c.taskqueue.interfaces import ITask
        task = self._makeOne()
        zope.component.provideUtility(task, name='echo')
        self.assertIs(zope.component.getUtility(ITask, 'echo'), task)

    def test_no_schemas(self):
        task = self._makeOne()
        self.assertIsNone(task.inputSchema)
        self.assertIsNone(task.outputSchema)

    def test_is_not_persistent(self):
        # Tasks are utilities registered in code or ZCML, never stored.
        import persistent
        self.assertNotIsInstance(self._makeOne(), persistent.Persistent)

    def test_repr_shows_the_function(self):
        self.assertEqual(repr(self._makeOne()), '<SimpleTask %r>' % (echo,))

    def test_call_returns_what_the_function_returns(self):
        task = self._makeOne()
        self.assertEqual(task(None, 1, {'foo': 'bar'}), {'foo': 'bar'})

    def test_call_passes_only_the_input(self):
        calls = []
        task = self._makeOne(lambda input: calls.append(input))
        task(object(), 42, 'the input')
        self.assertEqual(calls, ['the input'])

    def test_call_by_keyword(self):
        # The seed's README calls tasks as task(service, jobid, input=...).
        task = self._makeOne()
        self.assertEqual(task(None, 1, input='x'), 'x')

    def test_call_lets_errors_through(self):
        from z3c.taskqueue.model.task import TaskError

        def fail(input):
            raise TaskError('An error occurred.')

        with self.assertRaises(TaskError) as raised:
            self._makeOne(fail)(None, 1, None)
        self.assertEqual(str(raised.exception), 'An error occurred.')


class TaskErrorTests(unittest.TestCase):

    def test_is_the_interfaces_TaskError(self):
        from z3c.taskqueue import interfaces
        from z3c.taskqueue.model import task
        self.assertIs(task.TaskError, interfaces.TaskError)

    def test_is_an_Exception(self):
        from z3c.taskqueue.model.task import TaskError
        self.assertTrue(issubclass(TaskError, Exception))
