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
"""The distribution as PyPI would take it: the sdist and the wheel that
``python -m build`` makes from a copy of the checkout pass ``twine check
--strict``, name only known classifiers and ship every file they need."""
import email
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import unittest
import zipfile

from z3c.taskqueue.tests._support import installed


HERE = os.path.dirname(os.path.abspath(__file__))
CHECKOUT = os.path.normpath(os.path.join(HERE, '..', '..', '..', '..'))
TOOLS = installed('build', 'twine', 'trove_classifiers')
IN_CHECKOUT = os.path.exists(os.path.join(CHECKOUT, 'setup.py'))

#: What is left out of the copy that is built: the products of earlier
#: builds and runs, which the sdist must not depend on.
LEFT_OUT = shutil.ignore_patterns(
    '.git', '.venv*', 'build', 'dist', 'var', '_build', '*.egg-info',
    '__pycache__', '*.pyc', '.coverage*', 'htmlcov')


class PackagingLayer:
    """Builds the sdist and the wheel once, from a copy of the checkout
    (a build writes ``*.egg-info`` and ``build/`` where it runs)."""

    directory = None
    sdist = wheel = None

    @classmethod
    def setUp(cls):
        if not (TOOLS and IN_CHECKOUT):
            return      # the tests skip, saying why
        cls.directory = tempfile.mkdtemp()
        source = os.path.join(cls.directory, 'source')
        shutil.copytree(CHECKOUT, source, ignore=LEFT_OUT)
        out = os.path.join(cls.directory, 'dist')
        # No isolation: the build uses this environment's setuptools and
        # downloads nothing.
        result = subprocess.run(
            [sys.executable, '-m', 'build', '--no-isolation', '--outdir',
             out, source], capture_output=True, text=True, timeout=600)
        if result.returncode:
            raise RuntimeError('python -m build failed:\n' + result.stdout
                               + result.stderr)
        for name in os.listdir(out):
            if name.endswith('.tar.gz'):
                cls.sdist = os.path.join(out, name)
            elif name.endswith('.whl'):
                cls.wheel = os.path.join(out, name)

    @classmethod
    def tearDown(cls):
        if cls.directory is not None:
            shutil.rmtree(cls.directory)
            cls.directory = None


class PackagingTests(unittest.TestCase):

    layer = PackagingLayer

    def setUp(self):
        if not TOOLS:
            self.skipTest('build, twine or trove-classifiers is not'
                          ' installed: pip install -e .[test]')
        if not IN_CHECKOUT:
            self.skipTest('not run from a checkout: no setup.py in %s'
                          % CHECKOUT)

    def metadata(self):
        with zipfile.ZipFile(PackagingLayer.wheel) as wheel:
            name, = [name for name in wheel.namelist()
                     if name.endswith('.dist-info/METADATA')]
            return email.message_from_bytes(wheel.read(name))

    def test_twine_check_strict_passes(self):
        result = subprocess.run(
            [sys.executable, '-m', 'twine', 'check', '--strict',
             PackagingLayer.sdist, PackagingLayer.wheel],
            capture_output=True, text=True, timeout=300)
        self.assertEqual(result.returncode, 0,
                         result.stdout + result.stderr)
        self.assertEqual(result.stdout.count('PASSED'), 2, result.stdout)

    def test_only_known_classifiers(self):
        from trove_classifiers import classifiers
        named = self.metadata().get_all('Classifier')
        self.assertIn('Framework :: Zope :: 6', named)
        self.assertEqual([name for name in named if name not in classifiers],
                         [])

    def test_project_urls(self):
        urls = dict(value.split(', ', 1)
                    for value in self.metadata().get_all('Project-URL'))
        self.assertEqual(sorted(urls), ['Changelog', 'Issues', 'Source'])

    def test_the_sdist_ships_the_docs_and_the_package(self):
        with tarfile.open(PackagingLayer.sdist) as sdist:
            shipped = {name.split('/', 1)[1] for name in sdist.getnames()
                       if '/' in name}
        wanted = set()
        for top in ('docs', 'src', 'benchmarks'):
            for directory, dirs, files in os.walk(
                    os.path.join(CHECKOUT, top)):
                dirs[:] = [name for name in dirs
                           if name not in ('__pycache__', '_build')
                           and not name.endswith('.egg-info')]
                wanted.update(
                    os.path.relpath(os.path.join(directory, name), CHECKOUT)
                    for name in files if not name.endswith('.pyc'))
        self.assertIn('docs/_static/dashboard/overview.png', wanted)
        self.assertEqual(sorted(wanted - shipped), [])

    def test_the_wheel_ships_the_templates_and_zcml(self):
        with zipfile.ZipFile(PackagingLayer.wheel) as wheel:
            names = set(wheel.namelist())
        for name in ('z3c/taskqueue/configure.zcml',
                     'z3c/taskqueue/dashboard/templates/overview.pt',
                     'z3c/taskqueue/dashboard/static/style.css',
                     'z3c/taskqueue/README.rst'):
            self.assertIn(name, names)


def test_suite():
    return unittest.defaultTestLoader.loadTestsFromName(__name__)
