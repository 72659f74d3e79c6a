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
"""The ``taskqueue:task`` ZCML directive: register a task utility."""
import zope.component.zcml
import zope.configuration.fields
import zope.interface
import zope.schema
from zope.configuration.exceptions import ConfigurationError

from z3c.taskqueue import interfaces
from z3c.taskqueue.model import queues
from z3c.taskqueue.model.task import SimpleTask


def _oneOf(title, description):
    """A field of one of the ways to give the task, of which a directive
    gives exactly one: an optional object."""
    return zope.configuration.fields.GlobalObject(
        title=title, description=description, required=False)


def _seconds(title, description):
    """A field of an optional number of seconds."""
    return zope.schema.Float(
        title=title, description=description, required=False)


class ITaskDirective(zope.interface.Interface):
    """Register a task under a name.

    Give exactly one of ``handler`` (a function called with the job's
    input, wrapped in a ``SimpleTask``), ``factory`` (called without
    arguments, returns an ``ITask``) or ``component`` (an ``ITask``).
    """

    name = zope.schema.TextLine(
        title='Name',
        description='The name jobs use to ask for the task.',
        required=True)

    handler = _oneOf('Handler', 'A function called with the job input.')

    factory = _oneOf('Factory', 'Creates the task.')

    component = _oneOf('Component', 'The task itself.')

    batchable = zope.configuration.fields.Bool(
        title='Batchable',
        description='The jobs of the handler only change the database:'
                    ' they may share a commit (see ITask.batchable).',
        required=False,
        default=False)

    queue = zope.schema.TextLine(
        title='Queue',
        description="The queue of the handler's jobs, unless add() names"
                    " one; default: 'default'.",
        required=False)

    timeout = _seconds('Timeout', "The run-time limit of the handler's jobs"
                       " in seconds (see ITask.timeout); default: none.")

    resultTTL = _seconds('Result time to live', "How many seconds the"
                         " handler's finished jobs are kept (see"
                         " ITask.resultTTL); default: the service's.")


def task(_context, name, handler=None, factory=None, component=None,
         batchable=False, queue=None, timeout=None, resultTTL=None):
    given = [arg for arg in (handler, factory, component) if arg is not None]
    if len(given) != 1:
        raise ConfigurationError(
            'taskqueue:task %r needs exactly one of handler, factory and'
            ' component' % (name,))
    if handler is None and (batchable or queue is not None
                            or timeout is not None or resultTTL is not None):
        raise ConfigurationError(
            'taskqueue:task %r: batchable, queue, timeout and resultTTL'
            ' apply to a handler; a factory or component sets its own'
            ' attributes' % (name,))
    if handler is not None:
        try:
            component = SimpleTask(handler, batchable=bool(batchable),
                                   queue=queue or queues.DEFAULT,
                                   timeout=timeout, resultTTL=resultTTL)
        except ValueError as error:
            raise ConfigurationError('taskqueue:task %r: %s'
                                     % (name, error)) from None
    zope.component.zcml.utility(
        _context, provides=interfaces.ITask, component=component,
        factory=factory, name=name)
