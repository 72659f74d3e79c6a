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
"""``docs/zope.rst``, run as written: every named code block of the
chapter, read from the file, in a fresh ``mkwsgiinstance`` instance.

Shell blocks run in bash, in the directory of the instance, one after
the other, each with the environment the one before left (``export``
carries over).  ``pip`` does nothing there: this environment has what
the chapter installs.  Blocks with a ``:caption:`` are files, written
where the caption says (a ``zope.conf`` block goes at the end of
``zope.conf``).  Only the port of ``zope.ini`` is changed, from 8080 to
a free one.  Every named block is used: a block added to the chapter
fails the test until the test runs it.
"""
import base64
import collections
import html.parser
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

from z3c.taskqueue.tests._support import installed


CHAPTER = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir,
                       os.pardir, os.pardir, os.pardir, 'docs', 'zope.rst')

PLONE = installed('Products.CMFPlone')

BIN = os.path.dirname(sys.executable)

#: The longest wait for Zope, a command or a job (seconds).
WAIT = 120

Block = collections.namedtuple('Block', 'language caption code')

_DIRECTIVE = re.compile(r'^(?P<indent> *)\.\. code-block:: *(?P<language>\S+)'
                        r'\s*$')
_OPTION = re.compile(r'^ +:(?P<name>[\w-]+):(?: +(?P<value>.*))?$')


def codeBlocks(text):
    """Return the named ``code-block`` directives of the reST ``text``, as
    ``{name: Block(language, caption, code)}``."""
    lines = text.splitlines()
    blocks = {}
    number = 0
    while number < len(lines):
        match = _DIRECTIVE.match(lines[number])
        number += 1
        if match is None:
            continue
        indent = len(match.group('indent'))
        options = {}
        while number < len(lines):
            option = _OPTION.match(lines[number])
            if option is None or _indent(lines[number]) <= indent:
                break
            options[option.group('name')] = (option.group('value')
                                             or '').strip()
            number += 1
        body = []
        while number < len(lines) and (not lines[number].strip() or
                                       _indent(lines[number]) > indent):
            body.append(lines[number])
            number += 1
        name = options.get('name')
        if name is None:
            continue
        if name in blocks:
            raise ValueError('two code blocks are named %r' % name)
        blocks[name] = Block(match.group('language'), options.get('caption'),
                             textwrap.dedent('\n'.join(body)).strip('\n')
                             + '\n')
    return blocks


def _indent(line):
    return len(line) - len(line.lstrip(' '))


class FormReader(html.parser.HTMLParser):
    """The action and the fields of the first form of a page (or the
    first whose ``class`` has ``cls``)."""

    def __init__(self, cls=None):
        super().__init__()
        self.cls = cls
        self.action = None
        self.fields = {}
        self.reading = self.done = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == 'form' and not self.done:
            classes = (attrs.get('class') or '').split()
            if self.cls is None or self.cls in classes:
                self.reading = True
                self.action = attrs.get('action', '')
        elif tag == 'input' and self.reading and attrs.get('name'):
            self.fields[attrs['name']] = attrs.get('value') or ''

    def handle_endtag(self, tag):
        if tag == 'form' and self.reading:
            self.reading = False
            self.done = True


class CodeBlockTests(unittest.TestCase):
    """The reader of the chapter's blocks."""

    def test_named_blocks_with_options_and_nesting(self):
        blocks = codeBlocks(textwrap.dedent("""\
            1. A step:

               .. code-block:: python
                  :name: one
                  :caption: a/b.py

                  def f():

                      return 1

               Text after it.

            .. code-block:: shell

               echo unnamed

            .. code-block:: shell
               :name: two

               echo two
            """))
        self.assertEqual(blocks, {
            'one': Block('python', 'a/b.py', 'def f():\n\n    return 1\n'),
            'two': Block('shell', None, 'echo two\n')})

    def test_a_name_given_twice_is_refused(self):
        text = ('.. code-block:: shell\n   :name: a\n\n   true\n\n'
                '.. code-block:: shell\n   :name: a\n\n   false\n')
        with self.assertRaises(ValueError):
            codeBlocks(text)


class RecipeLayer:
    """The recipes of docs/zope.rst in real Zope instances: slow (Zope
    starts several times), so apart."""

    @classmethod
    def setUp(cls):
        pass

    @classmethod
    def tearDown(cls):
        pass


@unittest.skipUnless(os.path.exists(CHAPTER), 'docs/zope.rst is not here'
                     ' (an installed package): run the tests of a checkout')
@unittest.skipUnless(os.path.exists(os.path.join(BIN, 'mkwsgiinstance')),
                     'Zope is not installed')
class ZopeRecipeTests(unittest.TestCase):

    layer = RecipeLayer

    def setUp(self):
        with open(CHAPTER) as f:
            self.blocks = codeBlocks(f.read())
        self.used = set()
        self.directory = tempfile.mkdtemp(prefix='z3c.taskqueue-recipe-')
        self.addCleanup(shutil.rmtree, self.directory, True)
        self.env = dict(os.environ, PATH=BIN + os.pathsep
                        + os.environ.get('PATH', ''))
        # plone.protect is part of the recipe: it must not be disabled.
        self.env.pop('PLONE_CSRF_DISABLED', None)
        self.zope = None

    def block(self, name):
        self.assertIn(name, self.blocks, 'docs/zope.rst has no block %r'
                      % name)
        self.used.add(name)
        return self.blocks[name]

    def shell(self, name):
        """Run the shell block ``name``; return what it printed."""
        environment = os.path.join(self.directory, '.environment')
        script = ('set -e\n'
                  'pip() { echo "pip: installed already"; }\n'
                  + self.block(name).code
                  + 'env -0 > %s\n' % environment)
        result = subprocess.run(['bash', '-c', script], cwd=self.directory,
                                env=self.env, capture_output=True,
                                text=True, timeout=WAIT * 2)
        output = result.stdout + result.stderr
        self.assertEqual(result.returncode, 0, '%s failed:\n%s'
                         % (name, output))
        with open(environment) as f:
            self.env = dict(entry.split('=', 1)
                            for entry in f.read().split('\0') if entry)
        return output

    def write(self, name):
        """Write the block ``name`` to the file its caption names; a
        ``zope.conf`` block in place of the z3c.taskqueue section there,
        or at the end."""
        block = self.block(name)
        path = os.path.join(self.directory, block.caption)
        if path.endswith('zope.conf'):
            with open(path) as f:
                text = re.sub(r'\n<product-config z3c\.taskqueue>.*?'
                              r'</product-config>\n', '\n', f.read(),
                              flags=re.S)
            with open(path, 'w') as f:
                f.write(text + '\n' + block.code)
            return
        with open(path, 'w') as f:
            f.write(block.code)

    def makeInstance(self):
        """Steps 1 and 2: the instance, and myapp with its ZCML."""
        self.shell('zope-install')
        ini = os.path.join(self.directory, 'instance', 'etc', 'zope.ini')
        from z3c.taskqueue.testing import freePort
        self.port = freePort()
        with open(ini) as f:
            text = f.read()
        self.assertIn('port = 8080', text)
        with open(ini, 'w') as f:
            f.write(text.replace('port = 8080', 'port = %d' % self.port))
        self.shell('zope-package')
        for name in ('zope-tasks', 'zope-zcml', 'zope-include',
                     'zope-views'):
            self.write(name)

    def startZope(self):
        """Step 5, in the background; return once Zope answers."""
        command = self.block('zope-start').code.strip()
        self.assertNotIn('\n', command)
        self.log = os.path.join(self.directory, 'zope-%d.log'
                                % len(self.used))
        with open(self.log, 'w') as out:
            self.zope = subprocess.Popen(
                ['bash', '-c', 'exec ' + command], cwd=self.directory,
                env=self.env, stdout=out, stderr=subprocess.STDOUT)
        self.addCleanup(self.killZope, self.zope)
        self.waitFor(self.answers, 'Zope to start')

    def answers(self):
        if self.zope.poll() is not None:
            self.fail('Zope ended:\n' + self.output())
        try:
            socket.create_connection(('127.0.0.1', self.port), 1).close()
            return True
        except OSError:
            return False

    def stopZope(self):
        """Step 7."""
        self.zope.send_signal(signal.SIGTERM)
        self.assertEqual(self.zope.wait(WAIT), -signal.SIGTERM,
                         self.output())

    def killZope(self, zope):
        if zope.poll() is None:
            zope.kill()
            zope.wait()

    def output(self):
        with open(self.log) as f:
            return f.read()

    def request(self, path, data=None, status=200, user='admin:admin',
                opener=None):
        url = 'http://127.0.0.1:%d/%s' % (self.port, path)
        request = urllib.request.Request(
            url, data=None if data is None else urllib.parse.urlencode(
                data).encode())
        request.add_header('Authorization', 'Basic '
                           + base64.b64encode(user.encode()).decode())
        opener = opener or urllib.request.build_opener()
        try:
            with opener.open(request, timeout=WAIT) as response:
                code, body = response.status, response.read()
        except urllib.error.HTTPError as error:
            code, body = error.code, error.read()
        body = body.decode('utf-8')
        self.assertEqual(code, status, '%s: %s\n%s' % (path, body[:2000],
                                                       self.output()[-5000:]))
        return body

    def remind(self, site, user):
        """Fill in and post the form of ``site``'s ``@@remind``, as a
        browser does; return the job's id."""
        form = FormReader()
        form.feed(self.request(site + '/@@remind'))
        self.assertEqual(form.action, '@@remind')
        self.assertIn('_authenticator', form.fields)
        form.fields['user'] = user
        answer = self.request(site + '/' + form.action, form.fields)
        self.assertRegex(answer, r'^queued job -?\d+$')
        return int(answer.split()[-1])

    def waitForJob(self, page, jobid, expected='completed'):
        """Wait until the job page ``page`` says that job ``jobid``
        completed (or ended as ``expected``); return its output (or
        error)."""
        url = '%s?service=tasks&id=%d' % (page, jobid)

        def finished():
            body = self.request(url)
            status = re.search(r'<th>status</th>\s*<td>(\w+)</td>', body)
            self.assertIsNotNone(status, body)
            if status.group(1) in ('completed', 'error', 'cancelled'):
                self.assertEqual(status.group(1), expected,
                                 'job %d: %s' % (jobid, body))
                return True
            return False
        self.waitFor(finished, 'job %d' % jobid)
        name = 'output' if expected == 'completed' else 'error'
        output = re.search(r'<th>%s</th>\s*<td>([^<]*)</td>' % name,
                           self.request(url))
        return html.unescape(output.group(1))

    def waitFor(self, condition, what):
        deadline = time.monotonic() + WAIT
        while not condition():
            if time.monotonic() > deadline:
                self.fail('timed out waiting for %s' % what)
            time.sleep(0.2)

    def assertAllUsed(self, prefix):
        self.assertEqual(
            sorted(name for name in self.blocks if name.startswith(prefix)
                   and name not in self.used), [])

    def test_the_zope_recipe(self):
        self.makeInstance()
        self.write('zope-setup')
        self.shell('zope-setup-run')
        self.write('zope-conf')
        self.startZope()
        self.waitFor(lambda: 'starting service site1@tasks' in self.output(),
                     'the service to start')

        # Step 6: the form, with plone.protect's token in it.
        jobid = self.remind('site1', 'alice')
        # Step 8: the ZMI's job page.
        self.assertEqual(self.waitForJob('site1/manage_taskqueue_job',
                                         jobid),
                         "'reminded alice in site1 as admin'")
        # What step 6 warns of: a post without the token is answered,
        # and rolled back.
        answer = self.request('site1/@@remind', {'user': 'eve'})
        lost = int(answer.split()[-1])
        self.request('site1/manage_taskqueue_job?service=tasks&id=%d'
                     % lost, status=404)
        self.assertIn('Error checking for CSRF', self.output())

        self.stopZope()
        self.assertIn('Processor taskqueue.site1@tasks stopped',
                      self.output())

        # A script adds a job, and a worker runs it.
        self.write('zope-enqueue')
        out = self.shell('zope-enqueue-run')
        jobid = int(re.search(r'^queued job (-?\d+)$', out, re.M).group(1))
        self.assertIn('1 jobs done, 0 to go', out)
        self.assertRegex(out, r'\n%d +remind +completed ' % jobid)
        shown = subprocess.run(
            ['z3c-taskqueue', 'show', 'file://instance/var/Data.fs',
             '--service', 'site1@tasks', str(jobid)], cwd=self.directory,
            env=self.env, capture_output=True, text=True, timeout=WAIT)
        self.assertIn("output:      'reminded bob in site1 as admin'",
                      shown.stdout, shown.stderr)
        self.assertAllUsed('zope-')

    def retitle(self, member, title):
        """As ``member``, post a new title for the page with the form of
        its ``@@retitle``; return the job's id."""
        user = '%s:secret' % member
        form = FormReader()
        form.feed(self.request('Plone/page/@@retitle', user=user))
        self.assertIn('_authenticator', form.fields)
        form.fields['title'] = title
        answer = self.request('Plone/page/' + form.action, form.fields,
                              user=user)
        self.assertRegex(answer, r'^queued job -?\d+$')
        return int(answer.split()[-1])

    @unittest.skipUnless(PLONE, 'Plone is not installed')
    def test_the_plone_recipe(self):
        self.makeInstance()
        self.shell('plone-install')
        self.write('plone-site')
        self.shell('plone-site-run')
        for name in ('plone-task', 'plone-task-zcml', 'plone-task-include',
                     'plone-content'):
            self.write(name)
        self.shell('plone-content-run')
        self.write('plone-conf')
        self.startZope()
        self.waitFor(lambda: 'starting service Plone@tasks' in self.output(),
                     'the service to start')
        jobid = self.remind('Plone', 'alice')
        self.assertEqual(self.waitForJob('Plone/@@taskqueue-job', jobid),
                         "'reminded alice in Plone as admin'")

        # The task that edits content, as Mary, who may...
        jobid = self.retitle('mary', 'Zeppelins')
        self.assertEqual(self.waitForJob('Plone/@@taskqueue-job', jobid),
                         "'retitled page as mary'")
        # The catalog knows the new title, and forgot the old one.
        for words, count in (('Zeppelins', 1), ('Welcome', 0)):
            found = self.request('Plone/@@search?SearchableText=' + words)
            self.assertRegex(found, r'id="search-results-number"[^>]*>%d<'
                             % count)
        # ... and as Joe, who may not.
        failed = self.retitle('joe', 'Mine')
        self.assertEqual(self.waitForJob('Plone/@@taskqueue-job', failed,
                                         'error'),
                         'Unauthorized: joe may not edit page')
        self.assertNotIn('Mine', self.request('Plone/page'))
        self.assertIn('Zeppelins', self.request('Plone/page'))

        # A page loaded before a restart: its Retry button still works
        # (plone.protect's token is keyed by the site's keyring).
        form = FormReader('actions')
        form.feed(self.request('Plone/@@taskqueue-job?service=tasks&id=%d'
                               % failed))
        self.assertIn('_authenticator', form.fields)
        self.stopZope()
        self.assertIn('Processor taskqueue.Plone@tasks stopped',
                      self.output())
        self.startZope()
        cookies = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor())
        page = self.request(urllib.parse.urlsplit(form.action).path[1:],
                            dict(form.fields, action='retry'),
                            opener=cookies)
        self.assertIn('Job %d is queued again.' % failed, page)
        self.assertAllUsed('plone-')


def test_suite():
    return unittest.defaultTestLoader.loadTestsFromName(__name__)
