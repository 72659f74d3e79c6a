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
"""Sphinx configuration for the z3c.taskqueue documentation."""
import importlib.metadata


project = 'z3c.taskqueue'
author = 'Zope Foundation and Contributors'
copyright = '2026, ' + author

# The full version, including dev/post tags, from the installed
# distribution, so that setup.py stays the only place that names it.
release = importlib.metadata.version('z3c.taskqueue')
version = '.'.join(release.split('.')[:2])

extensions = [
    'sphinx.ext.autodoc',
    'repoze.sphinx.autointerface',
]

master_doc = 'index'
exclude_patterns = ['_build']

autodoc_member_order = 'bysource'

# alabaster ships with Sphinx: no extra install needed.
html_theme = 'alabaster'
html_theme_options = {
    'description': 'A ZODB-native task queue and cron service',
}
