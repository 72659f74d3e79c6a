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
"""Tasks: the callables that do the work of jobs."""
import zope.interface

from z3c.taskqueue import interfaces
from z3c.taskqueue.interfaces import TaskError  # noqa: F401 (API)
from z3c.taskqueue.model import queues
from z3c.taskqueue.model._timelimit import checkTimeout
from z3c.taskqueue.model.expiry import checkTTL


@zope.interface.implementer(interfaces.ITask)
class SimpleTask:
    """A task that calls a function with the job's input.

    Not persistent: tasks are registered as utilities, in code or ZCML.
    """

    inputSchema = None
    outputSchema = None
    batchable = False
    queue = queues.DEFAULT
    timeout = None
    resultTTL = None

    def __init__(self, func, retryPolicy=None, runAs=None, *,
                 batchable=False, queue=queues.DEFAULT, timeout=None,
                 resultTTL=None):
        self.func = func
        self.retryPolicy = retryPolicy
        self.runAs = runAs
        if not isinstance(batchable, bool):
            raise ValueError('batchable must be True or False, not %r'
                             % (batchable,))
        self.batchable = batchable
        self.queue = queues.checkName(queue)
        self.timeout = checkTimeout(timeout)
        self.resultTTL = checkTTL(resultTTL)

    def __call__(self, service, jobid, input):
        return self.func(input)

    def __repr__(self):
        return '<%s %r>' % (self.__class__.__name__, self.func)
