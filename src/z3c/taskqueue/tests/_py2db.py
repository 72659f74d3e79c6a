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
"""Python 2 FileStorages, written as ZODB on Python 2 wrote them.

No Python 2 interpreter is needed: the records are pickled by hand, as
zodbupdate's own tests do (``overridePickle``), opcode by opcode, the way
cPickle (ZODB before 5.3: protocol 1; 5.3: protocol 2) and zodbpickle
(ZODB 5.4 and later: protocol 3) wrote them on Python 2:

- a Python 2 ``str`` (``Str``) as ``SHORT_BINSTRING`` or ``BINSTRING``,
  a ``unicode`` (a Python 3 ``str`` here) as ``BINUNICODE``;
- a datetime as ``datetime.datetime`` reduced from a 10-byte ``str``;
- a reference to a persistent object as ZODB's persistent id ``(oid,
  class)``, the oid a ``str`` (protocols 1 and 2) or a
  ``zodbpickle.binary`` (3), written as ``SHORT_BINBYTES``;
- each record as two pickles, the class and the state, sharing one memo
  that cPickle numbers from 1.

The records are stored through a FileStorage in several transactions,
and the file is given the magic of Python 2, ``FS21`` (the records and
transactions of FS21 and FS30 are alike).

``oldService()`` builds a task service of z3c.taskqueue 0.2.1 or
lovely.remotetask 0.5 (layout version 0) with a job of every kind.
"""
import calendar
import datetime
import os
import struct

import ZODB.FileStorage
from ZODB.Connection import TransactionMetaData
from ZODB.utils import p64
from ZODB.utils import z64


class Str(bytes):
    """A Python 2 ``str``."""


class Global:
    """A reference to a class or function: ``module.name``."""

    def __init__(self, module, name):
        self.module = module
        self.name = name

    def key(self):
        return (self.module, self.name)


class Ref:
    """A reference to the persistent object ``oid`` of class ``cls``."""

    def __init__(self, oid, cls):
        self.oid = oid
        self.cls = cls


class Reduce:
    """What ``__reduce__`` returns: ``func(*args)``, then ``state``."""

    def __init__(self, func, args, state=None):
        self.func = func
        self.args = args
        self.state = state


def DateTime(value):
    """A naive ``datetime.datetime`` as Python 2 pickled it."""
    state = struct.pack('>HBBBBB', value.year, value.month, value.day,
                        value.hour, value.minute, value.second)
    state += value.microsecond.to_bytes(3, 'big')
    return Reduce(Global('datetime', 'datetime'), (Str(state),))


class Pickler:
    """Writes pickles as Python 2's cPickle (or zodbpickle) did."""

    def __init__(self, protocol):
        if protocol not in (1, 2, 3):
            raise ValueError(protocol)
        self.protocol = protocol
        self.out = bytearray()
        self.memo = {}      # the globals written, by name
        self.puts = 0

    def record(self, cls, state):
        """Return a ZODB record: the class pickle and the state pickle."""
        self.out = bytearray()
        self.memo = {}
        self.puts = 0
        self.dump(cls)
        self.dump(state)
        return bytes(self.out)

    def dump(self, obj):
        if self.protocol >= 2:
            self.out += b'\x80' + bytes([self.protocol])
        self.save(obj)
        self.out += b'.'

    def put(self):
        self.puts += 1
        index = self.puts
        self.out += (b'q' + bytes([index]) if index < 256
                     else b'r' + struct.pack('<i', index))
        return index

    def save(self, obj):
        out = self.out
        if obj is None:
            out += b'N'
        elif obj is True or obj is False:
            if self.protocol >= 2:
                out += b'\x88' if obj else b'\x89'
            else:
                out += b'I01\n' if obj else b'I00\n'
        elif isinstance(obj, int):
            self.saveInt(obj)
        elif isinstance(obj, float):
            out += b'G' + struct.pack('>d', obj)
        elif isinstance(obj, Str):
            if len(obj) < 256:
                out += b'U' + bytes([len(obj)]) + obj
            else:
                out += b'T' + struct.pack('<i', len(obj)) + obj
            self.put()
        elif isinstance(obj, bytes):
            # zodbpickle.binary: protocol 3 only (oids in references).
            assert self.protocol == 3 and len(obj) < 256
            out += b'C' + bytes([len(obj)]) + obj
            self.put()
        elif isinstance(obj, str):
            data = obj.encode('utf-8')
            out += b'X' + struct.pack('<i', len(data)) + data
            self.put()
        elif isinstance(obj, tuple):
            self.saveTuple(obj)
        elif isinstance(obj, list):
            out += b']'
            self.put()
            self.saveItems(obj, b'a', b'e')
        elif isinstance(obj, dict):
            out += b'}'
            self.put()
            self.saveItems([item for pair in obj.items() for item in pair],
                           b's', b'u', pairs=True)
        elif isinstance(obj, Global):
            known = self.memo.get(obj.key())
            if known is not None:
                out += (b'h' + bytes([known]) if known < 256
                        else b'j' + struct.pack('<i', known))
            else:
                out += b'c%s\n%s\n' % (obj.module.encode(),
                                       obj.name.encode())
                self.memo[obj.key()] = self.put()
        elif isinstance(obj, Ref):
            oid = Str(obj.oid) if self.protocol < 3 else bytes(obj.oid)
            self.save((oid, obj.cls) if obj.cls is not None else oid)
            out += b'Q'
        elif isinstance(obj, Reduce):
            self.save(obj.func)
            self.save(tuple(obj.args))
            out += b'R'
            self.put()
            if obj.state is not None:
                self.save(obj.state)
                out += b'b'
        else:
            raise TypeError('cannot pickle %r as Python 2 did' % (obj,))

    def saveInt(self, value):
        out = self.out
        if 0 <= value < 256:
            out += b'K' + bytes([value])
        elif 0 <= value < 65536:
            out += b'M' + struct.pack('<H', value)
        elif -2 ** 31 <= value < 2 ** 31:
            out += b'J' + struct.pack('<i', value)
        elif self.protocol >= 2:
            data = value.to_bytes((value.bit_length() + 8) // 8, 'little',
                                  signed=True)
            out += b'\x8a' + bytes([len(data)]) + data
        else:
            out += b'I%d\n' % value     # a Python 2 int of 64 bits

    def saveTuple(self, items):
        if not items:
            self.out += b')'
            return
        if self.protocol >= 2 and len(items) <= 3:
            for item in items:
                self.save(item)
            self.out += b'\x85\x86\x87'[len(items) - 1:len(items)]
        else:
            self.out += b'('
            for item in items:
                self.save(item)
            self.out += b't'
        self.put()

    def saveItems(self, items, one, many, pairs=False):
        step = 2 if pairs else 1
        if len(items) == step:
            for item in items:
                self.save(item)
            self.out += one
        elif items:
            self.out += b'('
            for item in items:
                self.save(item)
            self.out += many


class Database:
    """A FileStorage of Python 2 records, written transaction by
    transaction, and given the magic of Python 2 when closed."""

    def __init__(self, path, protocol):
        self.path = path
        self.pickler = Pickler(protocol)
        self.storage = ZODB.FileStorage.FileStorage(path, create=True)
        self.serials = {}
        self.lastOid = 0

    def newOid(self):
        self.lastOid += 1
        return p64(self.lastOid)

    def commit(self, records, description='', user=''):
        """Store ``records``, a dict of oid to ``(class, state)``."""
        storage = self.storage
        txn = TransactionMetaData(user=user, description=description)
        storage.tpc_begin(txn)
        for oid, (cls, state) in records.items():
            data = self.pickler.record(cls, state)
            storage.store(oid, self.serials.get(oid, z64), data, '', txn)
        storage.tpc_vote(txn)
        tid = storage.tpc_finish(txn)
        for oid in records:
            self.serials[oid] = tid

    def close(self):
        self.storage.close()
        with open(self.path, 'r+b') as f:
            assert f.read(4) == b'FS30'
            f.seek(0)
            f.write(b'FS21')
        # As the upgrade guides say: the index is made again.
        for suffix in ('.index', '.lock', '.tmp'):
            if os.path.exists(self.path + suffix):
                os.remove(self.path + suffix)


def epoch(value):
    """Return the UTC datetime ``value`` as seconds since the epoch."""
    return calendar.timegm(value.utctimetuple())


class OldJob:
    """A job of layout version 0, as its attributes were stored."""

    def __init__(self, service, oid, role, jobid, cron=False, **state):
        self.service = service
        self.oid = oid
        self.role = role
        self.id = jobid
        self.cron = cron
        self.state = state

    def ref(self):
        return Ref(self.oid, self.service.jobClass(self.cron))


class OldService:
    """The records of a task service of z3c.taskqueue 0.2.1 (``flavour``
    ``'z3c'``) or lovely.remotetask 0.5 (``'lovely'``).

    ``localTime(seconds)`` gives the naive local datetime the old server
    stored for an instant: ``datetime.fromtimestamp``, in its zone.
    """

    def __init__(self, db, flavour, localTime):
        self.db = db
        self.flavour = flavour
        self.localTime = localTime
        self.package = ('z3c.taskqueue' if flavour == 'z3c'
                        else 'lovely.remotetask')
        self.oid = db.newOid()
        self.jobsOid = db.newOid()
        self.queueOid = db.newOid()
        self.scheduledQueueOid = db.newOid()
        self.scheduledJobsOid = db.newOid()
        self.jobs = []
        self.queue = []
        self.scheduledQueue = []
        self.scheduledJobs = {}
        self.attributes = {}
        self.extraRecords = {}

    def jobClass(self, cron):
        return Global(self.package + '.job', 'CronJob' if cron else 'Job')

    def queueClass(self, legacy=False):
        # zc.queue 1.0, which early lovely.remotetask used, had only
        # PersistentQueue.
        return Global('zc.queue._queue',
                      'PersistentQueue' if legacy else 'Queue')

    def addJob(self, role, jobid, task='echo', input=None, cron=False,
               **state):
        job = OldJob(self, self.db.newOid(), role, jobid, cron, id=jobid,
                     task=task, input=input, **state)
        self.jobs.append(job)
        return job

    def error(self, name, *args, module=None):
        """An exception instance, as lovely.remotetask stored errors."""
        return Reduce(Global(module or 'exceptions', name), args)

    def taskError(self, *args):
        return Reduce(Global(self.package + '.task', 'TaskError'), args)

    def interface(self, name):
        return Global(self.package + '.interfaces', name)

    def records(self):
        """Return the records of the service, its containers and jobs."""
        legacy = self.flavour == 'lovely'
        attributes = {Str(b'jobs'): Ref(self.jobsOid, self.bTree()),
                      Str(b'_queue'): Ref(self.queueOid,
                                          self.queueClass(legacy)),
                      Str(b'_scheduledQueue'): Ref(self.scheduledQueueOid,
                                                   self.queueClass()),
                      Str(b'_scheduledJobs'): Ref(self.scheduledJobsOid,
                                                  self.bTree())}
        attributes.update(self.attributes)
        records = {
            self.oid: (Global(self.package + '.service', 'TaskService'),
                       attributes),
            self.jobsOid: (self.bTree(), self.treeState(
                [(job.id, job.ref()) for job in self.jobs])),
            self.queueOid: (self.queueClass(legacy), {
                Str(b'_data'): tuple(job.ref() for job in self.queue)}),
            self.scheduledQueueOid: (self.queueClass(), {
                Str(b'_data'): tuple(job.ref()
                                     for job in self.scheduledQueue)}),
            self.scheduledJobsOid: (self.bTree(), self.treeState(
                [(when, tuple(job.ref() for job in jobs))
                 for when, jobs in sorted(self.scheduledJobs.items())])),
        }
        for job in self.jobs:
            records[job.oid] = (job.ref().cls, self.jobState(job))
        records.update(self.extraRecords)
        return records

    def jobState(self, job):
        state = {}
        for name, value in job.state.items():
            if isinstance(value, datetime.datetime):
                value = DateTime(value)
            state[Str(name.encode())] = value
        return state

    @staticmethod
    def bTree():
        return Global('BTrees.IOBTree', 'IOBTree')

    @staticmethod
    def treeState(items):
        """The state of an ``IOBTree`` of one bucket (or of none)."""
        if not items:
            return None
        flat = tuple(value for item in sorted(items, key=lambda i: i[0])
                     for value in item)
        return (((flat,),),)


def oldService(path, protocol, flavour='z3c', now=None, localTime=None,
               future=True):
    """Write the FileStorage ``path`` of a task service of layout version 0
    under the root key ``tasks``, as the old ``flavour`` of the package
    left it at ``now`` (seconds since the epoch); return a dict of the
    jobs' ids by their role, and ``now``.

    ``localTime`` turns seconds into the naive datetimes the old server
    stored (default: ``datetime.fromtimestamp``, this process's zone).
    Without ``future``, no job waits for a delay that ends after ``now``.
    """
    if now is None:
        import time
        now = int(time.time())
    if localTime is None:
        localTime = datetime.datetime.fromtimestamp
    db = Database(path, protocol)
    # ZODB makes the root first, in a transaction of its own.
    root = p64(0)
    rootClass = Global('persistent.mapping', 'PersistentMapping')
    db.commit({root: (rootClass, {Str(b'data'): {}})}, 'initial database')
    service = OldService(db, flavour, localTime)
    added = _jobs(service, now, future)
    # The service as created, then the jobs as added, then as the old
    # server left them: several transactions, several revisions.
    empty = {service.oid: (Global(service.package + '.service',
                                  'TaskService'),
                           {Str(b'jobs'): Ref(service.jobsOid,
                                              service.bTree())})}
    empty[service.jobsOid] = (service.bTree(), None)
    db.commit(empty, '/tasks: added the task service')
    db.commit({root: (rootClass, {Str(b'data'): {
        Str(b'tasks'): Ref(service.oid, Global(
            service.package + '.service', 'TaskService'))}})},
        '/tasks: registered')
    db.commit(added, '/tasks: jobs added', user=' admin')
    db.commit(service.records(), '/tasks: processed')
    db.close()
    ids = {job.role: job.id for job in service.jobs}
    return ids


def _jobs(service, now, future):
    """Add the jobs of every kind to ``service``; return the records of
    the service and its jobs as they were when the jobs were added."""
    local = service.localTime
    lovely = service.flavour == 'lovely'
    utc = datetime.datetime.fromtimestamp(now, datetime.timezone.utc)
    # The cron jobs fire at an hour far from now: never while a test
    # runs.
    hour = (utc.hour + 12) % 24
    lastFive = utc.replace(minute=5, second=0, microsecond=0, hour=hour)
    if epoch(lastFive) > now:
        lastFive -= datetime.timedelta(days=1)
    nextFifteen = utc.replace(minute=15, second=0, microsecond=0, hour=hour)
    if epoch(nextFifteen) <= now:
        nextFifteen += datetime.timedelta(days=1)
    lastFive, nextFifteen = epoch(lastFive), epoch(nextFifteen)
    jobid = iter(range(1_500_000_000, 1_500_001_000, 7))

    def times(ago, ran=None):
        state = {'created': local(now - ago)}
        if ran is not None:
            state['started'] = local(now - ran)
            state['completed'] = local(now - ran + 2)
        return state

    add = service.addJob
    q1 = add('queued-1', next(jobid), input='eins', status=Str(b'queued'),
             **times(3000))
    q2 = add('queued-2', next(jobid), input=Str(b'zwei'),
             status=Str(b'queued'), **times(2900))
    q3 = add('queued-3', next(jobid), input='Gr\xfc\xdfe',
             status=Str(b'queued'), **times(2800))
    add('startlater', next(jobid), input='sp\xe4ter',
        status=Str(b'start later'), **times(2700))
    add('completed', next(jobid), input='x', output='Ergebnis: \xfc',
        status=Str(b'completed'), **times(2600, 2500))
    add('completed-latin1', next(jobid), input='x', output=Str(b'caf\xe9'),
        status=Str(b'completed'), **times(2600, 2500))
    leftover = add('completed-in-queue', next(jobid), input='y',
                   output='y', status=Str(b'completed'), **times(2550, 2540))
    if lovely:
        errors = {
            'error-exception': service.taskError(Str(b'task failed')),
            'error-valueerror': service.error('ValueError',
                                              Str(b'ung\xfcltig')),
            'error-lookup': service.error(
                'ComponentLookupError', service.interface('ITask'), 'gone',
                module='zope.component.interfaces'),
            'error-empty': service.error('KeyError'),
        }
    else:
        errors = {
            'error-str': Str(b'integer division or modulo by zero'),
            'error-latin1': Str(b'Datei \xfcberschrieben'),
            'error-utf8': Str('Fehler: \xfc'.encode('utf-8')),
            # Before 0.2.1, the exception itself.
            'error-exception': service.taskError(Str(b'task failed')),
        }
    for role, error in errors.items():
        add(role, next(jobid), input='e', status=Str(b'error'), error=error,
            **times(2400, 2300))
    add('cancelled', next(jobid), input='c', status=Str(b'cancelled'),
        **times(2200))
    processing = add('processing', next(jobid), input='running',
                     status=Str(b'processing'), **times(2100, 2000))
    # Taken from the queue by the old MultiProcessor's claimNextJob(),
    # whose run never committed: queued, and in no queue.
    add('lost', next(jobid), input='lost', status=Str(b'queued'),
        **times(2050))
    del processing.state['completed']

    def cron(role, status, delay=None, **fields):
        values = dict(minute=(), hour=(), dayOfMonth=(), month=(),
                      dayOfWeek=())
        values.update(fields)
        return add(role, next(jobid), input=role, cron=True,
                   status=Str(status), delay=delay, **values, **times(1900))

    cronDue = cron('cron-due', b'cronjob', minute=(5,), hour=(hour,))
    cronDue.state['scheduledFor'] = local(lastFive)
    cronFuture = cron('cron-future', b'cronjob', minute=(15,), hour=(hour,))
    cronFuture.state['scheduledFor'] = local(nextFifteen)
    cronNew = cron('cron-new', b'cronjob', minute=(45,), hour=(hour,))
    cronCancelled = cron('cron-cancelled', b'cancelled', minute=(5,),
                         hour=(hour,))
    cronCancelled.state['scheduledFor'] = local(lastFive)
    delayedDue = cron('delayed-due', b'delayed', delay=60)
    delayedDue.state['scheduledFor'] = local(now - 100)
    delayedNew = cron('delayed-new', b'delayed', delay=1)
    scheduled = {lastFive: [cronDue, cronCancelled],
                 nextFifteen: [cronFuture], now - 100: [delayedDue]}
    if future:
        delayedFuture = cron('delayed-future', b'delayed', delay=86400)
        delayedFuture.state['scheduledFor'] = local(now + 86000)
        scheduled[now + 86000] = [delayedFuture]
    # What the jobs were when added: queued, or waiting to be scheduled.
    added = {}
    for job in service.jobs:
        state = dict(job.state)
        for name in ('output', 'error', 'started', 'completed',
                     'scheduledFor'):
            state.pop(name, None)
        if job.cron:
            state['status'] = Str(b'delayed' if job.state['delay'] else
                                  b'cronjob')
        elif job.role != 'startlater':
            state['status'] = Str(b'queued')
        added[job.oid] = (job.ref().cls, service.jobState(
            OldJob(service, job.oid, job.role, job.id, job.cron, **state)))
    service.queue = [job for job in service.jobs
                     if added[job.oid][1][Str(b'status')] == b'queued']
    service.scheduledQueue = [job for job in service.jobs if job.cron]
    added.update({oid: record for oid, record in service.records().items()
                  if oid not in added})
    # As the old server left them.
    service.queue = [q2, q1, leftover, q3]
    service.scheduledQueue = [cronNew, delayedNew]
    service.scheduledJobs = scheduled
    if lovely:
        service.attributes[Str(b'_counter')] = len(service.jobs)
        service.attributes[Str(b'processorFactory')] = Global(
            'lovely.remotetask.processor', 'SimpleProcessor')
    else:
        service.attributes[Str(b'processorFactory')] = Global(
            'z3c.taskqueue.processor', 'MultiProcessor')
        service.attributes[Str(b'processorArguments')] = {
            Str(b'waitTime'): 0.5, Str(b'maxThreads'): 2}
        # zope.annotation's attribute annotations.
        annotations = service.db.newOid()
        tree = Global('BTrees.OOBTree', 'OOBTree')
        service.attributes[Str(b'__annotations__')] = Ref(annotations, tree)
        service.extraRecords[annotations] = (tree, service.treeState(
            [(Str(b'my.annotation'), 'kept')]))
    service.attributes[Str(b'__name__')] = 'tasks'
    return added
