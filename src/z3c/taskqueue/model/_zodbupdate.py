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
"""The zodbupdate maps for databases of z3c.taskqueue 0.2 and
lovely.remotetask, and of this package before its modules moved into
layers (entry points ``zodbupdate`` and ``zodbupdate.decode``).

``STORED`` names the stored classes whose modules moved into layers
(issue 20): ``renames`` maps their old paths to the new ones.  The old
paths keep loading without it (``z3c.taskqueue._oldpaths``); the map
lets a database name the new paths only.

``renames`` maps the classes of lovely.remotetask to this package's, so
that its task services, jobs, errors, stored processor factories and the
interfaces its utilities were registered with load.  The classes of
z3c.taskqueue 0.2 keep their names and need no rule.

zc.queue's queues, which both old packages stored, are renamed to
``_layout0.OldQueue`` only where zc.queue is not installed: zodbupdate
applies a rule to the whole database, and where zc.queue is installed
some other package may keep queues of its own.  The migration reads the
old queues in either case, and a broken one too.

``decodes`` names the attributes that are always text, which zodbupdate
may decode with its ``--encoding-fallback``: not a job's ``error``
(an exception instance before z3c.taskqueue 0.2.1, which zodbupdate
cannot decode and stops at), nor its ``input`` or ``output`` (the
application's data, text or bytes).  The migration decodes the errors
(see ``_layout0``).
"""
import importlib.util


renames = {
    'lovely.remotetask.service TaskService':
        'z3c.taskqueue.model.service TaskService',
    'lovely.remotetask.job Job': 'z3c.taskqueue.model.job Job',
    'lovely.remotetask.job CronJob': 'z3c.taskqueue.model.job CronJob',
    'lovely.remotetask.task TaskError': 'z3c.taskqueue.interfaces TaskError',
    'lovely.remotetask.processor SimpleProcessor':
        'z3c.taskqueue.processing.processor SimpleProcessor',
    'lovely.remotetask.processor MultiProcessor':
        'z3c.taskqueue.processing.processor MultiProcessor',
    # Registrations of local utilities name the interfaces.
    'lovely.remotetask.interfaces ITaskService':
        'z3c.taskqueue.interfaces ITaskService',
    'lovely.remotetask.interfaces ITask': 'z3c.taskqueue.interfaces ITask',
    'lovely.remotetask.interfaces IJob': 'z3c.taskqueue.interfaces IJob',
    'lovely.remotetask.interfaces ICronJob':
        'z3c.taskqueue.interfaces ICronJob',
    'lovely.remotetask.interfaces IProcessor':
        'z3c.taskqueue.interfaces IProcessor',
    # z3c.taskqueue 0.2's own, which moved within the package.
    'z3c.taskqueue.task TaskError': 'z3c.taskqueue.interfaces TaskError',
    # The error of a job whose task was not found, before 0.2.1; the class
    # moved to zope.interface, and zope.component no longer has it.
    'zope.component.interfaces ComponentLookupError':
        'zope.interface.interfaces ComponentLookupError',
}

#: zc.queue's classes, under every name they were stored with (1.0 had
#: ``PersistentQueue`` and ``CompositePersistentQueue``).
ZC_QUEUE_CLASSES = ('Queue', 'BucketQueue', 'PersistentQueue',
                    'CompositeQueue', 'CompositePersistentQueue')


def zcQueueInstalled():
    try:
        return importlib.util.find_spec('zc.queue') is not None
    except (ImportError, ValueError):
        return False


if not zcQueueInstalled():
    renames.update(('zc.queue._queue ' + name, 'z3c.taskqueue.model.'
                    '_layout0 OldQueue') for name in ZC_QUEUE_CLASSES)


#: The stored classes of the modules that moved into layers, by their
#: old module: each was written under ``z3c.taskqueue.<old module>``.
STORED = {
    'dependencies': ('model.dependencies', ('Dependencies',)),
    'expiry': ('model.expiry', ('ResultExpiry',)),
    'history': ('model.history', ('History',)),
    'job': ('model.job', ('Job', 'CronJob')),
    'lease': ('model.lease', ('Lease', 'Claims')),
    'payload': ('model.payload', ('Payload',)),
    'progress': ('model.progress', ('Progress', 'ProgressRecords')),
    'queues': ('model.queues', ('JobQueues',)),
    'retry': ('model.retry', ('RetryPolicy',)),
    'schedule': ('model.schedule', ('Schedule',)),
    'service': ('model.service', ('TaskService',)),
    'statusindex': ('model.statusindex', ('StatusIndex',)),
    'task': ('model.task', ('SimpleTask',)),
    'throughput': ('model.throughput', ('Throughput',)),
    'uniquekeys': ('model.uniquekeys', ('UniqueKeys',)),
    'workers': ('model.workers', ('WorkerRecord', 'Workers')),
    '_layout0': ('model._layout0', ('OldQueue',)),
    'processor': ('processing.processor',
                  ('SimpleProcessor', 'MultiProcessor')),
    'controlpanel': ('zope.controlpanel', ('ITaskQueueLayer',)),
}

renames.update(
    ('z3c.taskqueue.%s %s' % (old, name),
     'z3c.taskqueue.%s %s' % (new, name))
    for old, (new, names) in STORED.items() for name in names)


# zodbupdate looks a class's rules up by its name after ``renames``: the
# new path, and the old for a run without this package's renames.
decodes = {
    '%s %s' % (cls, attribute): 'utf-8'
    for module in ('job', 'model.job')
    for cls in ('z3c.taskqueue.%s Job' % module,
                'z3c.taskqueue.%s CronJob' % module)
    for attribute in ('task', 'status')}
decodes.update(('z3c.taskqueue.%s TaskService __name__' % module, 'utf-8')
               for module in ('service', 'model.service'))
