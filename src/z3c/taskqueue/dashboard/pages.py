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
from z3c.taskqueue._jobcommands import _age
from z3c.taskqueue._jobcommands import _cut
from z3c.taskqueue._jobcommands import cronDetails
from z3c.taskqueue._jobcommands import cronJobIds
from z3c.taskqueue._jobcommands import describe
from z3c.taskqueue._jobcommands import summary
from z3c.taskqueue._statuscommand import statusReport
from z3c.taskqueue._statuscommand import workersReport
from z3c.taskqueue.queues import checkName


#: Jobs a page of the job list shows.
PAGE = 50

#: The longest query value the dashboard takes.
MAX_VALUE = 200


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
    queue = _one(query, 'queue')
    if queue is not None:
        try:
            checkName(queue)
        except ValueError as error:
            raise BadRequest(str(error)) from None
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
    return {'title': 'Jobs', 'rows': rows, 'next': following,
            'cursor': cursor,
            'statuses': interfaces.STATUSES, 'status': status or '',
            'task': task or '', 'queue': queue or ''}


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
    rows = []
    for worker in workersReport(service, time.time()):
        rows.append({
            'owner': worker['owner'], 'jobs': worker['jobs'],
            'claimed': worker['claimed'],
            'since': '?' if worker['for'] is None else
            '%s ago' % _age(worker['for']),
            'expires': time.strftime('%Y-%m-%d %H:%M:%S UTC',
                                     time.gmtime(worker['expires']))})
    return {'title': 'Workers', 'rows': rows}


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
