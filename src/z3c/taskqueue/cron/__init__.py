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
"""Cron: when schedules fire.

Holds the schedules of cron jobs (``_cron``: the old tuples of minutes,
hours, days and months, and crontab expressions), the crontab parser
(``_crontab``) and IANA time zones as lines of UTC offsets (``_zones``).
Pure computation: nothing here is stored or touches a database.

May import: the standard library only; nothing else of this package.
"""
