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
"""The ``z3c-taskqueue`` command line.

``command`` parses the command line and runs a subcommand:
``_workercommand`` (``worker``), ``_addcommand`` (``add``),
``_jobcommands`` and their parsers ``_jobparsers`` (``jobs``, ``show``,
``cancel``, ``retry``, ``clean``, ``cron``), ``_statuscommand``
(``status``); ``command`` itself runs ``init``, ``migrate`` and
``dashboard`` (which starts ``dashboard.server``).  ``demo`` is ``make
demo``.

May import: every layer below it.  It imports ``dashboard.server`` only
when the ``dashboard`` subcommand runs, so that the other subcommands
work without the ``dashboard`` extra.
"""
