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
"""The taskqueue:task ZCML directive."""
import unittest

import zope.component
import zope.component.testing
from zope.configuration import xmlconfig
from zope.configuration.exceptions import ConfigurationError

from z3c.taskqueue import interfaces


TEMPLATE = '''\
<configure xmlns="http://namespaces.zope.org/zope"
           xmlns:taskqueue="http://namespaces.zope.org/taskqueue">
  <include package="z3c.taskqueue" />
  %s
</configure>
'''


def shout(input):
    return input.upper()


@zope.interface.implementer(interfaces.ITask)
class Whisper:
    inputSchema = outputSchema = retryPolicy = None

    def __call__(self, service, jobid, input):
        return input.lower()


WHISPER = Whisper()


class DirectiveTestBase(unittest.TestCase):

    def setUp(self):
        zope.component.testing.setUp(self)
        self.addCleanup(zope.component.testing.tearDown, self)

    def configure(self, directives):
        xmlconfig.string(TEMPLATE % directives)

    def task(self, name):
        return zope.component.getUtility(interfaces.ITask, name)


class TaskDirectiveTests(DirectiveTestBase):

    def test_handler_is_wrapped_in_a_simple_task(self):
        from z3c.taskqueue.model.task import SimpleTask
        self.configure('<taskqueue:task name="shout" handler="%s.shout" />'
                       % __name__)
        task = self.task('shout')
        self.assertIsInstance(task, SimpleTask)
        self.assertEqual(task(None, 1, 'hi'), 'HI')

    def test_factory_is_called_to_make_the_task(self):
        self.configure('<taskqueue:task name="whisper" factory="%s.Whisper"'
                       ' />' % __name__)
        self.assertIsInstance(self.task('whisper'), Whisper)

    def test_component_is_registered_as_it_is(self):
        self.configure('<taskqueue:task name="whisper" component="%s.WHISPER"'
                       ' />' % __name__)
        self.assertIs(self.task('whisper'), WHISPER)

    def test_a_registered_task_can_be_used_by_a_service(self):
        from z3c.taskqueue.model.service import TaskService
        self.configure('<taskqueue:task name="shout" handler="%s.shout" />'
                       % __name__)
        service = TaskService()
        jobid = service.add('shout', 'hello')
        self.assertTrue(service.processNext())
        self.assertEqual(service.getResult(jobid), 'HELLO')

    def test_plain_utility_registration_keeps_working(self):
        self.configure(
            '<utility name="whisper" component="%s.WHISPER"'
            ' provides="z3c.taskqueue.interfaces.ITask" />' % __name__)
        self.assertIs(self.task('whisper'), WHISPER)

    def test_none_or_two_of_handler_factory_component_is_an_error(self):
        for directive in (
                '<taskqueue:task name="x" />',
                '<taskqueue:task name="x" handler="%s.shout"'
                ' component="%s.WHISPER" />' % (__name__, __name__)):
            with self.assertRaises(ConfigurationError) as raised:
                self.configure(directive)
            self.assertIn('exactly one of handler, factory and component',
                          str(raised.exception))


class ControlAttributeTests(DirectiveTestBase):

    def test_timeout_and_result_ttl_apply_to_a_handler(self):
        self.configure('<taskqueue:task name="shout" handler="%s.shout"'
                       ' timeout="2.5" resultTTL="3600" />' % __name__)
        task = self.task('shout')
        self.assertEqual((task.timeout, task.resultTTL), (2.5, 3600))

    def test_bad_timeouts_name_the_task(self):
        for attribute in ('timeout="0"', 'timeout="-1"', 'resultTTL="-1"',
                          'timeout="nan"'):
            with self.assertRaises(ConfigurationError) as raised:
                self.configure('<taskqueue:task name="shout"'
                               ' handler="%s.shout" %s />'
                               % (__name__, attribute))
            self.assertIn("taskqueue:task 'shout'", str(raised.exception))

    def test_a_factory_sets_its_own_timeout(self):
        with self.assertRaises(ConfigurationError) as raised:
            self.configure('<taskqueue:task name="whisper"'
                           ' factory="%s.Whisper" timeout="5" />' % __name__)
        self.assertIn('apply to a handler', str(raised.exception))
