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
"""Print how a Zope site in its production shape takes jobs added over
HTTP (a ZEO server, two web instances, two worker processes), next to
one instance on a FileStorage with the site's processor thread, and
which objects conflict."""
import argparse
import base64
import collections
import http.client
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import urllib.parse

from z3c.taskqueue import testing

import _harness


HERE = os.path.dirname(os.path.abspath(__file__))

SECONDS = 60            # seconds of load
QUICK_SECONDS = 15
CLIENTS = 8             # HTTP client threads
WEB_INSTANCES = 2
WORKERS = 2             # worker processes, --threads 1 each (the default)

START_TIMEOUT = 240     # seconds for a Zope process to start
REQUEST_TIMEOUT = 60    # seconds for one HTTP request
# Jobs whose commit keeps conflicting are given back to wait up to a
# minute between tries: a drain may take a few of those.
DRAIN_TIMEOUT = 900
STOP_TIMEOUT = 60       # seconds for a process to stop on SIGTERM
POLL = 0.5              # seconds between looks while draining
EARLY = 5               # seconds of load in which a new site settles

USER = 'admin'
PASSWORD = 'admin'
SITE = 'site1'
SERVICE = 'site1@tasks'
PACKAGE = 'taskqueue_bench'

TREES = 1               # the task's LOBTrees (--trees)


# What the benchmark writes: an application package for the instances,
# and the script that makes the site.

APP = '''\
"""The benchmark's application: a view that adds one job, the task,
a subscriber that logs the conflicts of requests, and views that tell
the benchmark how the site is doing (written by bench_zope.py, which
puts the benchmarks' directory on the PYTHONPATH for _harness)."""
import json
import logging

import zope.component
import zope.interface
from ZODB.POSException import ConflictError
from ZODB.utils import p64
from zope.component.hooks import getSite

from z3c.taskqueue.processing import _threads
from z3c.taskqueue import interfaces

import _harness


log = logging.getLogger('taskqueue_bench')


def service():
    return zope.component.getUtility(interfaces.ITaskService, name='tasks')


class View:

    def __init__(self, context, request):
        self.context = context
        self.request = request

    def json(self, data):
        self.request.response.setHeader('Content-Type', 'application/json')
        return json.dumps(data, default=str)


class Add(View):
    """POST: add one job of ``bench-record``; answer its id."""

    def __call__(self):
        if self.request.get('REQUEST_METHOD') != 'POST':
            self.request.response.setStatus(405)
            return 'POST only'
        return str(service().add('bench-record'))


@zope.interface.implementer(interfaces.ITask)
class Record:
    """Insert one record into the site's LOBTree ``records``, keyed by
    the job's id: 1, or more if the job's effect were committed again.
    (With --trees N, ``records`` is a tuple of N LOBTrees, and the job's
    id picks one.)"""

    inputSchema = outputSchema = retryPolicy = None

    def __call__(self, service, jobid, input):
        records = getSite().records
        if isinstance(records, tuple):
            records = records[jobid % len(records)]
        records[jobid] = records.get(jobid, 0) + 1


def _trees(records):
    return records if isinstance(records, tuple) else (records,)


def logConflict(event):
    """Log each request that a conflict aborts, with the error, which
    names the object."""
    error = event.exc_info[1]
    if isinstance(error, ConflictError):
        log.warning('bench: request conflict, %s: %s',
                    'retried' if event.retry else 'FAILED', error)


class Status(View):
    """The jobs by status, and the counts of this process's processors."""

    def __call__(self):
        processors = [
            {'name': p.name, 'processed': p.processed, 'failed': p.failed,
             'conflicts': p.conflicts}
            for thread, p in list(_threads._threads.values())]
        return self.json({'counts': service().countJobs(),
                          'processors': processors})


class Check(View):
    """Every job's status, and the site's records against the completed
    jobs."""

    def __call__(self):
        tasks = service()
        statuses = {}
        completed = set()
        errors = []
        for jobid in list(tasks.jobs.keys()):
            status = tasks.getStatus(jobid)
            statuses[status] = statuses.get(status, 0) + 1
            if status == interfaces.COMPLETED:
                completed.add(jobid)
            elif status == interfaces.ERROR and len(errors) < 5:
                errors.append([jobid, tasks.getError(jobid)])
        records = {}
        for tree in _trees(self.context.records):
            records.update(tree.items())
        missing = sorted(completed - set(records))
        extra = sorted(set(records) - completed)
        doubled = sorted(jobid for jobid, count in records.items()
                         if count != 1)
        return self.json({
            'jobs': len(tasks.jobs), 'statuses': statuses,
            'completed': len(completed), 'records': len(records),
            'missing': len(missing), 'extra': len(extra),
            'doubled': len(doubled),
            'examples': {'missing': missing[:5], 'extra': extra[:5],
                         'doubled': doubled[:5]},
            'errors': errors})


class Map(View):
    """POST ``oids=0x1,0x2``: name what each object is: a part of an
    index of the service (by attribute), a job, a lease, or the task's
    records; and its class."""

    def __call__(self):
        tasks = service()
        names = _harness.ObjectNames()
        names.add('service', tasks)
        names.add_service(tasks)
        for tree in _trees(self.context.records):
            names.add('task: records', tree)
        found = {}
        jar = tasks._p_jar
        for text in self.request.form.get('oids', '').split(','):
            if not text:
                continue
            oid = p64(int(text, 16))
            try:
                cls = type(jar.get(oid))
                cls = '%s.%s' % (cls.__module__, cls.__name__)
            except Exception:
                cls = '?'
            name = names.get(oid)
            if name is None:
                short = cls.rsplit('.', 1)[-1]
                name = {'Job': 'a job', 'CronJob': 'a job',
                        'Lease': 'a lease'}.get(short, 'elsewhere')
                if short.endswith(('Bucket', 'Set')):
                    name = 'a bucket since removed from its tree'
            found[text] = [name, cls]
        return self.json(found)
'''

ZCML = '''\
<configure
    xmlns="http://namespaces.zope.org/zope"
    xmlns:browser="http://namespaces.zope.org/browser"
    xmlns:taskqueue="http://namespaces.zope.org/taskqueue">
  <include package="Products.Five" file="meta.zcml" />
  <include package="z3c.taskqueue" />
  <browser:page name="bench-add" for="OFS.interfaces.IObjectManager"
      class=".Add" permission="zope2.View" />
  <browser:page name="bench-status" for="OFS.interfaces.IObjectManager"
      class=".Status" permission="zope2.ViewManagementScreens" />
  <browser:page name="bench-check" for="OFS.interfaces.IObjectManager"
      class=".Check" permission="zope2.ViewManagementScreens" />
  <browser:page name="bench-map" for="OFS.interfaces.IObjectManager"
      class=".Map" permission="zope2.ViewManagementScreens" />
  <subscriber for="ZPublisher.interfaces.IPubBeforeAbort"
      handler=".logConflict" />
  <taskqueue:task name="bench-record" factory=".Record" />
</configure>
'''

SETUP = '''\
import transaction
from BTrees.LOBTree import LOBTree
from Products.Five.component.browser import ObjectManagerSiteView
from z3c.taskqueue import interfaces
from z3c.taskqueue.model.service import TaskService
app.manage_addFolder(%(site)r)
site = app[%(site)r]
ObjectManagerSiteView(site, None).makeSite()
site.getSiteManager().registerUtility(
    TaskService(), interfaces.ITaskService, 'tasks')
trees = int(%(trees)r)
site.records = LOBTree() if trees == 1 else tuple(
    LOBTree() for i in range(trees))
transaction.commit()
print('set up')
'''

ZEO_CLIENT = '''\
<zodb_db main>
    <zeoclient>
      server 127.0.0.1:%(port)d
      client-label %(label)s
    </zeoclient>
    mount-point /
</zodb_db>'''

AUTOSTART = '''
<product-config z3c.taskqueue>
    autostart %s
</product-config>
''' % SERVICE


def serveZEO(address, path, conflicts):
    """Run a ZEO server (runzeo) that logs every commit it refuses for a
    conflict to the file ``conflicts``: the ZEO server logs them at
    BLATHER, naming the client (its client-label), the oid and, for a
    write conflict, the class."""
    import logging
    from ZEO import runzeo
    logger = logging.getLogger('ZEO.StorageServer')
    logger.setLevel(5)
    logger.propagate = False
    found = logging.FileHandler(conflicts)
    found.addFilter(lambda record: 'conflict error' in record.getMessage())
    found.setFormatter(logging.Formatter('%(created).3f %(message)s'))
    logger.addHandler(found)
    console = logging.StreamHandler()
    console.setLevel(logging.INFO)
    logger.addHandler(console)
    runzeo.main(['-a', address, '-f', path])


# Processes

class Processes:
    """The processes the benchmark started; ``stopAll()`` stops those
    still running, the last started first."""

    def __init__(self, environ):
        self.environ = environ
        self.running = []

    def start(self, command, log):
        with open(log, 'ab') as out:
            process = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, env=self.environ)
        self.running.append(process)
        return process

    def run(self, command, log, timeout=START_TIMEOUT):
        """Run ``command`` to its end; raise if it fails."""
        process = self.start(command, log)
        try:
            process.wait(timeout)
        finally:
            self.stop(process)
        if process.returncode != 0:
            raise RuntimeError('%s failed:\n%s' % (
                ' '.join(command), _harness.tail(log)))

    def stop(self, process, timeout=STOP_TIMEOUT):
        """Stop ``process`` with SIGTERM, or SIGKILL if it hangs."""
        _harness.stop_processes([process], timeout)
        if process in self.running:
            self.running.remove(process)

    def stopAll(self):
        for process in reversed(list(self.running)):
            self.stop(process)


def answers(port):
    try:
        socket.create_connection(('127.0.0.1', port), 1).close()
    except OSError:
        return False
    return True


def waitForPort(port, process, log):
    _harness.wait_until(
        lambda: answers(port), START_TIMEOUT, 0.1,
        lambda: 'nothing answers on port %d:\n%s' % (port, _harness.tail(log)),
        [process])


def binary(name):
    return os.path.join(os.path.dirname(sys.executable), name)


class Instance:
    """A Zope instance made with mkwsgiinstance, with the benchmark's
    package; ``conf()`` and ``ini()`` write its configurations."""

    def __init__(self, directory, processes):
        self.directory = directory
        self.processes = processes
        self.home = os.path.join(directory, 'instance')
        self.etc = os.path.join(self.home, 'etc')
        self.logs = os.path.join(self.home, 'var', 'log')
        processes.run([binary('mkwsgiinstance'), '-d', self.home, '-u',
                       '%s:%s' % (USER, PASSWORD)],
                      os.path.join(directory, 'mkwsgiinstance.log'))
        includes = os.path.join(self.etc, 'package-includes')
        os.makedirs(includes, exist_ok=True)
        with open(os.path.join(includes, PACKAGE + '-configure.zcml'),
                  'w') as f:
            f.write('<include package="%s" />\n' % PACKAGE)
        with open(os.path.join(self.etc, 'zope.conf')) as f:
            self.baseConf = f.read()
        with open(os.path.join(self.etc, 'zope.ini')) as f:
            self.baseIni = f.read()

    def conf(self, name, database=None, autostart=False):
        """Write ``etc/<name>.conf`` with ``database`` (a <zodb_db main>
        section; the FileStorage of the instance if None)."""
        text = self.baseConf
        if database is not None:
            text, count = re.subn(r'<zodb_db main>.*?</zodb_db>',
                                  lambda m: database, text, flags=re.S)
            assert count == 1, 'no <zodb_db main> in zope.conf'
        if autostart:
            text += AUTOSTART
        path = os.path.join(self.etc, name + '.conf')
        with open(path, 'w') as f:
            f.write(text)
        return path

    def ini(self, name, port, conf):
        """Write ``etc/<name>.ini``: a WSGI server on 127.0.0.1:``port``
        for ``conf``, with logs of its own."""
        text = self.baseIni
        text = re.sub(r'(?m)^host = .*$', 'host = 127.0.0.1', text)
        text = re.sub(r'(?m)^port = .*$', 'port = %d' % port, text)
        text = re.sub(r'(?m)^zope_conf = .*$', 'zope_conf = %s' % conf,
                      text)
        text = text.replace('event.log', name + '-event.log')
        text = text.replace('Z4.log', name + '-access.log')
        path = os.path.join(self.etc, name + '.ini')
        with open(path, 'w') as f:
            f.write(text)
        return path

    def eventLog(self, name):
        return os.path.join(self.logs, name + '-event.log')

    def setUp(self, conf):
        path = os.path.join(self.directory, 'setup.py')
        with open(path, 'w') as f:
            f.write(SETUP % {'site': SITE, 'trees': TREES})
        log = os.path.join(self.directory, 'setup.log')
        self.processes.run([binary('zconsole'), 'run', conf, path], log)
        if 'set up' not in _harness.tail(log):
            raise RuntimeError('the site was not set up:\n'
                               + _harness.tail(log))

    def startWeb(self, name, conf):
        port = testing.freePort()
        ini = self.ini(name, port, conf)
        log = os.path.join(self.directory, name + '.log')
        process = self.processes.start([binary('runwsgi'), ini], log)
        return port, process, log

    def startWorker(self, name, conf):
        log = os.path.join(self.directory, name + '.log')
        process = self.processes.start(
            [binary('z3c-taskqueue'), 'worker', '--zope-conf', conf,
             '--service', SERVICE], log)
        return process, log


# HTTP

AUTHORIZATION = 'Basic ' + base64.b64encode(
    ('%s:%s' % (USER, PASSWORD)).encode()).decode()


class Client(threading.Thread):
    """POSTs @@bench-add to each port in turn until ``deadline``; keeps
    ``(status, seconds)`` of each request (status 0: no answer)."""

    def __init__(self, ports, deadline, first):
        super().__init__(daemon=True)
        self.ports = ports
        self.deadline = deadline
        self.first = first
        self.results = []

    def run(self):
        connections = {}
        turn = self.first
        while time.perf_counter() < self.deadline:
            port = self.ports[turn % len(self.ports)]
            turn += 1
            started = time.perf_counter()
            connection = connections.pop(port, None)
            try:
                if connection is None:
                    connection = http.client.HTTPConnection(
                        '127.0.0.1', port, timeout=REQUEST_TIMEOUT)
                connection.request(
                    'POST', '/%s/@@bench-add' % SITE, body=b'',
                    headers={'Authorization': AUTHORIZATION,
                             'Content-Type':
                             'application/x-www-form-urlencoded'})
                response = connection.getresponse()
                response.read()
                status = response.status
                if response.will_close:
                    connection.close()
                else:
                    connections[port] = connection
            except (OSError, http.client.HTTPException):
                status = 0
                if connection is not None:
                    connection.close()
            self.results.append((status, time.perf_counter() - started))
        for connection in connections.values():
            connection.close()


def load(ports, clients, seconds):
    """Run ``clients`` client threads for ``seconds``; return their
    results and the wall time."""
    started = time.perf_counter()
    threads = [Client(ports, started + seconds, number)
               for number in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + REQUEST_TIMEOUT + 10)
    elapsed = time.perf_counter() - started
    return [result for thread in threads for result in thread.results], \
        elapsed


def ask(port, view, form=None, timeout=300):
    """GET (or POST ``form`` to) a view of the site; return its JSON."""
    connection = http.client.HTTPConnection('127.0.0.1', port,
                                            timeout=timeout)
    try:
        body = None if form is None else urllib.parse.urlencode(form)
        headers = {'Authorization': AUTHORIZATION}
        if body is not None:
            headers['Content-Type'] = 'application/x-www-form-urlencoded'
        connection.request('GET' if body is None else 'POST',
                           '/%s/@@%s' % (SITE, view), body=body,
                           headers=headers)
        response = connection.getresponse()
        data = response.read()
        if response.status != 200:
            raise RuntimeError('@@%s answered %d: %s' % (
                view, response.status, data[:2000]))
        return json.loads(data)
    finally:
        connection.close()


WAITING = ('queued', 'processing', 'cronjob', 'delayed', 'blocked',
           'start later')


def drain(port):
    """Wait until no job waits or runs; return the seconds it took and
    the last status."""
    started = time.monotonic()
    while True:
        status = ask(port, 'bench-status')
        counts = status['counts']
        if not any(counts.get(name) for name in WAITING):
            return time.monotonic() - started, status
        if time.monotonic() - started > DRAIN_TIMEOUT:
            raise RuntimeError('the jobs did not drain in %d s: %r'
                               % (DRAIN_TIMEOUT, counts))
        time.sleep(POLL)


# Conflicts

SERVER_LINE = re.compile(r'\((?:(?P<label>\S+) )?[^()\s]+\) conflict error'
                         r' (?P<message>.*)')
REQUEST_LINE = re.compile(r'bench: request conflict, (?P<outcome>\w+):'
                          r' (?P<message>.*)')
OID = re.compile(r'oid (0x[0-9a-f]+)')
CLASS = re.compile(r'class ([\w.]+)')


class Conflict:
    """One conflict: who met it, on which object, of which kind."""

    when = None     # time.time(), if known

    def __init__(self, who, message):
        self.who = who
        self.read = 'read conflict' in message
        found = OID.search(message)
        self.oid = found.group(1) if found else None
        found = CLASS.search(message)
        self.cls = found.group(1) if found else None
        self.name = None


def serverConflicts(path):
    """The conflicts the ZEO server logged, by the client's label."""
    found = []
    for line in _harness.read(path).splitlines():
        match = SERVER_LINE.search(line)
        if match:
            label = match.group('label') or '?'
            conflict = Conflict(re.sub(r'\d+$', '', label),
                                match.group('message'))
            conflict.when = float(line.split(None, 1)[0])
            found.append(conflict)
    return found


def requestConflicts(paths):
    """The conflicts of requests the instances logged: retried ones and
    failed ones."""
    found = []
    for path in paths:
        for line in _harness.read(path).splitlines():
            match = REQUEST_LINE.search(line)
            if match:
                conflict = Conflict('web', match.group('message'))
                conflict.failed = match.group('outcome') == 'FAILED'
                found.append(conflict)
    return found


def nameConflicts(port, conflicts):
    """Name the objects of ``conflicts`` (see the view bench-map)."""
    oids = sorted({c.oid for c in conflicts if c.oid})
    names = ask(port, 'bench-map', {'oids': ','.join(oids)}) if oids else {}
    for conflict in conflicts:
        name, cls = names.get(conflict.oid, ['?', conflict.cls or '?'])
        conflict.name = name
        conflict.cls = conflict.cls or cls


# The two shapes

class Result:
    """What a shape measured."""

    failures = ()

    def __init__(self, title, requests, seconds):
        self.title = title
        self.requests = requests
        self.seconds = seconds
        self.statuses = collections.Counter(s for s, t in requests)
        latencies = sorted(t for s, t in requests)
        self.p50 = percentile(latencies, 0.50)
        self.p99 = percentile(latencies, 0.99)
        self.jobConflicts = None
        self.serverConflicts = None
        self.serverRefused = None
        self.requestConflicts = []

    @property
    def ok(self):
        return self.statuses.get(200, 0)

    @property
    def rate(self):
        return len(self.requests) / self.seconds

    def check(self):
        """Say what went wrong: failed requests, jobs in error or left,
        effects missing, doubled or extra."""
        problems = []
        failed = len(self.requests) - self.ok
        if failed:
            problems.append('%d requests failed (%s)' % (failed, ', '.join(
                '%s: %d' % (status or 'no answer', count) for status, count
                in sorted(self.statuses.items()) if status != 200)))
        check = self.checked
        if check['jobs'] != self.ok:
            problems.append('%d jobs for %d requests answered 200'
                            % (check['jobs'], self.ok))
        if check['statuses'].get('error'):
            problems.append('%d jobs in error: %r' % (
                check['statuses']['error'], check['errors']))
        left = check['jobs'] - check['completed'] - check['statuses'].get(
            'error', 0)
        if left:
            problems.append('%d jobs neither completed nor in error: %r'
                            % (left, check['statuses']))
        for what in ('missing', 'doubled', 'extra'):
            if check[what]:
                problems.append('%d effects %s, e.g. jobs %r' % (
                    check[what], what, check['examples'][what]))
        self.failures = problems
        return problems


def percentile(values, fraction):
    if not values:
        return float('nan')
    return values[min(len(values) - 1, int(fraction * len(values)))]


def measure(title, ports, clients, seconds):
    _harness.progress('%s: %d clients for %d s' % (title, clients, seconds))
    started = time.time()
    requests, elapsed = load(ports, clients, seconds)
    result = Result(title, requests, elapsed)
    result.started = started
    _harness.progress('%s: %d requests; waiting for the jobs'
                      % (title, len(requests)))
    result.drain, status = drain(ports[0])
    result.checked = ask(ports[0], 'bench-check', timeout=600)
    result.processors = status['processors']
    return result


def productionShape(directory, processes, clients, seconds):
    """A ZEO server, two web instances (ZEO clients, no autostart) and
    two worker processes (--zope-conf)."""
    instance = Instance(directory, processes)
    port = testing.freePort()
    conflictLog = os.path.join(directory, 'zeo-conflicts.log')
    serverLog = os.path.join(directory, 'zeo.log')
    server = processes.start(
        [sys.executable, os.path.abspath(__file__), '--serve-zeo',
         '127.0.0.1:%d' % port, os.path.join(directory, 'Data.fs'),
         conflictLog], serverLog)
    waitForPort(port, server, serverLog)

    def zeoConf(label):
        return instance.conf(label, ZEO_CLIENT % {'port': port,
                                                  'label': label})
    _harness.progress('production shape: setting up the site')
    instance.setUp(zeoConf('setup'))
    _harness.progress('production shape: starting %d web instances and'
                      ' %d workers' % (WEB_INSTANCES, WORKERS))
    webs = [instance.startWeb('web%d' % number, zeoConf('web%d' % number))
            for number in range(1, WEB_INSTANCES + 1)]
    workers = [instance.startWorker('worker%d' % number,
                                    zeoConf('worker%d' % number))
               for number in range(1, WORKERS + 1)]
    for webPort, process, log in webs:
        waitForPort(webPort, process, log)
    for process, log in workers:
        _harness.wait_for_line(_harness.READY, [process], [log],
                               START_TIMEOUT, 0.2)
    ports = [webPort for webPort, process, log in webs]
    result = measure('(1) ZEO', ports, clients, seconds)
    result.shape = ('ZEO server, %d web instances, %d worker processes'
                    % (WEB_INSTANCES, WORKERS))
    status = serverStatus(port)
    # Name the objects while the instances run.
    conflicts = serverConflicts(conflictLog)
    result.requestConflicts = requestConflicts(
        [instance.eventLog('web%d' % n)
         for n in range(1, WEB_INSTANCES + 1)])
    nameConflicts(ports[0], conflicts + result.requestConflicts)
    result.serverConflicts = conflicts
    result.serverRefused = status.get('conflicts')
    result.serverCommits = status.get('commits')
    totals = [0, 0, 0]
    for process, log in workers:
        processes.stop(process)
        found = _harness.stopped_counts(log)
        if found is None:
            raise RuntimeError('a worker did not stop cleanly:\n'
                               + _harness.tail(log))
        for index in range(3):
            totals[index] += found[index]
    result.workerTotals = totals
    result.jobConflicts = totals[2]
    return result


def serverStatus(port):
    """The ZEO server's counts (server_status())."""
    from ZEO.ClientStorage import ClientStorage
    storage = ClientStorage(('127.0.0.1', port), wait_timeout=30,
                            client_label='bench', read_only=True)
    try:
        return storage.server_status()
    finally:
        storage.close()


def oneInstance(directory, processes, clients, seconds):
    """One instance on a FileStorage; the site's processor thread (the
    service's SimpleProcessor, started by autostart) runs the jobs."""
    instance = Instance(directory, processes)
    conf = instance.conf('one', autostart=True)
    _harness.progress('one instance: setting up the site')
    instance.setUp(conf)
    _harness.progress('one instance: starting it')
    port, process, log = instance.startWeb('one', conf)
    waitForPort(port, process, log)
    result = measure('(2) one instance', [port], clients, seconds)
    result.shape = 'one instance, FileStorage, the site\'s processor thread'
    result.requestConflicts = requestConflicts([instance.eventLog('one')])
    nameConflicts(port, result.requestConflicts)
    result.jobConflicts = sum(p['conflicts'] for p in result.processors)
    return result


# Printing

def printHeader(clients, seconds, run):
    lines = [
        'z3c.taskqueue in a Zope site: %d HTTP clients POST a view that'
        ' adds one job, for %d s, (1) in production shape: a ZEO server,'
        ' %d web instances (runwsgi, ZEO clients, no autostart) taking'
        ' turns and %d worker processes (z3c-taskqueue worker --zope-conf,'
        ' one thread each); (2) one instance on a FileStorage whose'
        ' site\'s processor thread runs the jobs.  The task inserts one'
        ' record, keyed by the job\'s id, into %s of the site.'
        % (clients, seconds, WEB_INSTANCES, WORKERS, 'a LOBTree'
           if TREES == 1 else 'one of %d LOBTrees, picked by the job\'s'
           ' id,' % TREES),
        'Python %s; %s;' % (platform.python_version(), _harness.versions(
            'Zope', 'Products.CMFPlone', 'ZEO', 'ZODB', 'BTrees',
            'waitress', 'z3c.taskqueue')),
        '%s, shared by every process of the benchmark (and whatever else'
        ' runs); run started %s; %s.' % (_harness.machine(), run.started,
                                         run.loads()),
    ]
    _harness.print_wrapped(lines)
    print()


ROW = '%-36s %-14s %-14s %s'


def printResults(results):
    def cells(function, ratio=None):
        values = [function(result) for result in results]
        text = ['-' if v is None else v if isinstance(v, str) else
                format(v, ',') if isinstance(v, int) else '%.1f' % v
                for v in values]
        extra = ''
        if ratio and len(results) == 2 and None not in values:
            a, b = values
            if isinstance(a, str):
                a, b = ratio(results[0]), ratio(results[1])
            extra = '%.2f' % (a / b) if b else ('-' if not a else 'inf')
        return text + [''] * (2 - len(text)) + [extra]

    def row(label, function, ratio=None):
        _harness.print_row(ROW, label, *cells(function, ratio))

    titles = [result.title for result in results]
    if len(results) == 2:
        _harness.print_row(ROW, '', titles[0], titles[1], '(1)/(2)')
    else:
        _harness.print_row(ROW, '', titles[0], '', '')

    def perJob(result):
        if result.jobConflicts is None:
            return None
        jobs = max(result.checked['completed'], 1)
        return '%.3f (%d)' % (result.jobConflicts / jobs,
                              result.jobConflicts)

    def perRequest(result):
        count = len([c for c in result.requestConflicts])
        return '%.3f (%d)' % (count / max(len(result.requests), 1), count)

    row('requests', lambda r: len(r.requests), True)
    row('requests/s', lambda r: r.rate, True)
    row('answered 200', lambda r: r.ok)
    row('failed (other status, no answer)',
        lambda r: len(r.requests) - r.ok)
    row('latency p50 (ms)', lambda r: r.p50 * 1000, True)
    row('latency p99 (ms)', lambda r: r.p99 * 1000, True)
    row('jobs added', lambda r: r.checked['jobs'])
    row('jobs completed', lambda r: r.checked['completed'])
    row('jobs in error', lambda r: r.checked['statuses'].get('error', 0))
    row('effects committed once', lambda r: '%s of %s' % (
        format(r.checked['records'] - r.checked['doubled']
               - r.checked['extra'], ','),
        format(r.checked['completed'], ',')))
    row('effects missing/doubled/extra', lambda r: '%d/%d/%d' % (
        r.checked['missing'], r.checked['doubled'], r.checked['extra']))
    row('drain after the load (s)', lambda r: r.drain)
    row('conflicts per job (workers)', perJob,
        lambda r: r.jobConflicts / max(r.checked['completed'], 1))
    row('conflicts per request (retries)', perRequest,
        lambda r: len(r.requestConflicts) / max(len(r.requests), 1))
    row('requests failed on a conflict', lambda r: len(
        [c for c in r.requestConflicts if c.failed]))
    row('ZEO server: commits refused', lambda r: r.serverRefused)
    print()


def printBreakdown(result):
    conflicts = result.serverConflicts
    if conflicts is None:
        conflicts = result.requestConflicts
        source = ('the conflicts of requests in the instance\'s event log'
                  ' (the processor thread\'s are counted, not named)')
    else:
        source = 'every commit the ZEO server refused, by who committed'
    print(textwrap.fill('%s, which objects conflicted: %s.' % (
        result.title, source), 79))
    if not conflicts:
        print('    none')
        print()
        return
    kinds = collections.Counter()
    whos = sorted({c.who for c in conflicts})
    for c in conflicts:
        kinds[(c.name, c.cls or '?', c.who, c.read)] += 1
    rows = collections.defaultdict(collections.Counter)
    for (name, cls, who, read), count in kinds.items():
        rows[(name, cls.rsplit('.', 1)[-1])][(who, read)] += count
    form = '%-34s %-13s' + ' %9s' * len(whos)
    print(form % (('object', 'class') + tuple(
        '%s w/r' % who for who in whos)))
    for (name, cls), counts in sorted(
            rows.items(), key=lambda item: -sum(item[1].values())):
        print(form % ((name[:34], cls[:13]) + tuple(
            '%d/%d' % (counts[(who, False)], counts[(who, True)])
            for who in whos)))
    print(form % (('all', '') + tuple(
        '%d/%d' % (len([c for c in conflicts if c.who == who
                        and not c.read]),
                   len([c for c in conflicts if c.who == who and c.read]))
        for who in whos)))
    timed = [c for c in conflicts if c.when is not None]
    if timed:
        early = [c for c in timed if c.when < result.started + EARLY]
        print(textwrap.fill(
            'Of these, %d in the first %d s of the load, when the site\'s'
            ' service is new and the web instances\' jobs still share'
            ' buckets (%s).' % (len(early), EARLY, ', '.join(
                '%s %d' % (who, len([c for c in early if c.who == who]))
                for who in whos)), 79))
    print()


NOTES = '''\
Requests: each client thread POSTs @@bench-add (Basic auth, keep-alive)
to the web instances in turn; a request's latency runs from sending it
to reading its answer.  Jobs: after the load, the benchmark waits until
no job waits or runs, then @@bench-check looks at every job and at the
site's LOBTree: each completed job must have exactly one record, with
the count 1 (its effect committed once), and no other record may exist.
Conflicts per job: the workers' own count (the K of "Worker ... stopped:
N jobs completed, M failed, K conflicts"), or the processor thread's in
(2): every ConflictError a job's run, or a claim, met.  Conflicts per
request: the requests that a ConflictError aborted, as the instances
logged them (a subscriber of IPubBeforeAbort); Zope retried all but
those counted as failed.  The breakdown names each object by the
attribute of the service that holds it (jobs: the IOBTree of the jobs;
_queues._byName[]: a queue's shard; _history._shards: a history shard;
_statuses._sets: a status's id set; _claims._byJob: the claims;
_throughput: the finished jobs per minute), by its part (the tree, an
inner node or a bucket), "task: records" for the task's LOBTree, or by
its class; w/r: write conflicts (the server could not resolve them) and
read conflicts (an object read current, as BTrees read every inner
node they change through, had changed since).'''


def main(argv=None):
    global TREES
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ['--serve-zeo']:
        return serveZEO(*argv[1:])
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--seconds', type=float, default=None,
                        help='seconds of load (default %d)' % SECONDS)
    parser.add_argument('--clients', type=int, default=CLIENTS,
                        help='HTTP client threads (default %(default)s)')
    _harness.add_quick(parser,
                       '%d s of load, not %d' % (QUICK_SECONDS, SECONDS))
    parser.add_argument('--only', choices=['zeo', 'one'],
                        help='measure one shape only')
    _harness.add_no_fail(parser, 'exit 0 even if a request failed, a job'
                         ' ended in error or an effect is missing or'
                         ' doubled')
    parser.add_argument('--trees', type=int, default=TREES,
                        help='spread the task\'s records over this many'
                        ' LOBTrees, by job id (default %(default)s)')
    _harness.add_tmpdir(parser, 'where the instances and databases go')
    parser.add_argument('--keep', action='store_true',
                        help='keep the instances, databases and logs')
    args = parser.parse_args(argv)
    if not os.path.exists(binary('mkwsgiinstance')):
        parser.exit(2, '%s: Zope is not installed\n' % parser.prog)
    if args.clients < 1 or (args.seconds is not None
                            and not 1 <= args.seconds <= 3600):
        parser.error('--clients must be at least 1, --seconds from 1'
                     ' to 3600')
    seconds = args.seconds or (QUICK_SECONDS if args.quick else SECONDS)
    if not 1 <= args.trees <= 1000:
        parser.error('--trees must be from 1 to 1000')
    TREES = args.trees

    def interrupted(signum, frame):
        raise KeyboardInterrupt()
    signal.signal(signal.SIGTERM, interrupted)

    directory = tempfile.mkdtemp(prefix='bench-zope-', dir=args.tmpdir)
    lib = os.path.join(directory, 'lib', PACKAGE)
    os.makedirs(lib)
    with open(os.path.join(lib, '__init__.py'), 'w') as f:
        f.write(APP)
    with open(os.path.join(lib, 'configure.zcml'), 'w') as f:
        f.write(ZCML)
    environ = dict(os.environ, PLONE_CSRF_DISABLED='true')
    # The application imports _harness from this script's directory.
    environ['PYTHONPATH'] = os.pathsep.join(
        [os.path.join(directory, 'lib'), HERE]
        + [p for p in [environ.get('PYTHONPATH')] if p])
    environ.pop('Z3C_TASKQUEUE_AUTOSTART', None)
    run = _harness.Run()
    results = []
    processes = Processes(environ)
    try:
        shapes = [('zeo', productionShape), ('one', oneInstance)]
        for name, shape in shapes:
            if args.only in (None, name):
                path = os.path.join(directory, name)
                os.makedirs(path)
                try:
                    results.append(shape(path, processes, args.clients,
                                         seconds))
                finally:
                    processes.stopAll()
    finally:
        processes.stopAll()
        if args.keep:
            _harness.progress('kept %s' % directory)
        else:
            shutil.rmtree(directory, ignore_errors=True)

    printHeader(args.clients, seconds, run)
    printResults(results)
    for result in results:
        printBreakdown(result)
    print(NOTES)
    print()
    failures = [(result, result.check()) for result in results]
    for result, problems in failures:
        for problem in problems:
            print('FAILED %s: %s' % (result.title, problem))
    return run.end(not any(problems for result, problems in failures),
                   args, goals=False)


if __name__ == '__main__':
    sys.exit(main())
