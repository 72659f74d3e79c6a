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
"""The dashboard, served by a real waitress server on a real FileStorage,
asked over HTTP as a browser would (the pages need no script)."""
import json
import os
import re
import socket
import sys
import threading
import time
import unittest
import urllib.error
import urllib.request

from z3c.taskqueue.model.tests.test_controls import ControlTestBase


class DashboardTestBase(ControlTestBase):
    """A service with a completed, a failed, three queued and a cron job,
    and its dashboard, served."""

    def setUp(self):
        super().setUp()
        self.done = self.service.add('echo', 'hello')
        self.failed = self.service.add('fail', {'secret': 'personal data'})
        self.service.processNext(jobid=self.done)
        self.service.processNext(jobid=self.failed)
        self.queued = [self.service.add('echo', number, queue='reports')
                       for number in range(3)]
        self.cron = self.service.addCronJob('echo', cron='0 7 * * *',
                                            timezone='Europe/Berlin')
        self.tm.commit()
        self.serve()

    def serve(self, quick=True, **kw):
        from z3c.taskqueue.dashboard.server import makeServer
        if quick:
            # Idle connections (a browser keeps them) close within a
            # second, so that the server's thread ends soon after the test.
            kw.update(channel_timeout=1, cleanup_interval=1)
        self.server, self.app = makeServer(self.db, ['tasks'],
                                           ('127.0.0.1', 0), **kw)
        from z3c.taskqueue.dashboard.server import run
        thread = threading.Thread(target=run, args=(self.server,),
                                  daemon=True)
        thread.start()
        self.addCleanup(thread.join, 10)
        self.addCleanup(_close, self.server)
        self.base = 'http://127.0.0.1:%s' % self.server.effective_port

    def get(self, path, status=200):
        try:
            response = urllib.request.urlopen(self.base + path, timeout=30)
        except urllib.error.HTTPError as error:
            response = error
        body = response.read().decode('utf-8')
        self.assertEqual(response.status, status, body)
        return response, body

    def exchange(self, data, source='127.0.0.1'):
        """Send ``data`` on a connection of its own from the address
        ``source``; return all that the server answers until it closes
        the connection."""
        with socket.create_connection(
                ('127.0.0.1', self.server.effective_port), 30,
                source_address=(source, 0)) as sock:
            sock.sendall(data)
            chunks = []
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    return b''.join(chunks)
                chunks.append(chunk)


class DashboardTests(DashboardTestBase):

    def test_the_overview_counts_jobs_by_status_and_queue(self):
        response, body = self.get('/')
        self.assertIn('<meta http-equiv="refresh" content="5">', body)
        counts = dict(re.findall(r'class="status-[\w-]+">([\w ]+)</a></td>'
                                 r'\s*<td class="number">(\d+)</td>', body))
        self.assertEqual(counts['completed'], '1')
        self.assertEqual(counts['error'], '1')
        self.assertEqual(counts['queued'], '3')
        self.assertEqual(counts['cronjob'], '1')
        self.assertRegex(body, r'jobs\?queue=reports">reports</a></td>\s*'
                         r'<td class="number">3</td>')
        self.assertRegex(body, r'Finished in the\s+last hour: 1 completed,'
                         r'\s+1 failed, 0 cancelled')

    def test_every_response_has_the_security_headers(self):
        for path, status in (('/', 200), ('/jobs', 200), ('/nothing', 404),
                             ('/metrics', 200), ('/static/style.css', 200)):
            response, body = self.get(path, status)
            self.assertIn("default-src 'none'",
                          response.headers['Content-Security-Policy'])
            self.assertEqual(response.headers['X-Frame-Options'], 'DENY')
            self.assertEqual(response.headers['X-Content-Type-Options'],
                             'nosniff')
            self.assertEqual(response.headers['Cache-Control'], 'no-store')

    def test_a_filter_narrows_the_list(self):
        response, body = self.get('/jobs')
        self.assertEqual(len(re.findall(r'<a href="/jobs/-?\d+">', body)), 6)
        response, body = self.get('/jobs?status=error')
        self.assertEqual(re.findall(r'<a href="/jobs/(-?\d+)">', body),
                         [str(self.failed)])
        response, body = self.get('/jobs?queue=reports')
        self.assertEqual(sorted(map(int, re.findall(
            r'<a href="/jobs/(-?\d+)">', body))), sorted(self.queued))
        response, body = self.get('/jobs?task=nothing')
        self.assertIn('No job matches.', body)

    def test_pages_through_the_jobs(self):
        from z3c.taskqueue.reports import pages
        self.tm.begin()
        for number in range(pages.PAGE + 5):
            self.service.add('echo', number)
        self.tm.commit()
        response, body = self.get('/jobs')
        first = re.findall(r'<a href="/jobs/(-?\d+)">', body)
        self.assertEqual(len(first), pages.PAGE)
        older = re.search(r'<a id="older" href="([^"]+)"', body).group(1)
        response, body = self.get(older.replace('&amp;', '&'))
        rest = re.findall(r'<a href="/jobs/(-?\d+)">', body)
        self.assertEqual(len(rest), 11)
        self.assertFalse(set(first) & set(rest))

    def test_a_job_shows_its_traceback(self):
        response, body = self.get('/jobs/%d' % self.failed)
        self.assertIn('<pre>Traceback (most recent call last):', body)
        self.assertIn('TaskError: it broke', body)
        self.assertIn('personal data', body)

    def test_payloads_can_be_hidden(self):
        _close(self.server)
        self.serve(hidePayloads=True)
        response, body = self.get('/jobs/%d' % self.failed)
        self.assertNotIn('personal data', body)
        self.assertIn('(hidden)', body)

    def test_values_are_escaped(self):
        self.tm.begin()
        jobid = self.service.add('echo', '<script>alert(1)</script>')
        self.tm.commit()
        response, body = self.get('/jobs/%d' % jobid)
        self.assertNotIn('<script>', body)
        self.assertIn('&lt;script&gt;', body)

    def test_progress_is_shown(self):
        self.tm.begin()
        self.service.setProgress(self.queued[0], 0.25, 'a quarter')
        self.tm.commit()
        response, body = self.get('/jobs/%d' % self.queued[0])
        self.assertIn('<progress max="100" value="25">', body)
        self.assertIn('25% a quarter', body)

    def test_cron_jobs_show_their_next_times_in_their_zone(self):
        response, body = self.get('/cron')
        self.assertIn('0 7 * * *', body)
        self.assertEqual(len(re.findall(r'T07:00:00\+0[12]:00<br', body)), 3)

    def test_workers_show_their_claims(self):
        self.tm.begin()
        lease, ids = self.service.claimJobs('host:1:worker', 60, limit=2)
        self.tm.commit()
        response, body = self.get('/workers')
        self.assertIn('host:1:worker', body)
        for jobid in ids:
            self.assertIn('href="/jobs/%d"' % jobid, body)

    def test_find_by_id(self):
        request = urllib.request.Request(
            self.base + '/find?id=%d' % self.done)
        response = urllib.request.urlopen(request, timeout=30)
        self.assertTrue(response.url.endswith('/jobs/%d' % self.done))
        self.get('/find?id=123', 404)
        self.get('/find?id=abc', 400)

    def test_bad_requests_are_4xx_pages_never_tracebacks(self):
        for path, status in (
                ('/jobs/123', 404), ('/jobs/abc', 400),
                ('/jobs/99999999999999999999', 404),
                ('/find?id=99999999999999999999', 404),
                ('/jobs?status=done', 400), ('/jobs?after=x', 400),
                ('/jobs?after=9223372036854775807', 400),
                ('/jobs?after=%d' % 2 ** 63, 400),
                ('/jobs?after=%d' % 10 ** 30, 400),
                ('/jobs?after=%d' % -2 ** 64, 400),
                ('/jobs?queue=%20bad%20', 400),
                ('/jobs?status=error&status=queued', 400),
                ('/jobs?task=' + 'x' * 500, 400),
                ('/static/../app.py', 404), ('/nothing', 404)):
            response, body = self.get(path, status)
            self.assertNotIn('Traceback', body)
            self.assertIn('<p id="message">', body)

    def test_head_answers_the_headers_without_a_body(self):
        for path in ('/', '/jobs', '/static/style.css', '/nothing'):
            answer = self.exchange(
                b'HEAD %s HTTP/1.1\r\nHost: dashboard\r\n\r\n'
                b'GET %s HTTP/1.1\r\nHost: dashboard\r\n'
                b'Connection: close\r\n\r\n' % (path.encode(),
                                                   path.encode()))
            head, rest = answer.split(b'\r\n\r\n', 1)
            self.assertRegex(head, rb'^HTTP/1.1 (200|404) ')
            # What follows the headers of the HEAD is the GET's answer.
            self.assertRegex(rest[:20], rb'^HTTP/1.1 (200|404) ')
            headers, body = rest.split(b'\r\n\r\n', 1)
            length = int(re.search(rb'Content-Length: (\d+)',
                                   headers).group(1))
            self.assertEqual(len(body), length)
            self.assertIn(b'Content-Length: ', head)
            if path == '/static/style.css':
                self.assertIn(b'Content-Length: %d\r\n' % length, head)

    def test_idle_connections_leave_room_for_a_request(self):
        # With the server's own limits, not the quick ones of the tests.
        _close(self.server)
        self.serve(quick=False)
        idle = []
        try:
            for number in range(150):
                sock = socket.create_connection(
                    ('127.0.0.1', self.server.effective_port), 30)
                idle.append(sock)
                if number % 2:
                    # Half a request, never finished.
                    sock.sendall(b'GET / HTTP/1.1\r\nHost: dashboard\r\n')
            response, body = self.get('/jobs')
            self.assertIn('<table id="jobs">', body)
        finally:
            for sock in idle:
                sock.close()

    def test_it_serves_no_writes(self):
        request = urllib.request.Request(self.base + '/jobs', data=b'x=1')
        with self.assertRaises(urllib.error.HTTPError) as raised:
            urllib.request.urlopen(request, timeout=30)
        self.assertEqual(raised.exception.code, 405)
        self.assertEqual(raised.exception.headers['Allow'], 'GET, HEAD')

    def test_the_page_shows_what_a_worker_completes(self):
        def completed():
            response, body = self.get('/jobs?status=completed')
            return len(re.findall(r'<a href="/jobs/-?\d+">', body))
        self.assertEqual(completed(), 1)
        self.startProcessor()
        self.waitUntil(lambda: completed() == 4)

    def test_metrics_in_the_prometheus_format(self):
        self.app.sample()
        response, body = self.get('/metrics')
        self.assertTrue(response.headers['Content-Type'].startswith(
            'text/plain; version=0.0.4'))
        self.assertIn('taskqueue_jobs{status="completed"} 1.0', body)
        self.assertIn('taskqueue_jobs{status="queued"} 3.0', body)
        self.assertIn('taskqueue_queued_jobs{queue="reports"} 3.0', body)
        self.assertRegex(body, r'taskqueue_oldest_queued_seconds \d')
        self.assertIn('# TYPE taskqueue_jobs_finished_total counter', body)
        from prometheus_client.parser import text_string_to_metric_families
        names = {family.name for family in
                 text_string_to_metric_families(body)}
        self.assertEqual(names, {
            'taskqueue_jobs', 'taskqueue_queued_jobs',
            'taskqueue_oldest_queued_seconds',
            'taskqueue_worker_claimed_jobs', 'taskqueue_worker_up',
            'taskqueue_worker_last_seen_timestamp_seconds',
            'taskqueue_worker_jobs', 'taskqueue_jobs_finished'})

    def test_metrics_of_the_workers(self):
        now = time.time()
        self.beat('web1:1:taskqueue.tasks', now - 5, completed=7, failed=2)
        self.beat('web2:2:taskqueue.tasks', now - 3600)
        self.tm.begin()
        self.service.claimJobs('web1:1:taskqueue.tasks.1', 60, limit=2)
        self.service.claimJobs('other:3:thread', 60, limit=1)
        self.tm.commit()
        response, body = self.get('/metrics')
        from prometheus_client.parser import text_string_to_metric_families
        samples = {(sample.name, tuple(sorted(sample.labels.items()))):
                   sample.value
                   for family in text_string_to_metric_families(body)
                   for sample in family.samples}

        def value(name, worker, **labels):
            labels['worker'] = worker
            return samples.get((name, tuple(sorted(labels.items()))))
        self.assertEqual(value('taskqueue_worker_up',
                               'web1:1:taskqueue.tasks'), 1)
        self.assertEqual(value('taskqueue_worker_up',
                               'web2:2:taskqueue.tasks'), 0)
        self.assertAlmostEqual(value(
            'taskqueue_worker_last_seen_timestamp_seconds',
            'web1:1:taskqueue.tasks'), now - 5, places=3)
        self.assertEqual(value('taskqueue_worker_jobs_total',
                               'web1:1:taskqueue.tasks',
                               outcome='failed'), 2)
        # The claims of a worker's threads are the worker's; an idle
        # worker holds none; a claim holder without a record is shown.
        self.assertEqual(value('taskqueue_worker_claimed_jobs',
                               'web1:1:taskqueue.tasks'), 2)
        self.assertEqual(value('taskqueue_worker_claimed_jobs',
                               'web2:2:taskqueue.tasks'), 0)
        self.assertEqual(value('taskqueue_worker_claimed_jobs',
                               'other:3:thread'), 1)
        self.assertIsNone(value('taskqueue_worker_up', 'other:3:thread'))

    def test_the_charts_fill_in_from_samples(self):
        response, body = self.get('/')
        self.assertIn('The charts fill in as the dashboard samples', body)
        self.app.sample(time.time() - 20)
        self.app.sample()
        response, body = self.get('/')
        self.assertEqual(body.count('<svg xmlns="http://www.w3.org/2000/svg"'),
                         2)
        self.assertEqual(body.count('<polyline'), 2)

    def test_each_chart_has_its_scale_axes_times_and_gridlines(self):
        from z3c.taskqueue.dashboard import chart
        samples = chart.Samples()
        start = 1796616000      # 2026-12-07 04:00:00 UTC
        # Queued jobs up to 12; 300 jobs finished in each minute.
        for minute, queued in enumerate([0, 12, 4, 3]):
            samples.add(start + 60 * minute, queued, 300 * minute)
        html = chart.svg(samples, start + 180)
        queued, finished = html.split('</svg>')[:2]
        self.assertIn('id="chart-queued"', queued)
        self.assertIn('id="chart-finished"', finished)
        ticks = re.compile(r'text-anchor="end">([\d.]+)</text>')
        # Each its own scale, from 0 to a round number above its highest.
        self.assertEqual(ticks.findall(queued), ['0', '5', '10', '15'])
        self.assertEqual(ticks.findall(finished),
                         ['0', '100', '200', '300'])
        for svg in (queued, finished):
            times = re.findall(r'class="time"[^>]*>([\d:]+)</text>', svg)
            self.assertEqual(times, ['04:00', '04:01', '04:02', '04:03'])
            self.assertEqual(svg.count('class="grid"'), 4 + 4)
            self.assertIn('>UTC</text>', svg)
            self.assertIn('class="axes"', svg)
        # The highest point of each series is at the top of its chart.
        for svg, highest in ((queued, 12 / 15), (finished, 1)):
            points = re.search(r'class="series"[^>]*points="([^"]+)"',
                               svg).group(1)
            ys = [float(point.split(',')[1]) for point in points.split()]
            top, bottom = chart.TOP, chart.HEIGHT - chart.BOTTOM
            self.assertAlmostEqual(min(ys), bottom - highest *
                                   (bottom - top), places=0)

    def test_the_job_list_shows_when_each_job_was_created(self):
        self.tm.begin()
        created = self.service.jobs[self.done].created
        response, body = self.get('/jobs')
        iso = created.strftime('%Y-%m-%dT%H:%M:%SZ')
        self.assertIn('<time\n          datetime="%s"\n          title="%s">%s'
                      '</time>' % (iso, iso,
                                   created.strftime('%Y-%m-%d %H:%M:%S')),
                      body)
        self.assertRegex(body, r'<span class="age">\d+s ago</span>')

    def test_the_filters_offer_the_known_tasks_and_queues(self):
        response, body = self.get('/jobs')
        task = re.search(r'<select name="task">(.*?)</select>', body,
                         re.S).group(1)
        queue = re.search(r'<select name="queue">(.*?)</select>', body,
                          re.S).group(1)
        self.assertEqual(re.findall(r'value="([^"]*)"', task),
                         ['', 'echo', 'fail'])
        self.assertEqual(re.findall(r'value="([^"]*)"', queue),
                         ['', 'default', 'reports'])
        # The tasks of workers, and a filter typed in the URL.
        self.beat('w:1:p', time.time(), tasks=['mail'])
        response, body = self.get('/jobs?task=typed&queue=reports')
        task = re.search(r'<select name="task">(.*?)</select>', body,
                         re.S).group(1)
        self.assertEqual(re.findall(r'value="([^"]*)"', task),
                         ['', 'echo', 'fail', 'mail', 'typed'])
        self.assertRegex(task, r'<option value="typed"\s+selected=')
        self.assertRegex(body, r'<option value="reports"\s+selected=')

    def test_workers_show_idle_busy_and_gone(self):
        now = time.time()
        self.beat('web1:1:taskqueue.tasks', now - 5, threads=4,
                  tasks=['echo', 'fail'], completed=7)
        self.beat('web2:2:taskqueue.tasks', now - 3600)
        self.tm.begin()
        lease, ids = self.service.claimJobs('web1:1:taskqueue.tasks.2', 60,
                                            limit=2)
        self.tm.commit()
        response, body = self.get('/workers')
        rows = re.findall(r'<tr class="worker">(.*?)</tr>', body, re.S)
        self.assertEqual(len(rows), 2)
        busy, gone = rows
        self.assertIn('web1:1:taskqueue.tasks', busy)
        self.assertIn('<td class="state-alive">alive</td>', busy)
        self.assertIn('tasks:\n          echo, fail', busy)
        self.assertRegex(busy, r'<span class="age">5s ago</span>')
        for jobid in ids:
            self.assertIn('href="/jobs/%d"' % jobid, busy)
        self.assertIn('<td class="state-gone">gone</td>', gone)
        self.assertIn('<span class="age">1h ago</span>', gone)
        self.assertIn('1 alive, 1 gone.', body)

    def test_a_running_processor_shows_while_idle(self):
        response, body = self.get('/workers')
        self.assertIn('No worker', body)
        processor, thread = self.startProcessor()
        self.waitUntil(lambda: self.service.countJobs()['queued'] == 0)
        response, body = self.get('/workers')
        self.assertIn(':%d:taskqueue.tasks</span>' % os.getpid(), body)
        self.assertIn('<td class="state-alive">alive</td>', body)
        processor.stop()
        thread.join(30)
        response, body = self.get('/workers')
        self.assertIn('No worker', body)

    def beat(self, name, when, **info):
        """Write the record of worker ``name``, seen at ``when``."""
        host, pid, processor = name.split(':')
        info = dict(dict(host=host, pid=int(pid), processor=processor,
                         interval=30.0, started=when - 600), **info)
        self.tm.begin()
        self.service._workerBeat(name, when, info)
        self.tm.commit()


def _close(server):
    from z3c.taskqueue.dashboard.server import stop
    stop(server)


TOKEN = 'a-long-secret-token-for-tests'


class DashboardActionTests(DashboardTestBase):
    """The actions, for those who log in with the token."""

    def serve(self, **kw):
        kw.setdefault('token', TOKEN)
        super().serve(**kw)
        import http.cookiejar
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar))

    def post(self, path, fields, status=200, opener=None, headers=()):
        import urllib.parse
        request = urllib.request.Request(
            self.base + path, data=urllib.parse.urlencode(fields).encode(),
            headers=dict(headers))
        try:
            response = (opener or self.opener).open(request, timeout=30)
        except urllib.error.HTTPError as error:
            response = error
        body = response.read().decode('utf-8')
        self.assertEqual(response.status, status, body)
        return body

    def login(self):
        self.post('/login', {'token': TOKEN})
        body = self.opener.open(self.base + '/jobs/%d' % self.queued[0],
                                timeout=30).read().decode('utf-8')
        return re.search(r'name="csrf" value="([^"]+)"', body).group(1)

    def status(self, jobid):
        self.tm.begin()
        return self.service.getStatus(jobid)

    def test_cancel_with_a_login_and_its_csrf_token(self):
        csrf = self.login()
        body = self.post('/jobs/%d/cancel' % self.queued[0], {'csrf': csrf})
        self.assertIn('job %d cancelled' % self.queued[0], body)
        self.assertEqual(self.status(self.queued[0]), 'cancelled')
        body = self.post('/jobs/%d/retry' % self.queued[0], {'csrf': csrf})
        self.assertEqual(self.status(self.queued[0]), 'queued')

    def test_cancel_is_refused_without_a_login(self):
        body = self.post('/jobs/%d/cancel' % self.queued[0], {'csrf': 'x'},
                         403)
        self.assertIn('log in with the token first', body)
        self.assertEqual(self.status(self.queued[0]), 'queued')

    def test_cancel_is_refused_without_the_csrf_token(self):
        self.login()
        self.post('/jobs/%d/cancel' % self.queued[0], {}, 403)
        self.post('/jobs/%d/cancel' % self.queued[0], {'csrf': 'wrong'}, 403)
        self.assertEqual(self.status(self.queued[0]), 'queued')

    def test_a_wrong_token_logs_nobody_in(self):
        self.post('/login', {'token': 'not-the-token-at-all'}, 403)
        self.assertEqual(len(self.jar), 0)

    def test_a_program_sends_the_token(self):
        self.post('/jobs/%d/cancel' % self.queued[1], {},
                  headers=[('Authorization', 'Bearer ' + TOKEN)])
        self.assertEqual(self.status(self.queued[1]), 'cancelled')
        self.post('/jobs/%d/cancel' % self.queued[2], {}, 403,
                  headers=[('Authorization', 'Bearer wrong')])

    def test_what_cannot_be_done_is_a_409(self):
        csrf = self.login()
        body = self.post('/jobs/%d/retry' % self.queued[0], {'csrf': csrf},
                         409)
        self.assertIn('only jobs that failed or were cancelled', body)
        self.post('/jobs/12345/cancel', {'csrf': csrf}, 404)
        self.post('/jobs/99999999999999999999/cancel', {'csrf': csrf}, 404)
        self.post('/jobs/x/cancel', {'csrf': csrf}, 400)

    def test_clean(self):
        csrf = self.login()
        body = self.post('/clean', {'csrf': csrf, 'status': 'completed',
                                    'older-than': '0s'})
        self.assertIn('removed 1 job(s)', body)
        self.post('/clean', {'csrf': csrf, 'status': 'queued'}, 400)
        self.post('/clean', {'csrf': csrf, 'older-than': 'soon'}, 400)

    def test_the_done_page_keeps_the_login_and_leads_back(self):
        csrf = self.login()
        body = self.post('/jobs/%d/cancel' % self.queued[0], {'csrf': csrf})
        self.assertIn('id="logout"', body)
        self.assertNotIn('id="login"', body)
        self.assertIn('<a id="back" href="/jobs/%d">Back to job %d</a>'
                      % (self.queued[0], self.queued[0]), body)
        body = self.post('/clean', {'csrf': csrf, 'status': 'completed'})
        self.assertIn('<a id="back" href="/">Back to the overview</a>',
                      body)

    def test_a_program_is_answered_in_json(self):
        bearer = [('Authorization', 'Bearer ' + TOKEN)]
        jobid = self.queued[1]
        answer = json.loads(self.post('/jobs/%d/cancel' % jobid, {},
                                      headers=bearer))
        self.assertEqual(answer, {'ok': True,
                                  'message': 'job %d cancelled' % jobid})
        answer = json.loads(self.post('/jobs/%d/cancel' % self.done, {},
                                      409, headers=bearer))
        self.assertEqual(answer['ok'], False)
        self.assertEqual(answer['error'], 'Not done')
        self.assertIn('only waiting jobs can be cancelled',
                      answer['message'])
        answer = json.loads(self.post('/jobs/12345/retry', {}, 404,
                                      headers=bearer))
        self.assertEqual((answer['ok'], answer['error']),
                         (False, 'Not found'))
        answer = json.loads(self.post('/clean', {'status': 'queued'}, 400,
                                      headers=bearer))
        self.assertEqual(answer['error'], 'Bad request')
        answer = json.loads(self.post(
            '/jobs/%d/cancel' % self.queued[2], {}, 403,
            headers=[('Authorization', 'Bearer not-the-token')]))
        self.assertEqual(answer['error'], 'Forbidden')
        # A session that asks for JSON gets JSON; a browser's form, HTML.
        csrf = self.login()
        answer = json.loads(self.post(
            '/jobs/%d/cancel' % self.queued[2], {'csrf': csrf},
            headers=[('Accept', 'application/json')]))
        self.assertEqual(answer['message'],
                         'job %d cancelled' % self.queued[2])
        body = self.post('/jobs/%d/retry' % self.queued[2], {'csrf': csrf},
                         headers=[('Accept', 'text/html,*/*;q=0.8')])
        self.assertIn('<p id="message">job %d queued again</p>'
                      % self.queued[2], body)

    def test_json_for_a_read_only_dashboard(self):
        _close(self.server)
        self.serve(readOnly=True)
        answer = json.loads(self.post(
            '/jobs/%d/cancel' % self.queued[0], {}, 405,
            headers=[('Authorization', 'Bearer ' + TOKEN)]))
        self.assertEqual(answer['error'], 'Not allowed')

    def failJob(self, task='fail', queue='default'):
        self.tm.begin()
        jobid = self.service.add(task, queue=queue)
        self.service.processNext(jobid=jobid)
        self.tm.commit()
        return jobid

    def test_retry_every_failed_job_of_a_filter(self):
        from z3c.taskqueue.dashboard import actions
        failed = [self.failed] + [self.failJob() for number in range(4)]
        other = self.failJob(queue='reports')
        csrf = self.login()
        # The list offers it, the confirmation counts the jobs.
        body = self.opener.open(self.base + '/jobs?status=error&queue='
                                'default', timeout=30).read().decode()
        self.assertIn('<a id="retry-failed"'
                      ' href="/retry-failed?queue=default">', body)
        body = self.opener.open(self.base + '/retry-failed?queue=default',
                                timeout=30).read().decode()
        self.assertIn('Retry the 5 failed\n    job(s)', body)
        self.assertIn('id="retry-failed-confirm"', body)
        # Two jobs a commit, here.
        self.patch(actions, 'RETRY_BATCH', 2)
        before = len(self.db.undoLog(0, 1000))
        body = self.post('/retry-failed', {'csrf': csrf,
                                           'queue': 'default'})
        self.assertIn('<p id="message">retried 5 failed job(s)</p>', body)
        self.assertIn('href="/jobs?status=error&amp;queue=default"', body)
        self.assertEqual(len(self.db.undoLog(0, 1000)) - before, 3)
        self.assertEqual([self.status(jobid) for jobid in failed],
                         ['queued'] * 5)
        self.assertEqual(self.status(other), 'error')

    def test_retry_failed_skips_and_counts_what_cannot_be_retried(self):
        stuck = self.failJob()
        self.tm.begin()
        # A job that ended in error before it started, and waits for a
        # job removed since: retry() refuses it.
        job = self.service.jobs[stuck]
        job.attempts = 0
        job.started = None
        job.after = (12345,)
        self.tm.commit()
        answer = json.loads(self.post(
            '/retry-failed', {}, headers=[('Authorization',
                                           'Bearer ' + TOKEN)]))
        self.assertEqual((answer['retried'], answer['skipped']), (1, 1))
        self.assertEqual(
            answer['message'], 'retried 1 failed job(s); skipped 1 that'
            ' cannot be retried (job %d waits for job 12345, which no'
            ' longer exists: add a new job instead)' % stuck)
        self.assertEqual(self.status(self.failed), 'queued')
        self.assertEqual(self.status(stuck), 'error')

    def test_retry_failed_needs_the_token_and_a_post(self):
        self.post('/retry-failed', {'csrf': 'forged'}, 403)
        body = self.opener.open(self.base + '/retry-failed',
                                timeout=30).read().decode()
        self.assertIn('Log in with the token', body)
        self.assertNotIn('retry-failed-confirm', body)
        self.assertEqual(self.status(self.failed), 'error')
        self.post('/retry-failed', {'queue': ' bad '}, 400,
                  headers=[('Authorization', 'Bearer ' + TOKEN)])

    def patch(self, module, name, value):
        self.addCleanup(setattr, module, name, getattr(module, name))
        setattr(module, name, value)

    def test_logout_ends_the_session(self):
        csrf = self.login()
        self.post('/logout', {'csrf': csrf})
        self.post('/jobs/%d/cancel' % self.queued[0], {'csrf': csrf}, 403)

    def test_logout_takes_the_csrf_token(self):
        csrf = self.login()
        body = self.opener.open(self.base + '/', timeout=30).read()
        self.assertRegex(body.decode('utf-8'),
                         r'action="/logout"\s+class="inline">\s*'
                         r'<input type="hidden" name="csrf" value="%s">'
                         % re.escape(csrf))
        # A form of another site cannot end the session.
        self.post('/logout', {}, 403)
        self.post('/logout', {'csrf': 'forged'}, 403)
        self.post('/jobs/%d/cancel' % self.queued[0], {'csrf': csrf})
        self.assertEqual(self.status(self.queued[0]), 'cancelled')

    def test_concurrent_requests_keep_their_own_session(self):
        # A list of jobs long enough to take a while, and threads that
        # take turns often, so that requests interleave.
        self.tm.begin()
        for number in range(60):
            self.service.add('echo', number)
        self.tm.commit()
        self.addCleanup(sys.setswitchinterval, sys.getswitchinterval())
        sys.setswitchinterval(1e-5)
        csrf = self.login()
        cookie = '; '.join('%s=%s' % (c.name, c.value) for c in self.jar)
        job = '/jobs/%d' % self.queued[0]
        wrong = []

        def fetch(path, headers):
            request = urllib.request.Request(self.base + path,
                                             headers=headers)
            try:
                with urllib.request.urlopen(request,
                                            timeout=30) as response:
                    return response.read().decode('utf-8')
            except urllib.error.HTTPError as error:
                # Said, not raised: it would end the thread, silently.
                wrong.append((error.code, path, error.read()[-300:]))
                return ''

        def loggedIn():
            for number in range(50):
                body = fetch(job, {'Cookie': cookie})
                if ('value="%s"' % csrf not in body
                        or 'id="cancel"' not in body
                        or 'id="logout"' not in body):
                    wrong.append(('logged in', job))
                body = fetch('/jobs', {'Cookie': cookie})
                if 'id="logout"' not in body:
                    wrong.append(('logged in', '/jobs'))

        def anonymous():
            for number in range(50):
                for path in (job, '/jobs'):
                    body = fetch(path, {})
                    if ('csrf' in body or 'method="post"' in body
                            or 'id="login"' not in body):
                        wrong.append(('anonymous', path))

        threads = [threading.Thread(target=target, daemon=True)
                   for target in (loggedIn, anonymous, anonymous,
                                  anonymous)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
            self.assertFalse(thread.is_alive())
        self.assertEqual(wrong, [])

    def test_refused_logins_are_logged_and_locked_out(self):
        from z3c.taskqueue.dashboard import security
        now = [time.time()]
        self.app.guard.clock = lambda: now[0]
        with self.assertLogs('z3c.taskqueue.dashboard', 'WARNING') as logs:
            for number in range(security.MAX_FAILURES):
                self.post('/login', {'token': 'wrong-%d' % number}, 403)
        self.assertEqual(len(logs.records), security.MAX_FAILURES)
        for record in logs.records:
            self.assertIn('127.0.0.1', record.getMessage())
            self.assertNotIn('wrong-', record.getMessage())
        # Locked out, even with the token.
        with self.assertLogs('z3c.taskqueue.dashboard', 'WARNING') as logs:
            body = self.post('/login', {'token': TOKEN}, 429)
        self.assertIn('too many refused logins', body)
        self.assertNotIn(TOKEN, logs.output[0])
        self.assertEqual(len(self.jar), 0)
        # Another address is not locked out.
        answer = self.exchange(
            b'POST /login HTTP/1.1\r\nHost: dashboard\r\n'
            b'Content-Type: application/x-www-form-urlencoded\r\n'
            b'Content-Length: %d\r\nConnection: close\r\n\r\ntoken=%s'
            % (len(TOKEN) + 6, TOKEN.encode()), source='127.0.0.2')
        self.assertTrue(answer.startswith(b'HTTP/1.1 303 '), answer)
        now[0] += security.LOCKOUT + 1
        self.login()
        self.assertEqual(len(self.jar), 1)

    def test_the_lockout_grows_to_a_bound(self):
        from z3c.taskqueue.dashboard import security
        now = [time.time()]
        self.app.guard.clock = lambda: now[0]
        lockouts = []
        for round in range(8):
            with self.assertLogs('z3c.taskqueue.dashboard', 'WARNING'):
                for number in range(security.MAX_FAILURES):
                    self.post('/login', {'token': 'wrong'}, 403)
                request = urllib.request.Request(
                    self.base + '/login', data=b'token=' + TOKEN.encode())
                with self.assertRaises(urllib.error.HTTPError) as raised:
                    self.opener.open(request, timeout=30)
            self.assertEqual(raised.exception.code, 429)
            seconds = int(raised.exception.headers['Retry-After'])
            lockouts.append(seconds)
            now[0] += seconds + 1
        self.assertEqual(lockouts[:3], [security.LOCKOUT,
                                        2 * security.LOCKOUT,
                                        4 * security.LOCKOUT])
        self.assertEqual(max(lockouts), security.MAX_LOCKOUT)
        self.assertEqual(lockouts[-1], security.MAX_LOCKOUT)

    def test_wrong_bearer_tokens_are_locked_out_too(self):
        from z3c.taskqueue.dashboard import security
        with self.assertLogs('z3c.taskqueue.dashboard', 'WARNING') as logs:
            for number in range(security.MAX_FAILURES):
                self.post('/jobs/%d/cancel' % self.queued[1], {}, 403,
                          headers=[('Authorization', 'Bearer wrong-one')])
        self.assertEqual(len(logs.records), security.MAX_FAILURES)
        self.assertNotIn('wrong-one', '\n'.join(logs.output))
        self.post('/jobs/%d/cancel' % self.queued[1], {}, 429,
                  headers=[('Authorization', 'Bearer ' + TOKEN)])
        self.assertEqual(self.status(self.queued[1]), 'queued')

    def test_it_serves_no_writes(self):
        # With a token, POSTs are served; read only, none are.
        _close(self.server)
        self.serve(readOnly=True)
        request = urllib.request.Request(self.base + '/login',
                                         data=b'token=' + TOKEN.encode())
        with self.assertRaises(urllib.error.HTTPError) as raised:
            urllib.request.urlopen(request, timeout=30)
        self.assertEqual(raised.exception.code, 405)
        self.get('/login', 404)


class TokenFileTests(unittest.TestCase):

    def test_a_short_or_missing_token_is_refused(self):
        import os
        import tempfile
        from z3c.taskqueue.dashboard.security import TokenError
        from z3c.taskqueue.dashboard.security import readToken
        directory = tempfile.mkdtemp()
        path = os.path.join(directory, 'token')
        with open(path, 'w') as f:
            f.write('short\n')
        with self.assertRaises(TokenError) as raised:
            readToken(path)
        self.assertIn('at least 16 characters', str(raised.exception))
        with self.assertRaises(TokenError):
            readToken(os.path.join(directory, 'missing'))
        with open(path, 'w') as f:
            f.write(TOKEN + '\n')
        self.assertEqual(readToken(path), TOKEN)


def test_suite():
    return unittest.defaultTestLoader.loadTestsFromName(__name__)
