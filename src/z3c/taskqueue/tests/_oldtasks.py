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
"""The task of the old databases' jobs, for the upgrade tests' workers.

``echo`` returns its input and appends the job's id to the file named
by ``Z3C_TASKQUEUE_RUNLOG``, so that a test can count the runs of each
job, in whatever process they ran.
"""
import os

import zope.component
import zope.interface

from z3c.taskqueue import interfaces


RUNLOG = 'Z3C_TASKQUEUE_RUNLOG'


@zope.interface.implementer(interfaces.ITask)
class LoggedEcho:

    def __call__(self, service, jobid, input):
        path = os.environ.get(RUNLOG)
        if path:
            with open(path, 'a') as log:
                log.write('%d\n' % jobid)
        return input


def runs(path):
    """Return the ids of the jobs run, in order, from the run log."""
    if not os.path.exists(path):
        return []
    with open(path) as log:
        return [int(line) for line in log if line.strip()]


zope.component.provideUtility(LoggedEcho(), name='echo')
