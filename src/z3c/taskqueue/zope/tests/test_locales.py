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
"""The translation template of the Zope and Plone screens
(``locales/z3c.taskqueue.pot``) has every message of the domain
``z3c.taskqueue``: of the templates, of ``_()`` in Python, and the
statuses and job details the templates translate as they come.

After a change of the screens' texts, write it again::

    python -m z3c.taskqueue.zope.tests.test_locales \\
        > src/z3c/taskqueue/locales/z3c.taskqueue.pot
"""
import ast
import os
import unittest

import z3c.taskqueue
from z3c.taskqueue.tests._support import installed


PACKAGE = os.path.dirname(z3c.taskqueue.__file__)
DOMAIN = 'z3c.taskqueue'
POT = os.path.join(PACKAGE, 'locales', DOMAIN + '.pot')
#: The Python modules that say ``_('...')`` in the domain.
MODULES = ('zope/views.py', 'zope/controlpanel.py')
#: What the templates translate as it comes (``tal:content`` with
#: ``i18n:translate=""``): the names of a job's details besides the
#: statuses.
DETAILS = ('id', 'task', 'status', 'queue', 'runs as', 'in site',
           'priority', 'attempts', 'created', 'started', 'completed',
           'input', 'output', 'error', 'traceback', 'key', 'after',
           'waiting for', 'expires', 'timeout', 'lease', 'progress',
           'cron', 'timezone', 'misfire', 'scheduled for', 'next')

HEADER = '''\
# The messages of the Zope and Plone screens of z3c.taskqueue.
# Made by python -m z3c.taskqueue.zope.tests.test_locales
msgid ""
msgstr ""
"Project-Id-Version: z3c.taskqueue\\n"
"MIME-Version: 1.0\\n"
"Content-Type: text/plain; charset=UTF-8\\n"
"Content-Transfer-Encoding: 8bit\\n"
"Plural-Forms: nplurals=1; plural=0;\\n"
"Language-Code: en\\n"
"Language-Name: English\\n"
"Preferred-Encodings: utf-8 latin1\\n"
"Domain: z3c.taskqueue\\n"
'''


def messages():
    """Return ``{msgid: {file, ...}}`` of the domain."""
    from zope.app.locales.extract import tal_strings
    from z3c.taskqueue import interfaces
    found = {}
    for msgid, places in tal_strings(PACKAGE, domain=DOMAIN,
                                     exclude=('tests', 'dashboard')).items():
        if str(msgid) == '${DYNAMIC_CONTENT}':
            continue    # what tal:content translates: see DETAILS
        found.setdefault(str(msgid), set()).update(
            os.path.relpath(path, PACKAGE) for path, line in places)
    for module in MODULES:
        with open(os.path.join(PACKAGE, module)) as f:
            tree = ast.parse(f.read())
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id == '_' and node.args
                    and isinstance(node.args[0], ast.Constant)):
                found.setdefault(node.args[0].value, set()).add(module)
    for msgid in interfaces.STATUSES + DETAILS:
        found.setdefault(msgid, set()).add('(statuses and job details)')
    return found


def template():
    """Return the text of the translation template."""
    entries = [HEADER]
    for msgid, places in sorted(messages().items()):
        escaped = msgid.replace('\\', '\\\\').replace('"', '\\"')
        entries.append('#: %s\nmsgid "%s"\nmsgstr ""\n'
                       % (' '.join(sorted(places)), escaped))
    return '\n'.join(entries)


@unittest.skipUnless(installed('zope.app.locales'),
                     'zope.app.locales (Plone has it) reads the templates')
class TemplateTests(unittest.TestCase):

    def test_the_template_has_every_message(self):
        with open(POT) as f:
            stored = f.read()
        self.assertEqual(stored, template(), 'locales/z3c.taskqueue.pot is'
                         ' out of date: write it again (%s)' % __doc__)

    def test_messages_have_their_names_filled(self):
        # A message of a template with ${name} but no i18n:name for it
        # would show the placeholder.
        import re
        found = messages()
        for msgid in ('Task ${task}, run as ${user} in ${site}.',
                      'Job ${id} cancelled.', 'Not retried: ${error}.'):
            self.assertIn(msgid, found)
        for msgid in found:
            self.assertNotIn('${}', msgid)
            self.assertEqual(re.findall(r'\$\{(\w*)\}', msgid),
                             re.findall(r'\$\{(\w+)\}', msgid))


def test_suite():
    return unittest.defaultTestLoader.loadTestsFromName(__name__)


if __name__ == '__main__':
    print(template(), end='')
