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
"""What each page of the dashboard shows, read from the service.

Every function takes the service (on the dashboard's own connection)
and the request's query, and returns the names its template uses.  A
bad query is a ``BadRequest``, an unknown job a ``NotFound``: both
become 4xx pages, never a traceback.
"""
import time
import urllib.parse

from z3c.taskqueue import interfaces
from z3c.taskqueue.model.job import loads
from z3c.taskqueue.model.queues import checkName
from z3c.taskqueue.reports.jobs import age as _age
from z3c.taskqueue.reports.jobs import cronDetails
from z3c.taskqueue.reports.jobs import cronJobIds
from z3c.taskqueue.reports.jobs import cut as _cut
from z3c.taskqueue.reports.jobs import describe
from z3c.taskqueue.reports.jobs import failedJobs
from z3c.taskqueue.reports.jobs import summary
from z3c.taskqueue.reports.status import statusReport
from z3c.taskqueue.reports.status import workersReport


#: Jobs a page of the job list shows.
PAGE = 50

#: The longest query value the dashboard takes.
MAX_VALUE = 200

#: How many of the newest jobs the task filter looks at for task names,
#: besides the tasks registered here and in the workers.
TASK_SCAN = 200


class BadRequest(Exception):
    """The request asks for what makes no sense (400)."""


class NotFound(Exception):
    """The request asks for what is not there (404)."""


def overview(service, query, base, chart):
    report = statusReport(service, time.time())
    age = report['oldest queued age']
    return {
        'title': 'Overview',
        'counts': [{'name': name, 'count': count, 'url': _quote(name),
                    'css': _css(name)}
                   for name, count in report['jobs'].items()],
        'queues': [{'name': name, 'count': count, 'url': _quote(name)}
                   for name, count in sorted(report['queues'].items())],
        'oldest': 'none' if age is None else '%s old' % _age(age),
        'finished': [{'period': period, 'counts': counts}
                     for period, counts in report['finished'].items()],
        'chart': chart,
    }


def jobs(service, query, base, hidePayloads=False):
    status = _one(query, 'status')
    if status is not None and status not in interfaces.STATUSES:
        raise BadRequest('there is no job status %r' % (status,))
    queue = _queueOf(query)
    task = _one(query, 'task')
    after = _one(query, 'after')
    if after is not None:
        try:
            after = int(after)
        except ValueError:
            raise BadRequest('after must be a cursor of this page, not %r'
                             % (after,)) from None
    try:
        ids, cursor = service.listJobs(status=status, task=task,
                                       queue=queue, limit=PAGE, after=after)
    except ValueError as error:
        raise BadRequest(str(error)) from None
    now = time.time()
    rows = []
    for jobid in ids:
        row = summary(service, jobid, now)
        row.update(moment(None if row['age'] is None else now - row['age'],
                          now, 'created'))
        row['age'] = _age(row['age'])
        row['error'] = _cut(row['error'] or '', 80)
        row['css'] = _css(row['status'])
        rows.append(row)
    following = None
    if cursor is not None:
        following = '%s/jobs?%s' % (base, urllib.parse.urlencode(
            [(name, value) for name, value in (('status', status),
                                               ('task', task),
                                               ('queue', queue))
             if value] + [('after', cursor)]))
    retry = urllib.parse.urlencode([(name, value) for name, value in (
        ('task', task), ('queue', queue)) if value])
    return {'title': 'Jobs', 'rows': rows, 'next': following,
            'cursor': cursor,
            'retryFailed': '%s/retry-failed%s' % (base, retry and '?' + retry),
            'statuses': interfaces.STATUSES, 'status': status or '',
            'task': task or '', 'queue': queue or ''}


def filterChoices(service, page):
    """Return the task and queue names the filters of the job list
    offer (``page`` is what ``jobs()`` returned): the queues ever used,
    and the tasks registered here, in the workers and of the newest jobs,
    with those of the page and the current filter."""
    queues = set(service.countQueued())
    tasks = set(service.getAvailableTasks())
    for worker in service.workers():
        tasks.update(worker['tasks'])
    ids, unused = service.listJobs(limit=TASK_SCAN, scan=TASK_SCAN)
    for jobid in ids:
        job = service.jobs.get(jobid)
        if job is not None and loads(job):
            tasks.add(job.task)
    tasks.update(row['task'] for row in page['rows'] if row['task'] != '?')
    for names, chosen in ((tasks, page['task']), (queues, page['queue'])):
        if chosen:
            names.add(chosen)
    return {'tasks': sorted(tasks), 'queues': sorted(queues)}


def retryFailed(service, query, base):
    """What the confirmation of retrying the failed jobs of a filter
    shows: how many there are."""
    task, queue = failedFilter(query)
    count = len(failedJobs(service, task, queue))
    return {'title': 'Retry failed jobs', 'count': count, 'task': task,
            'queue': queue, 'back': failedJobsURL(base, task, queue)}


def failedJobsURL(base, task, queue):
    """Return the URL of the list of the failed jobs of ``task`` in
    ``queue`` (None: any)."""
    return '%s/jobs?%s' % (base, urllib.parse.urlencode(
        [('status', interfaces.ERROR)] + [
            (name, value) for name, value in (('task', task),
                                              ('queue', queue)) if value]))


def failedFilter(query):
    """Return the task and the queue of the query of a retry of failed
    jobs, checked (None: any)."""
    return _one(query, 'task'), _queueOf(query)


def _queueOf(query):
    """Return the queue the query names, checked (None: any)."""
    queue = _one(query, 'queue')
    if queue is not None:
        try:
            checkName(queue)
        except ValueError as error:
            raise BadRequest(str(error)) from None
    return queue


def find(service, query, base):
    """Return the URL of the job the query's ``id`` names."""
    jobid = jobId(_one(query, 'id') or '')
    if jobid not in service.jobs:
        raise NotFound('there is no job %d' % jobid)
    return '%s/jobs/%d' % (base, jobid)


def job(service, jobid, base, hidePayloads=False):
    if jobid not in service.jobs:
        raise NotFound('there is no job %d' % jobid)
    details = describe(service, jobid)
    if hidePayloads:
        for name in ('input', 'output'):
            if name in details:
                details[name] = '(hidden)'
    progress = None
    found = service.getProgress(jobid) if 'task' in details else None
    if found is not None:
        progress = {'percent': round(found[0] * 100),
                    'text': details.get('progress')}
    rows = []
    for name, value in details.items():
        if value is None or value == [] or value == ():
            continue
        links = value if name in ('after', 'waiting for') else None
        if isinstance(value, list) and links is None:
            value = ', '.join(map(str, value))
        rows.append({'name': name, 'value': value, 'links': links,
                     'long': isinstance(value, str) and '\n' in value})
    status = details.get('status')
    return {'title': 'Job %d' % jobid, 'details': rows,
            'progress': progress, 'jobid': jobid,
            'cancellable': status in (
                interfaces.QUEUED, interfaces.CRONJOB, interfaces.DELAYED,
                interfaces.STARTLATER, interfaces.BLOCKED),
            'retriable': status in (interfaces.ERROR,
                                    interfaces.CANCELLED)}


def cron(service, query, base):
    rows = []
    for jobid in sorted(cronJobIds(service)):
        row = {'id': jobid, 'task': service.jobs[jobid].task,
               'status': service.getStatus(jobid)}
        row.update(cronDetails(service.jobs[jobid]))
        rows.append(row)
    return {'title': 'Cron jobs', 'rows': rows}


def workers(service, query, base):
    now = time.time()
    rows = []
    for worker in workersReport(service, now):
        row = {
            'name': worker['owner'], 'state': worker['state'],
            'host': worker['host'], 'pid': worker['pid'],
            'threads': worker['threads'],
            'queues': '' if worker['last seen'] is None else
            ', '.join(worker['queues']) if worker['queues'] else 'all',
            'tasks': _cut(', '.join(worker['tasks'] or ()), 120),
            'completed': worker['completed'], 'failed': worker['failed'],
            'jobs': worker['jobs'], 'claimed': worker['claimed'],
            'since': None if worker['for'] is None else
            _age(worker['for']),
            'up': None if worker['started'] is None else
            _age(max(now - worker['started'], 0)),
            'expiresTime': None if worker['expires'] is None else
            time.strftime('%H:%M:%S', time.gmtime(worker['expires']))}
        row.update(moment(worker['last seen'], now, 'seen'))
        row.update(moment(worker['started'], now, 'started'))
        row.update(moment(worker['expires'], now, 'expires'))
        rows.append(row)
    return {'title': 'Workers', 'rows': rows,
            'alive': sum(row['state'] == 'alive' for row in rows),
            'gone': sum(row['state'] == 'gone' for row in rows)}


def moment(seconds, now, name):
    """Return, for the time ``seconds`` since the epoch (None: not
    known), ``name`` (the time in UTC, to be read), ``name + 'ISO'`` (in
    ISO 8601, for a ``<time datetime>``) and ``name + 'Age'`` (how long
    ago it was at ``now``, or in how long it will be)."""
    if seconds is None:
        return dict.fromkeys((name, name + 'ISO', name + 'Age'))
    moment = time.gmtime(seconds)
    ago = now - seconds
    return {name: time.strftime('%Y-%m-%d %H:%M:%S', moment),
            name + 'ISO': time.strftime('%Y-%m-%dT%H:%M:%SZ', moment),
            name + 'Age': '%s ago' % _age(max(ago, 0)) if ago >= -1 else
            'in %s' % _age(-ago)}


def jobId(text):
    try:
        jobid = int(text)
    except ValueError:
        raise BadRequest('a job id is an integer, not %r'
                         % (_cut(text, 40),)) from None
    if not -2 ** 31 <= jobid < 2 ** 31:
        raise NotFound('there is no job %d' % jobid)
    return jobid


def _one(query, name):
    """Return the single value of ``name`` in ``query``, or None."""
    values = query.get(name, [])
    if len(values) > 1:
        raise BadRequest('give %s once, not %d times' % (name, len(values)))
    if not values or not values[0]:
        return None
    if len(values[0]) > MAX_VALUE:
        raise BadRequest('%s is too long' % name)
    return values[0]


def _css(status):
    return status.replace(' ', '-')


def _quote(text):
    return urllib.parse.quote(text, safe='')
