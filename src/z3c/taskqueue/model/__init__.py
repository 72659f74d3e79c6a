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
"""The stored model: the task service and what it stores.

Every class here whose instances are stored keeps its module path (or an
alias in ``z3c.taskqueue._oldpaths``): it is in every database.

- The service, ``service.TaskService``, adds jobs and keeps their status.
  Its other concerns are mixins, one module each, which share only the
  service's index objects and the helpers ``service.PARTS`` lists:
  ``_scheduling`` (when a waiting job falls due), ``_claims`` (how a
  worker claims jobs under a lease, and how a claimed job finishes or is
  recovered), ``_running`` (``processNext``: a job run in the caller's
  transaction), ``_controls`` (unique keys, dependencies, deadlines,
  result expiry, throughput, progress), ``_listing`` (a job's status
  and result, the counts; listing, purging, retrying),
  ``workers.WorkersMixin`` (the workers' records) and ``_processing``
  (``startProcessing``: the seed's API, which hands over to the
  processing layer when it is called).
- Where jobs wait: ``queues`` (due jobs, by queue and priority),
  ``schedule`` (jobs that wait for a time), ``statusindex``,
  ``dependencies`` and ``uniquekeys``; ``history`` lists them all.
- The records: ``job`` (jobs and cron jobs), ``payload`` (input and
  output), ``lease``, ``progress``, ``throughput``, ``expiry``,
  ``workers``; ``retry`` and ``task`` say how a task runs.
- Helpers of the model: ``_index`` (conflict-free sorted indexes),
  ``_outcome`` (whose fault an error is), ``_timelimit`` (a job's time
  limit, and commits it cannot interrupt), ``jobcontext`` (where and as
  whom a job runs), ``_servicepath``, ``_wakeup``, ``_numbers``, and the
  migrations of older layouts (``_migration``, ``_layout0``,
  ``_zodbupdate``).

May import: ``z3c.taskqueue.interfaces``, ``events`` and ``cron``.  The
one exception is ``_processing``, which imports the processing layer
when ``startProcessing()`` is called, never at import time.
"""
