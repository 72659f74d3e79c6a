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
"""``/metrics``: the task service in the Prometheus text format.

Each scrape reads the service on the dashboard's connection: the jobs by
status, the due jobs by queue, the age of the oldest waiting job, and
the workers: whether each is alive, when it was last seen, the jobs it
holds and the jobs it ran.  ``taskqueue_jobs_finished_total`` counts the
jobs the dashboard saw finish, from one reading to the next (a scrape or
a sample of the chart), since it started: jobs finished and removed
between two readings are not counted.
"""
import threading

from prometheus_client import CollectorRegistry
from prometheus_client import generate_latest
from prometheus_client.core import CounterMetricFamily
from prometheus_client.core import GaugeMetricFamily

from z3c.taskqueue import interfaces


#: The content type of ``/metrics``.
CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'


class FinishedCounter:
    """Counts the finished jobs seen between readings of the counts."""

    def __init__(self):
        self.lock = threading.Lock()
        self.last = None
        self.totals = dict.fromkeys(interfaces.FINISHED, 0)

    def update(self, counts):
        with self.lock:
            if self.last is not None:
                for status in interfaces.FINISHED:
                    self.totals[status] += max(
                        counts[status] - self.last[status], 0)
            self.last = {status: counts[status]
                         for status in interfaces.FINISHED}
            return dict(self.totals)


class ServiceCollector:
    """A prometheus_client collector that reads the service anew at each
    scrape, through ``read(function)``."""

    def __init__(self, read, counter):
        self.read = read
        self.counter = counter

    def collect(self):
        from z3c.taskqueue.reports.status import statusReport
        import time
        report = self.read(lambda service: statusReport(service,
                                                        time.time()))
        totals = self.counter.update(report['jobs'])
        jobs = GaugeMetricFamily('taskqueue_jobs', 'Jobs by status.',
                                 labels=['status'])
        for status, count in report['jobs'].items():
            jobs.add_metric([status], count)
        yield jobs
        queued = GaugeMetricFamily(
            'taskqueue_queued_jobs', 'Due jobs waiting in each queue.',
            labels=['queue'])
        for name, count in report['queues'].items():
            queued.add_metric([name], count)
        yield queued
        age = report['oldest queued age']
        yield GaugeMetricFamily(
            'taskqueue_oldest_queued_seconds',
            'How long the oldest due job has waited (0: none waits).',
            value=0 if age is None else age)
        claimed = GaugeMetricFamily(
            'taskqueue_worker_claimed_jobs',
            'Jobs each worker holds claimed (running or about to).',
            labels=['worker'])
        up = GaugeMetricFamily(
            'taskqueue_worker_up',
            'Whether each worker that keeps a record is alive (1) or gone'
            ' (0: it missed three heartbeats).', labels=['worker'])
        seen = GaugeMetricFamily(
            'taskqueue_worker_last_seen_timestamp_seconds',
            'When each worker wrote its record last (its heartbeat).',
            labels=['worker'])
        ran = CounterMetricFamily(
            'taskqueue_worker_jobs',
            'Jobs each worker ran since it started, by outcome.',
            labels=['worker', 'outcome'])
        for worker in report['workers']:
            name = worker['owner']
            claimed.add_metric([name], worker['jobs'])
            if worker['last seen'] is None:
                continue    # holds claims, keeps no record
            up.add_metric([name], int(worker['state'] == 'alive'))
            seen.add_metric([name], worker['last seen'])
            ran.add_metric([name, 'completed'], worker['completed'])
            ran.add_metric([name, 'failed'], worker['failed'])
        yield claimed
        yield up
        yield seen
        yield ran
        finished = CounterMetricFamily(
            'taskqueue_jobs_finished',
            'Jobs seen finishing since the dashboard started.',
            labels=['status'])
        for status, total in totals.items():
            finished.add_metric([status], total)
        yield finished


def registry(read, counter):
    """Return a registry holding only the service's collector."""
    found = CollectorRegistry(auto_describe=False)
    found.register(ServiceCollector(read, counter))
    return found


def render(found):
    return generate_latest(found)
