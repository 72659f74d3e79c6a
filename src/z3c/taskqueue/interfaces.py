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
import zope.interface.interfaces
import zope.schema
from ZODB.POSException import StateLoadError


QUEUED = 'queued'
PROCESSING = 'processing'
CANCELLED = 'cancelled'
ERROR = 'error'
COMPLETED = 'completed'
DELAYED = 'delayed'
CRONJOB = 'cronjob'
STARTLATER = 'start later'
#: Waits for the jobs it was added ``after`` to complete.
#:
#: .. versionadded:: 1.0
BLOCKED = 'blocked'

STATUSES = (QUEUED, PROCESSING, CANCELLED, ERROR, COMPLETED, DELAYED,
            CRONJOB, STARTLATER, BLOCKED)

#: The statuses of jobs that are done for good; ``clean()`` removes them.
FINISHED = (CANCELLED, ERROR, COMPLETED)


def _utc(title, description, required=False):
    """A field of a point in time: an aware UTC datetime."""
    return zope.schema.Datetime(
        title=title, description=description, required=required)


def _seconds(title, description, whole=False):
    """A field of a number of seconds (``whole``: an integer), or None."""
    kind = zope.schema.Int if whole else zope.schema.Number
    return kind(title=title, description=description, required=False)


def _times(title, description):
    """A field of ``ICronJob``'s times: a tuple of UTC values, optional
    (a field not given matches anything)."""
    return zope.schema.Tuple(
        title=title, description=description, required=False)


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

    retryPolicy = zope.interface.Attribute(
        """The ``IRetryPolicy`` for the task's jobs, or None for the default,
        which retries nothing but conflicts.

        .. versionadded:: 1.0
        """)

    runAs = zope.interface.Attribute(
        """Whom the task's jobs run as, unless a job says otherwise: None
        (the default) for the user who added the job, ``NOBODY`` (``''``,
        see ``z3c.taskqueue.model.jobcontext``) for the anonymous user, or a
        user id.  Optional: a task without it runs as None says.

        .. versionadded:: 1.0
        """)

    batchable = zope.interface.Attribute(
        """True if the task's jobs may share a commit: the task only
        changes the database (it mails nothing, calls no other system),
        so running a job again after its commit failed is harmless.

        A worker runs such jobs back to back in one transaction and
        commits them together, up to the processor's ``batchSize`` jobs
        or ``batchTime`` seconds: many small jobs cost a fraction of a
        commit each.  A job that fails is rolled back alone and recorded
        as failed; a conflict at the commit runs the batch again without
        charging the jobs an attempt; a worker that dies mid-batch has
        committed nothing of it.  The task must leave the transaction to
        the worker: one that commits, aborts or dooms it fails.
        Optional: a task without it is not batchable.

        .. versionadded:: 1.0
        """)

    queue = zope.interface.Attribute(
        """The name of the queue the task's jobs go to unless ``add()``
        names one; optional, ``'default'`` by default.

        .. versionadded:: 1.0
        """)

    timeout = zope.interface.Attribute(
        """The run-time limit of the task's jobs in seconds, or None (the
        default) for none; a job's own ``timeout`` comes first.

        A job that runs longer gets a ``JobTimeout`` in its thread: its
        transaction is aborted and it ends in ``error`` "timed out after
        S s", or is tried again as the retry policy says.  Python raises
        the exception at the next bytecode the task runs: a C call that
        never returns is not interrupted, unless the worker runs in a
        process pool (``z3c-taskqueue worker --processes N``), whose
        supervisor kills the process after the limit and a grace.  Jobs
        with a limit never share a commit (see ``batchable``).
        Optional.

        .. versionadded:: 1.0
        """)

    resultTTL = zope.interface.Attribute(
        """How many seconds the task's jobs are kept once they finished
        (completed, failed or cancelled), or None for the service's
        ``resultTTL``.  Optional.

        .. versionadded:: 1.0
        """)

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
        """The input passed to the task; anything the database can store.

        Kept in a record of its own: reading it raises ``PayloadError``
        if that record cannot be loaded any more (its class was removed
        or changed, say), while the job's other attributes still load.
        """)

    output = zope.interface.Attribute(
        """What the task returned the last time it completed, or None.

        Kept in a record of its own, like ``input``.
        """)

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

    created = _utc('Creation Date', 'When the job was created (UTC).',
                   required=True)

    started = _utc('Start Date', 'When the last run started (UTC), or None.')

    completed = _utc('Completion Date',
                     'When the last run ended (UTC), or None.')

    attempts = zope.schema.Int(
        title='Attempts',
        description=(
            'How often the job was started for its current (or last) run,'
            ' counting runs whose worker was lost.  A job is charged an'
            ' attempt when its run ends (completed or failed) or, if its'
            ' worker was lost, when it is recovered; a job that was claimed'
            ' but never started is not charged.  A cron job starts counting'
            ' anew for each scheduled run.'
            '\n\n.. versionadded:: 1.0'),
        default=0,
        required=True)

    queue = zope.schema.TextLine(
        title='Queue',
        description='The name of the queue the job waits in when it is'
                    ' due; workers serve some queues or all.'
                    '\n\n.. versionadded:: 1.0',
        default='default')

    priority = zope.schema.Int(
        title='Priority',
        description='From -10 to 10, 0 by default: among the due jobs of'
                    ' the queues a worker serves, a higher priority is'
                    ' claimed first, and within one priority the job that'
                    ' waited longest.'
                    '\n\n.. versionadded:: 1.0',
        default=0)

    lease = zope.interface.Attribute(
        """Always None: the claims of workers are kept by the service
        (``IProcessingService.leaseOf()``).  Jobs stored by layout
        version 1 may still hold the lease of their last claim here.

        .. versionchanged:: 1.0
           No longer set: a claim does not write the job.
        """)

    key = zope.interface.Attribute(
        """The unique key the job was added with (``add(key=...)``), or
        None.

        .. versionadded:: 1.0
        """)

    after = zope.interface.Attribute(
        """The ids of the jobs this job was added after
        (``add(after=...)``): it is ``blocked`` until they have all
        completed.  An empty tuple for most jobs.

        .. versionadded:: 1.0
        """)

    timeout = zope.interface.Attribute(
        """The job's own run-time limit in seconds (``add(timeout=...)``),
        or None for its task's (``ITask.timeout``).

        .. versionadded:: 1.0
        """)

    expires = zope.interface.Attribute(
        """The time (seconds since the epoch) after which the job is no
        longer started (``add(expires=...)``), or None.  A job that no
        worker started by then ends ``cancelled``, and its error says
        that it expired.

        .. versionadded:: 1.0
        """)

    context = zope.interface.Attribute(
        """Where and as whom the job runs, recorded when it was added: a
        dict of strings with ``site`` (the path of the current site from
        Zope's root folder), ``user`` and ``userFolder`` (a Zope user's
        id and the path of its user folder) and ``principal`` (a
        zope.security principal's id); None outside of any site and
        without a user.  Processors run the job in it (see
        ``z3c.taskqueue.model.jobcontext``).

        .. versionadded:: 1.0
        """)

    runAs = zope.interface.Attribute(
        """The ``runAs`` given to ``add()``: None for the user who added
        the job (or the task's ``runAs``), ``''`` for nobody, or a user id.

        .. versionadded:: 1.0
        """)


class ICronJob(IJob):
    """A job that runs at given times, or once after a delay.

    The times are either tuples of UTC values or a crontab expression in
    a time zone (``cron``).  With tuples, every given field must match, a
    field not given matches anything, and fields finer than the finest
    given field take their smallest value.
    """

    minute = _times('Minutes', 'The minutes (0-59) at which the job runs.')

    hour = _times('Hours', 'The hours (0-23) at which the job runs.')

    dayOfMonth = _times('Days of the month',
                        'The days of the month (1-31) on which the job runs.')

    month = _times('Months', 'The months (1-12) in which the job runs.')

    dayOfWeek = _times('Days of the week', 'The weekdays (0 = Monday to'
                       ' 6 = Sunday) on which the job runs.')

    delay = _seconds('Delay', 'Run once, this many seconds after the job was'
                     ' scheduled, instead of at the given times.', whole=True)

    cron = zope.schema.TextLine(
        title='Crontab expression',
        description=(
            'Five fields (minute hour day-of-month month day-of-week) with'
            ' ``*``, lists, ranges, steps and names, or an @ name such as'
            ' ``@daily``; None when the job uses the tuples or a delay.'
            ' When both day fields are restricted, either may match.'
            '\n\n.. versionadded:: 1.0'),
        required=False)

    timezone = zope.schema.TextLine(
        title='Time zone',
        description=(
            'The IANA name of the zone whose wall clock ``cron`` follows;'
            ' always ``UTC`` for the tuples.  Across daylight saving time'
            ' changes, an expression whose minute or hour field starts with'
            ' ``*`` runs at every matching instant (none in a skipped hour,'
            ' twice in a repeated one); any other runs once per matching'
            ' local date and time: right after a jump that skipped it, and'
            ' at the first of two repeated times.'
            '\n\n.. versionadded:: 1.0'),
        default='UTC',
        required=True)

    misfire = zope.schema.Choice(
        title='Misfire policy',
        description=(
            'What happens to instants that fell due while nothing ran the'
            ' job: ``coalesce`` runs them once, for the newest;'
            ' ``skip`` runs none of them and waits for an instant it'
            ' reaches on time (within its minute); ``all`` runs each,'
            ' oldest first, the newest 100 at most.'
            '\n\n.. versionadded:: 1.0'),
        values=('coalesce', 'skip', 'all'),
        default='coalesce',
        required=True)

    misfireGrace = _seconds(
        'Misfire grace', 'Due instants older than this many seconds are'
        ' dropped, whatever the policy; None for no limit.'
        '\n\n.. versionadded:: 1.0')

    scheduledFor = _utc(
        'Scheduled For', 'The time (UTC) of the next run the job is waiting'
        ' for, or the instant the run in progress is for; None while it'
        ' waits to be scheduled.')

    def update(minute=(), hour=(), dayOfMonth=(), month=(), dayOfWeek=(),
               delay=None, *, cron=None, timezone=None, misfire='coalesce',
               misfireGrace=None):
        """Replace the job's times.

        Like the constructor, ``update()`` replaces the whole schedule: a
        keyword not given takes its default.  ``cron`` is exclusive with
        the tuples and with ``delay``; ``timezone`` (default UTC) needs
        ``cron``.

        Raise ``ValueError`` naming the field and the value for a value
        out of range, a value that is not an integer, a combination that
        can never match (such as only February 30), a delay given with
        times, a malformed crontab expression, an unknown time zone or
        misfire policy, or a grace that is not a positive number; the job
        is then left as it was.  Call the service's ``reschedule()``
        afterwards so that the change takes effect.

        .. versionchanged:: 1.0
           Added ``cron``, ``timezone``, ``misfire`` and ``misfireGrace``.
        """

    def timeOfNextCall(now=None):
        """Return the time of the next run, in seconds since the epoch.

        That is the first firing time strictly after ``now`` (default:
        the current time), or ``now + delay`` for a delayed job.
        """

    def timeOfNextCallAfterRun(now):
        """Return when to run next after a run that ended at ``now``.

        That is the first firing time after the instant the run was for
        (``scheduledFor``), so that instants which fell due meanwhile are
        due at once, for ``dueInstant()`` to decide about.

        .. versionadded:: 1.0
        """

    def dueInstant(now):
        """Return the instant (seconds) that a run starting at ``now`` is for.

        The job has waited for ``scheduledFor``; the misfire policy and
        grace decide which of the instants due by ``now`` the run stands
        for.  Return None when none of them runs: the job then waits for
        its next time after ``now``.  A delayed job, a retried run and a
        recovered run are for ``scheduledFor``.

        .. versionadded:: 1.0
        """

    def preview(count, now=None):
        """Return the next ``count`` firing times after ``now``.

        They are aware datetimes in the job's time zone; ``now`` defaults
        to the current time.

        .. versionadded:: 1.0
        """


class ILease(zope.interface.Interface):
    """A worker's claim on the jobs it took, valid until ``expires``.

    .. versionadded:: 1.0
    """

    owner = zope.schema.TextLine(
        title='Owner',
        description='The worker: host name, process id and thread name.')

    expires = zope.schema.Float(
        title='Expires',
        description='When the claim ends unless renewed, in seconds since'
                    ' the epoch.  After that, another worker may recover'
                    ' the jobs.')

    jobs = zope.schema.Tuple(
        title='Jobs',
        description='The ids of the claimed jobs, in the order the worker'
                    ' runs them.  When the worker is lost, the first of'
                    ' them that is still claimed is the one it was running'
                    ' (or about to start): only that one is charged an'
                    ' attempt.')

    since = zope.schema.Float(
        title='Since',
        description='When the jobs were claimed, in seconds since the'
                    ' epoch; None for leases stored before it was kept.'
                    '\n\n.. versionadded:: 1.0',
        required=False)


class IRetryPolicy(zope.interface.Interface):
    """Which failures of a task's jobs are tried again, and when.

    .. versionadded:: 1.0
    """

    maxAttempts = zope.schema.Int(
        title='Maximum attempts',
        description='How often a job may be started in all, counting the'
                    ' runs whose worker was lost.',
        min=1)

    retryOn = zope.schema.Tuple(
        title='Retried errors',
        description='The exception classes after which the job is tried'
                    ' again.  Empty by default: only conflicts are.')

    conflictRetries = zope.schema.Int(
        title='Conflict retries',
        description='How often a run that ends in a ConflictError is tried'
                    ' again before the job fails with that reason.',
        min=0)

    def shouldRetry(error, attempts):
        """Tell whether a job that raised ``error`` in its ``attempts``-th
        attempt is tried again."""

    def delay(attempts):
        """Return the seconds to wait before the next attempt, jittered."""


class IJobEvent(zope.interface.interfaces.IObjectEvent):
    """Something happened to a job; ``object`` is the job.

    .. versionadded:: 1.0
    """

    service = zope.interface.Attribute('The service the job belongs to.')


class IJobAddedEvent(IJobEvent):
    """A job was added; notified in the adding transaction."""


class IJobStartedEvent(IJobEvent):
    """A job's task is about to be called, in the job's transaction."""


class IJobCompletedEvent(IJobEvent):
    """A job's task returned; notified in the transaction that records it.
    """


class IJobFailedEvent(IJobEvent):
    """A job's run failed; notified in the transaction that records the
    error, after the task's own writes were rolled back."""


class IJobCancelledEvent(IJobEvent):
    """A job was cancelled before it started."""


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

    resultTTL = zope.interface.Attribute(
        """How many seconds finished jobs are kept, unless their task says
        (``ITask.resultTTL``); None (the default) keeps them until
        ``clean()``.  Workers remove the expired ones in small batches
        (``expireResults()``); it applies to jobs that finish after it
        was set.

        .. versionadded:: 1.0
        """)

    def add(task, input=None, startLater=False, *, runAs=None, queue=None,
            priority=0, key=None, after=(), expires=None, timeout=None):
        """Queue a job for the task registered under ``task``.

        Return the new job's id.  With ``startLater`` the job waits in
        status ``start later`` until ``startJob()``.  The current site and
        user are recorded (``IJob.context``): a processor runs the job
        there, as that user, or as ``runAs`` says (``''`` for nobody, a
        user id).  Raise ``ValueError`` when no task is registered under
        that name and ``TypeError`` when the database cannot store
        ``input`` (an object of another database, say); nothing is
        stored then.

        The job waits in the queue ``queue`` (default: the task's
        ``queue``, or ``'default'``) at ``priority`` (-10 to 10; see
        ``IJob.priority``); a bad name or priority is a ``ValueError``.

        ``key`` (a string) makes the job unique: while a job added with
        that key waits (``queued``, ``delayed``, ``start later`` or
        ``blocked``, not yet running), ``add()`` with the key returns
        that job's id and adds nothing.  Once it runs, a new job can
        be added with the key.  The job returned runs on what the
        caller's transaction commits: a worker that takes it in a
        transaction that commits first makes the caller's commit
        conflict, and its retry adds a new job.  Two transactions that
        add a job with one key at once conflict: one commits, the other
        gets a ``ConflictError``, and when it is retried it returns the
        job the first added.

        ``after`` lists ids of jobs that must complete first: the new job
        is ``blocked`` until they have, then queued; when one of them
        ends in ``error`` or ``cancelled`` (or is removed), it is
        cancelled, with an error naming that job.  Jobs that completed
        already count as done; a cron job cannot be waited for, a
        delayed job (which runs once) can.  A job that ends while the
        caller's transaction is open is never missed: if its end commits
        first, the caller's commit conflicts, and its retry sees it.

        ``expires`` is a start deadline: seconds from now, or an aware
        ``datetime``; a job not started by then is not run, and ends
        ``cancelled`` with an error saying that it expired.  ``timeout``
        is the job's run-time limit in seconds (see ``ITask.timeout``).

        Bad values are refused with a ``ValueError`` that names them,
        and nothing is stored: a key that is not a string, an unknown
        or cron job id in ``after``, a negative, infinite or NaN time.

        .. versionchanged:: 1.0
           Added ``runAs``, ``queue``, ``priority``, ``key``, ``after``,
           ``expires`` and ``timeout``; the context is recorded.
        """

    def addCronJob(task, input=None, minute=(), hour=(), dayOfMonth=(),
                   month=(), dayOfWeek=(), delay=None, *, cron=None,
                   timezone=None, misfire='coalesce', misfireGrace=None,
                   runAs=None, queue=None, priority=0):
        """Add a job that runs at the given times, or once after ``delay``.

        The times are UTC tuples or a crontab expression ``cron`` in the
        IANA ``timezone`` (default UTC), as in ``ICronJob``;
        ``misfire`` and ``misfireGrace`` say what happens to instants
        that fell due while no processor ran the job.  ``delay=0`` runs
        the job once, at once; delays over 100 years are refused.  The
        context is recorded as ``add()`` does; ``runAs`` likewise.

        Return the new job's id.  Its status is ``delayed`` with a delay
        and ``cronjob`` otherwise.  The job is scheduled by the next
        ``processNext(now)``, relative to that ``now``.  Raise
        ``ValueError`` for an unknown task or bad times, naming the field
        and the value, and ``TypeError`` for an input the database cannot
        store; nothing is stored then.

        When a run falls due, the job moves to its queue (``queue``, as
        for ``add()``) at its ``priority``, and waits there in status
        ``queued`` until a worker claims it.

        .. versionadded:: 1.0
           The keywords ``cron``, ``timezone``, ``misfire``,
           ``misfireGrace``, ``runAs``, ``queue`` and ``priority``.
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

    def setProgress(jobid, fraction, message=None):
        """Report how far job ``jobid`` has got: ``fraction`` from 0 to 1,
        and a ``message`` of up to 1000 characters (or None).

        Called by a task while its job runs.  The progress is committed
        at once, in a small transaction of its own, so that other
        connections see it while the job runs; it never conflicts with
        the job's own transaction or with other workers.  At most one
        commit a second per job: what is reported in between is
        committed by the next report after that second, or when the job
        ends.  A job added in the current transaction, which no other
        connection sees yet, gets its progress in this transaction.
        Raise ``ValueError`` for a bad fraction or message and
        ``KeyError`` for an unknown id.

        .. versionadded:: 1.0
        """

    def getProgress(jobid):
        """Return the last progress committed for job ``jobid`` as a
        tuple ``(fraction, message)``, or None if it reported none.  It
        is kept, once the job has ended, until the job is removed.
        Raise ``KeyError`` for an unknown id.

        .. versionadded:: 1.0
        """

    def expireResults(now=None, limit=100):
        """Remove up to ``limit`` finished jobs whose time to live (see
        ``resultTTL``) is over at ``now``; return how many were removed.

        Workers call it in a transaction of its own, at most once a
        second each; it touches no job that is not finished, nor one
        that another job still waits for.

        .. versionadded:: 1.0
        """

    def listJobs(status=None, task=None, queue=None, limit=50, after=None,
                 scan=10000):
        """Return a page of job ids, newest first, and a cursor.

        Only jobs in ``status``, of ``task`` and in ``queue`` are listed,
        if given; at most ``limit`` (1 to 10000) of them.  The page
        starts after the cursor ``after`` that the previous page
        returned, or at the newest job.  At most ``scan`` jobs are looked
        at, so that a rare filter costs no more than that; the cursor
        returned is None when no older job is left, else where to go on.
        A page costs O(log n + scan) in the number of stored jobs.  Jobs
        stored before the history existed (before 1.0) are not listed.
        Raise ``ValueError`` for an unknown status, a bad number, or an
        ``after`` that cannot be a cursor (not an integer, or out of the
        64-bit range of the history's keys).

        .. versionadded:: 1.0
        """

    def countFinished(seconds, now=None):
        """Return how many jobs completed, failed and were cancelled in
        the ``seconds`` up to ``now``, as a dict by status, for up to a
        day back.  The jobs are counted per minute: the minute in which
        the ``seconds`` began counts for the share of it that lies
        within (``countFinished(60)`` at 12:00:45 is the count of
        12:00 and a quarter of that of 11:59).  Jobs that finished
        before the count existed (1.0) are not counted.

        .. versionadded:: 1.0
        """

    def purge(status=FINISHED, before=None, limit=1000):
        """Remove up to ``limit`` finished jobs in ``status`` (one or
        several of ``completed``, ``error``, ``cancelled``) and, if
        ``before`` is given (seconds since the epoch), only those that
        finished before it; return how many were removed.  Unlike
        ``clean()`` it does bounded work, so that a caller can remove a
        million jobs in many small transactions.  Raise ``ValueError``
        for a status that is not finished.

        .. versionadded:: 1.0
        """

    def retry(jobid):
        """Queue job ``jobid``, which failed or was cancelled, again, with
        a new attempt count; a cron job is scheduled again.  Its error,
        times and start deadline are forgotten.  Raise ``ValueError`` for
        a job in another status and ``KeyError`` for an unknown id.

        A job added ``after`` others that never ran (it was cancelled
        because one of them failed, or by hand) waits again for those
        that have not ended (``blocked``); if one of them failed, was
        cancelled or is gone, the retry is refused with a ``ValueError``
        naming it (retry that job first).  A job that ran had seen its
        dependencies complete, and is queued.

        .. versionadded:: 1.0
        """

    def getStatus(jobid):
        """Return the status of job ``jobid``; ``KeyError`` if unknown."""

    def getResult(jobid):
        """Return the output of job ``jobid``; ``KeyError`` if unknown."""

    def getError(jobid):
        """Return the error message of job ``jobid``, or None.

        Raise ``KeyError`` for an unknown id.
        """

    def countJobs():
        """Return a dict mapping each status to its number of jobs.

        The cost is in proportion to the number of jobs.

        .. versionadded:: 1.0
        """

    def countQueued():
        """Return a dict mapping the name of each queue ever used to the
        number of due jobs waiting in it.  Cheap: no job is loaded.

        .. versionadded:: 1.0
        """

    def oldestQueuedAge(now=None):
        """Return how many seconds the oldest queued job has waited at
        ``now``, or None if no job is queued.

        .. versionadded:: 1.0
        """

    def workers(now=None):
        """Return the workers that run this service's jobs, idle or
        busy, as a list of dicts ordered by ``name``.

        Each processor keeps a record of itself (see
        ``z3c.taskqueue.model.workers``): written when it starts, then every
        ``heartbeat`` seconds of the processor (30 by default), and
        removed when it stops.  A dict holds ``name`` (host, process id
        and processor name, ``HOST:PID:NAME``: the owner of the leases of
        its threads, or, for a ``MultiProcessor``'s, that name, a dot and
        a number, when it runs in a thread named after it, as
        ``processor.start()`` and the worker command run it),
        ``host``, ``pid``, ``processor``, ``threads``, ``queues`` (None:
        all), ``tasks`` (the names of the tasks registered in its
        process), ``started`` and ``last seen`` (seconds since the
        epoch), ``interval`` (its heartbeat), ``completed`` and
        ``failed`` (the jobs it ran since it started), and ``state``:
        ``'alive'``, or ``'gone'`` once it missed three beats at ``now``
        (default: the current time).  A record of a worker gone for a
        day is removed by the other workers.  Reads only.

        .. versionadded:: 1.0
        """

    def hasJobsWaiting(now=None, queues=None):
        """Tell whether a job is due at ``now`` (default: the current time)
        in one of the queues ``queues`` (None: any), or a cron or delayed
        job waits for its due time to be computed.

        Reads only: an idle worker that asks writes nothing.
        """

    def claimNextJob(now=None, queue=None):
        """Take the next due job and mark it ``processing``.

        Cron, delayed and retried jobs due at ``now`` move to their queues
        first.  Then the job of the highest priority is taken, and of
        those the one queued first.  Return the job's id, or None when no
        job is due.

        Queued jobs are spread over several queues.  With ``queue`` (a
        number), take the oldest job of that queue, or else of the next
        one that has a job: workers that start at different queues rarely
        take the same job at the same time.  Without it, take the oldest
        queued job of all.
        """

    def processNext(now=None, jobid=None):
        """Run the next due job (or job ``jobid``) in this transaction.

        Return True if a job was run, False if none was due.  A task that
        raises leaves the job in ``error`` (a cron job stays ``cronjob``)
        with the message and traceback recorded, and its writes are rolled
        back to a savepoint.  A ``ConflictError`` is raised to the caller,
        who aborts and retries: it is never recorded as a job error.
        """


class IProcessingService(ITaskService):
    """A task service whose jobs worker threads run, one transaction each.

    Workers claim jobs in a transaction of their own (``claimJobs``), run
    each in a new transaction that also records the outcome
    (``completeJob``), and record failures in yet another one
    (``failJob``).  A job whose worker is lost is recovered when its lease
    expires (``recoverExpired``).

    .. versionadded:: 1.0
    """

    processorFactory = zope.interface.Attribute(
        'The ``IProcessor`` class ``startProcessing()`` uses.')

    processorArguments = zope.interface.Attribute(
        'A dict of keyword arguments for ``processorFactory``.')

    def startProcessing():
        """Start a processor thread named ``taskqueue.<path>``.

        The service must be stored in a database: as a utility of a site
        that is the current site (``zope.component.hooks.getSite()``) or
        above it, or of Zope's root folder or a site in it; under a key of
        the database root with ``__name__`` set to that key; or inside
        objects that are, linked by ``__parent__`` and ``__name__`` (a
        zope.site site manager).  Raise ``ValueError`` saying so if it
        cannot be found.  Starting a service that is processing already
        does nothing.  Log ``starting service NAME``.
        """

    def startProcessingAt(path):
        """Start a processor for the service found at ``path`` (a service
        path, as ``IProcessor`` takes), without looking for it.

        Return True if a processor was started, False if one runs
        already.  Autostart uses it with the paths it was given.

        .. versionadded:: 1.0
        """

    def stopProcessing(timeout=None):
        """Stop this service's processor gracefully and wait for it.

        It stops claiming, lets running jobs finish (waiting at most
        ``timeout`` seconds, by default the processor's ``stopTimeout``),
        releases the jobs it claimed but did not start, and closes its
        connections.  Return None, as the old API did; if it did not stop
        within the time, ``isProcessing()`` says True until it has: it
        finishes its job in the background, and ``startProcessing()``
        starts no second processor until then.  Log ``stopping service
        NAME``.
        """

    def isProcessing():
        """Tell whether a processor of this service runs in this process.
        """

    def claimJobs(owner, leaseTime, now=None, limit=1, queue=None, *,
                  queues=None, retire=(), accept=None):
        """Claim up to ``limit`` due jobs of the queues ``queues`` (None:
        all) for ``owner``, in the order ``claimNextJob()`` takes them.

        ``queue`` is a number: start at that shard of the queues, as
        ``claimNextJob()`` does.  ``accept(job)``, if given, is asked of
        each job in turn; the claim stops at the first it refuses, which
        stays queued.  The leases ``retire`` (of batches the worker ran)
        are retired first (``retireLease()``).

        Each job becomes ``processing`` and all share one new lease that
        expires ``leaseTime`` seconds after ``now`` and lists them
        (``ILease.jobs``) in the order they are to run.  The claim writes
        the lease and the claim index, not the jobs.  A claim charges no
        attempt.  Return ``(lease, ids)``; ``(None, [])`` if no job is
        due.

        .. versionchanged:: 1.0
           A claim no longer charges an attempt; the run does.  Added
           ``queues``, ``retire`` and ``accept``.
        """

    def completeJob(jobid, lease, output, now=None):
        """Record that job ``jobid`` ran to the end with ``output``.

        Return False and change nothing if the job is no longer claimed
        with ``lease``: the lease expired and the job was taken over, so
        the caller must discard the run.  Otherwise the job is charged the
        attempt, becomes ``completed`` (a cron job is scheduled again) and
        True is returned.  Only the job is written: the finished job is
        put in the status index when the lease is retired.
        """

    def failJob(jobid, lease, error, traceback=None, now=None, retry=None):
        """Record that a run of job ``jobid`` failed with ``error``.

        ``error`` is an exception or a message.  The job is charged the
        attempt.  If ``retry`` is true, or if it is None and the task's
        retry policy says so, the job waits for another attempt after a
        jittered backoff; otherwise it becomes ``error`` (a cron job is
        scheduled again).  The failure is logged at WARNING (retried) or
        ERROR.  Return False and change nothing if the job is no longer
        claimed with ``lease``.
        """

    def releaseJob(jobid, lease, now=None):
        """Give back a claimed job that was not started.

        It waits again as before, charged nothing.  Return False if the
        job is no longer claimed with ``lease``.
        """

    def renewLease(lease, leaseTime, now=None):
        """Extend ``lease`` to ``leaseTime`` seconds after ``now``."""

    def leaseOf(jobid):
        """Return the ``ILease`` that holds job ``jobid`` while a worker
        runs it (or is about to), or None.  ``KeyError`` if unknown.

        .. versionadded:: 1.0
        """

    def retireLease(lease):
        """Forget the claims of ``lease`` whose outcome is recorded, and
        put the jobs they finished in the status index, all at once.

        A worker retires the lease of a batch in its next claim's commit;
        ``clean()`` retires the leases whose jobs are all done, and
        ``recoverExpired()`` the leases it recovers.  Claims not yet
        settled are kept, to be recovered when the lease expires.

        .. versionadded:: 1.0
        """

    def recoverExpired(now=None):
        """Recover the jobs whose lease expired before ``now``.

        Of the jobs of one lease, the first still claimed in the lease's
        order is the one its worker was running (or about to start): it is
        charged an attempt and goes back to wait for another one, or to
        ``error`` (a cron job to its next time) once its task's
        ``maxAttempts`` are used up, with the reason recorded.  The others
        had not started: they wait again as they were.  Return the
        recovered jobs' ids.
        """

    def abandonLease(lease, now=None):
        """Recover the jobs of ``lease`` at once, as if it had expired.

        For a worker that stops while a job still runs (its stop timed
        out): the running job is charged, with a reason saying that its
        worker stopped, and the jobs it had not started wait again.
        Return their ids.

        .. versionadded:: 1.0
        """

    def recoverProcess(owner, reason, killed=None, now=None):
        """Recover at once the jobs of every lease whose owner starts with
        ``owner`` (``'host:pid:'``: a worker process that died or was
        killed), as ``recoverExpired()`` does for an expired lease, with
        ``reason`` as their error.  A job whose id is in ``killed`` (a
        dict of job id to error) ends in ``error`` with that error,
        charged one attempt, and is not tried again.  The jobs running in
        the process's other threads were killed through no fault of their
        own: they wait again, uncharged, with no error.  Without
        ``killed``, the running jobs are charged as for an expired lease.
        Return the ids of the jobs recovered.

        .. versionadded:: 1.0
        """


class IProcessor(zope.interface.Interface):
    """A job processor: runs a service's jobs in threads of its own.

    It is constructed as ``Processor(db, servicePath, **arguments)`` and
    finds its service through a connection of its own: ``servicePath``
    is a list of keys from the database root, or ``'site@name'`` for the
    task service utility ``name`` of the site stored under ``site`` in
    the root folder.

    The arguments of ``SimpleProcessor`` and ``MultiProcessor``:
    ``waitTime`` (seconds an idle worker waits, 0 to 3600), ``leaseTime``
    (0.1 to 86400), ``batchSize`` (the most jobs a claim takes, and the
    most batchable jobs a shared commit holds: 1 to 1000, default 100),
    ``batchTime`` (seconds after which a shared commit is made however
    few jobs ran: 0.001 to 60, default 0.5), ``queues`` (the names of the
    queues served, default None: all), ``stopTimeout`` (0 to 86400),
    ``maxThreads`` (``MultiProcessor``, 1 to 256), ``heartbeat`` (seconds
    between the writes of the worker's record, ``ITaskService.workers()``:
    0 to 86400, default 30; 0 writes none), and ``reopen``, a
    function that opens the database anew, called when the storage broke
    (a FileStorage that closed itself).  A value out of range is a
    ``ValueError`` naming the argument.

    Nothing a job does stops a processor: see ``docs/reliability.rst``.
    """

    running = zope.schema.Bool(
        title='Running Flag',
        description='Whether the processor is currently running.',
        readonly=True)

    def __call__():
        """Run the processor in this thread until ``stop()`` is called."""

    def stop():
        """Ask the processor to stop; ``__call__`` returns once it has."""

    def abandon():
        """Give up on the jobs still running after a stop timed out.

        The processor's threads never write to the database again (a late
        result is discarded), and the jobs they hold are recovered at once
        (``IProcessingService.abandonLease``), for other workers.  Return
        the ids of those jobs.

        .. versionadded:: 1.0
        """


class JobTimeout(BaseException):
    """Raised in the thread of a job that ran longer than its time limit
    (``ITask.timeout``, ``add(timeout=...)``).

    A ``BaseException``, like ``KeyboardInterrupt``, so that a task's
    ``except Exception:`` does not swallow it; a task that catches it
    anyway still times out.

    .. versionadded:: 1.0
    """


class TaskError(Exception):
    """An expected failure of a task; its message becomes the job's error.
    """


class PayloadError(StateLoadError):
    """The input or output of a job cannot be loaded from the database.

    Raised by ``IJob.input`` and ``IJob.output`` (and so by
    ``getResult()``), with a message that names the job and the cause,
    for example the class that no longer unpickles; the original error is
    chained as ``__cause__``.  The job itself still loads: a job whose
    input cannot be loaded ends in ``error`` when it is run.

    .. versionadded:: 1.0
    """
