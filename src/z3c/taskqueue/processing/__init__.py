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
"""Processing: what runs jobs.

``processor`` holds the processors a service starts in threads
(``SimpleProcessor``, ``MultiProcessor``); ``_worker`` the worker loop
that claims a batch of jobs under a lease, ``_dispatcher`` the loop that
hands them to runner threads, ``_runner`` a runner that runs a claimed
job until its outcome is committed (``_committing``: how it commits,
and meets conflicts, an unavailable database or a failing storage),
``_shared`` batchable jobs run back to back in one commit.  ``_leasekeeper`` renews leases and
``_heartbeat`` keeps the worker's record; ``_threads`` holds this
process's processor threads; ``_pool`` is the process pool's
supervisor, ``_malloc`` a worker process's heap.

May import: ``database`` (a pool's supervisor opens the database by its
URI), ``zope``, ``reports``, ``model``, ``cron``, ``interfaces`` and
``events``; it needs only ``database`` and the model.
"""
