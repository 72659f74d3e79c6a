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
"""The contract of the task service: interfaces, status constants, errors."""
import zope.interface
import zope.schema


QUEUED = 'queued'
PROCESSING = 'processing'
CANCELLED = 'cancelled'
ERROR = 'error'
COMPLETED = 'completed'
DELAYED = 'delayed'
CRONJOB = 'cronjob'
STARTLATER = 'start later'

STATUSES = (QUEUED, PROCESSING, CANCELLED, ERROR, COMPLETED, DELAYED,
            CRONJOB, STARTLATER)

#: The statuses of jobs that are done for good; ``clean()`` removes them.
FINISHED = (CANCELLED, ERROR, COMPLETED)


class ITask(zope.interface.Interface):
    """A task: the work a job does, registered as a named utility."""

    inputSchema = zope.schema.Object(
        title='Input Schema',
        description='A schema describing the task input (optional).',
        schema=zope.interface.interfaces.IInterface,
        required=False)

    outputSchema = zope.schema.Object(
        title='Output Schema',
        description='A schema describing the task output (optional).',
        schema=zope.interface.interfaces.IInterface,
        required=False)

    def __call__(service, jobid, input):
        """Do the work of job ``jobid`` of ``service`` with ``input``.

        Return the job's output.  Raise ``TaskError`` for an expected
        failure; its message becomes the job's error.
        """


class IJob(zope.interface.Interface):
    """A job: one requested run of a task, stored in the service."""

    id = zope.schema.Int(
        title='Id',
        description='The job id, unique within its service.',
        required=True)

    task = zope.schema.TextLine(
        title='Task',
        description='The name under which the task is registered.',
        required=True)

    status = zope.schema.Choice(
        title='Status',
        description='Where the job is in its life.',
        values=STATUSES,
        default=QUEUED,
        required=True)

    input = zope.interface.Attribute(
        'The input passed to the task; anything the database can store.')

    output = zope.interface.Attribute(
        'What the task returned the last time it completed, or None.')

    error = zope.schema.Text(
        title='Error',
        description='The message of the error that ended the last run,'
                    ' or None.',
        required=False)

    traceback = zope.schema.Text(
        title='Traceback',
        description=(
            'The formatted traceback of the error that ended the last run,'
            ' or None.\n\n.. versionadded:: 1.0'),
        required=False)

    created = zope.schema.Datetime(
        title='Creation Date',
        description='When the job was created (UTC).',
        required=True)

    started = zope.schema.Datetime(
        title='Start Date',
        description='When the last run started (UTC), or None.',
        required=False)

    completed = zope.schema.Datetime(
        title='Completion Date',
        description='When the last run ended (UTC), or None.',
        required=False)


class ICronJob(IJob):
    """A job that runs at given times, or once after a delay.

    The times are tuples of UTC values; every given field must match, a
    field not given matches anything, and fields finer than the finest
    given field take their smallest value.
    """

    minute = zope.schema.Tuple(
        title='Minutes',
        description='The minutes (0-59) at which the job runs.',
        required=False)

    hour = zope.schema.Tuple(
        title='Hours',
        description='The hours (0-23) at which the job runs.',
        required=False)

    dayOfMonth = zope.schema.Tuple(
        title='Days of the month',
        description='The days of the month (1-31) on which the job runs.',
        required=False)

    month = zope.schema.Tuple(
        title='Months',
        description='The months (1-12) in which the job runs.',
        required=False)

    dayOfWeek = zope.schema.Tuple(
        title='Days of the week',
        description='The weekdays (0 = Monday to 6 = Sunday) on which the'
                    ' job runs.',
        required=False)

    delay = zope.schema.Int(
        title='Delay',
        description='Run once, this many seconds after the job was'
                    ' scheduled, instead of at the given times.',
        required=False)

    scheduledFor = zope.schema.Datetime(
        title='Scheduled For',
        description='The time (UTC) of the next run the job is waiting'
                    ' for, or of the run in progress; None while it waits'
                    ' to be scheduled.',
        required=False)

    def update(minute=(), hour=(), dayOfMonth=(), month=(), dayOfWeek=(),
               delay=None):
        """Replace the job's times.

        Raise ``ValueError`` naming the field for a value out of range, a
        value that is not an integer, a combination that can never match
        (such as only February 30), or a delay given with times; the job
        is then left as it was.  Call the service's ``reschedule()``
        afterwards so that the change takes effect.
        """

    def timeOfNextCall(now=None):
        """Return the time of the next run, in seconds since the epoch.

        That is the first matching minute strictly after ``now`` (default:
        the current time), or ``now + delay`` for a delayed job.
        """


class ITaskService(zope.interface.Interface):
    """A service that queues jobs and runs them with registered tasks."""

    __name__ = zope.interface.Attribute(
        'The name under which the service is stored, or None.')

    __parent__ = zope.interface.Attribute(
        'The object the service is stored in, or None.')

    jobs = zope.interface.Attribute(
        'A family32 IOBTree mapping each job id to its job.')

    taskInterface = zope.interface.Attribute(
        'The interface under which tasks are looked up (``ITask``).')

    def getAvailableTasks():
        """Return a dict mapping each registered task name to its task."""

    def add(task, input=None, startLater=False):
        """Queue a job for the task registered under ``task``.

        Return the new job's id.  With ``startLater`` the job waits in
        status ``start later`` until ``startJob()``.  Raise ``ValueError``
        when no task is registered under that name and ``TypeError`` when
        the database cannot store ``input``; nothing is stored then.
        """

    def addCronJob(task, input=None, minute=(), hour=(), dayOfMonth=(),
                   month=(), dayOfWeek=(), delay=None):
        """Add a job that runs at the given times, or once after ``delay``.

        Return the new job's id.  Its status is ``delayed`` with a delay
        and ``cronjob`` otherwise.  The job is scheduled by the next
        ``processNext(now)``, relative to that ``now``.  Raise
        ``ValueError`` for an unknown task or bad times and ``TypeError``
        for an input the database cannot store; nothing is stored then.
        """

    def startJob(jobid):
        """Queue job ``jobid`` if it waits in status ``start later``.

        Return True if it was queued, False if it was not waiting.  Raise
        ``KeyError`` for an unknown id.
        """

    def reschedule(jobid):
        """Schedule a cron or delayed job anew, for example after update().

        The next call time is computed by the next ``processNext(now)``,
        from that ``now``.  A job being processed is scheduled from its
        new times when it completes.  Raise ``KeyError`` for an unknown id
        and ``ValueError`` for a job that is not a cron or delayed job.
        """

    def clean(status=FINISHED):
        """Remove all jobs whose status is one of ``status``.

        The cost is in proportion to the number of jobs removed.
        """

    def cancel(jobid):
        """Cancel job ``jobid`` if it has not started yet.

        Queued, delayed, cron and start-later jobs become ``cancelled``;
        a job being processed or finished is left as it is.  Raise
        ``KeyError`` for an unknown id.
        """

    def getStatus(jobid):
        """Return the status of job ``jobid``; ``KeyError`` if unknown."""

    def getResult(jobid):
        """Return the output of job ``jobid``; ``KeyError`` if unknown."""

    def getError(jobid):
        """Return the error message of job ``jobid``, or None.

        Raise ``KeyError`` for an unknown id.
        """

    def hasJobsWaiting(now=None):
        """Tell whether a job is due at ``now`` (default: the current time).

        Reads only: an idle worker that asks writes nothing.
        """

    def claimNextJob(now=None):
        """Take the next due job and mark it ``processing``.

        Cron and delayed jobs due at ``now`` come first, then queued jobs
        in the order they were queued.  Return the job's id, or None when
        no job is due.
        """

    def processNext(now=None, jobid=None):
        """Run the next due job (or job ``jobid``) in this transaction.

        Return True if a job was run, False if none was due.  A task that
        raises leaves the job in ``error`` (a cron job stays ``cronjob``)
        with the message and traceback recorded, and its writes are rolled
        back to a savepoint.  A ``ConflictError`` is raised to the caller,
        who aborts and retries: it is never recorded as a job error.
        """


class IProcessor(zope.interface.Interface):
    """A job processor: runs a service's jobs outside the request.

    A processor finds its service through a connection of its own and
    runs jobs with the service's ``claimNextJob()`` and
    ``processNext()``, one transaction at a time.
    """

    running = zope.schema.Bool(
        title='Running Flag',
        description='Whether the processor is currently running.',
        readonly=True)

    def __call__():
        """Run the processor until it is told to stop."""


class TaskError(Exception):
    """An expected failure of a task; its message becomes the job's error.
    """
