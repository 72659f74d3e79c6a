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
"""Events notified with zope.event as jobs go through their life."""
import zope.interface
from zope.interface.interfaces import ObjectEvent

from z3c.taskqueue import interfaces


class JobEvent(ObjectEvent):
    """Something happened to a job; ``object`` is the job."""

    def __init__(self, job, service):
        super().__init__(job)
        self.service = service

    def __repr__(self):
        return '<%s %r>' % (self.__class__.__name__, self.object)


@zope.interface.implementer(interfaces.IJobAddedEvent)
class JobAdded(JobEvent):
    """A job was added to a service."""


@zope.interface.implementer(interfaces.IJobStartedEvent)
class JobStarted(JobEvent):
    """A job's task is about to be called."""


@zope.interface.implementer(interfaces.IJobCompletedEvent)
class JobCompleted(JobEvent):
    """A job's task returned."""


@zope.interface.implementer(interfaces.IJobFailedEvent)
class JobFailed(JobEvent):
    """A job's run failed; ``job.error`` says why."""


@zope.interface.implementer(interfaces.IJobCancelledEvent)
class JobCancelled(JobEvent):
    """A job was cancelled before it started."""
