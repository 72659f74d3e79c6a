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
"""Setup for the z3c.taskqueue distribution."""
import os

from setuptools import find_namespace_packages
from setuptools import setup


def read(*names):
    with open(os.path.join(os.path.dirname(__file__), *names)) as f:
        return f.read()


setup(
    name='z3c.taskqueue',
    version='1.0.dev0',
    description='A ZODB-native task queue and cron service',
    long_description=(
        read('README.rst') + '\n\n' +
        read('src', 'z3c', 'taskqueue', 'README.rst') + '\n\n' +
        read('CHANGES.rst')),
    long_description_content_type='text/x-rst',
    author='Zope Foundation and Contributors',
    author_email='zope-dev@zope.dev',
    license='ZPL-2.1',
    keywords='zodb zope task queue cron jobs',
    url='https://github.com/zopefoundation/z3c.taskqueue',
    project_urls={
        'Source': 'https://github.com/zopefoundation/z3c.taskqueue',
        'Issues': 'https://github.com/zopefoundation/z3c.taskqueue/issues',
        'Changelog': 'https://github.com/zopefoundation/z3c.taskqueue'
                     '/blob/master/CHANGES.rst',
    },
    classifiers=[
        'Development Status :: 3 - Alpha',
        'Framework :: Plone',
        'Framework :: Plone :: 6.2',
        'Framework :: Plone :: Addon',
        'Framework :: ZODB',
        'Framework :: Zope',
        'Framework :: Zope :: 6',
        'Intended Audience :: Developers',
        'Programming Language :: Python :: 3',
        'Programming Language :: Python :: 3 :: Only',
        'Topic :: System :: Distributed Computing',
    ],
    package_dir={'': 'src'},
    packages=find_namespace_packages('src', include=['z3c.*']),
    include_package_data=True,
    zip_safe=False,
    python_requires='>=3.10',
    install_requires=[
        'BTrees',
        'persistent',
        'transaction',
        'ZODB',
        'zope.component',
        'zope.configuration',
        'zope.event',
        'zope.interface',
        'zope.location',
        'zope.schema',
        'ZEO',
        'zodburi',
    ],
    entry_points={
        'console_scripts': [
            'z3c-taskqueue = z3c.taskqueue.commands.command:main',
        ],
        # Plone loads the package's ZCML by itself (plone.autoinclude).
        'z3c.autoinclude.plugin': [
            'target = plone',
        ],
        # Databases of z3c.taskqueue 0.2 and lovely.remotetask, converted
        # with zodbupdate --convert-py3 (see docs/upgrading.rst).
        'zodbupdate': [
            'renames = z3c.taskqueue.model._zodbupdate:renames',
        ],
        'zodbupdate.decode': [
            'decodes = z3c.taskqueue.model._zodbupdate:decodes',
        ],
    },
    extras_require={
        # The web dashboard and /metrics (z3c-taskqueue dashboard).
        'dashboard': [
            'Chameleon',
            'prometheus_client',
            'waitress',
        ],
        'test': [
            'Chameleon',
            'coverage >= 7.10',     # [run] patch = subprocess
            'prometheus_client',
            # The browser tests drive Debian's chromium (chromium-driver).
            'selenium',
            'waitress',
            'hypothesis',
            # A real Zope for the Zope layer: plone.testing's WSGI layers.
            'plone.testing[zope]',
            'zope.principalregistry',
            'zope.processlifetime',
            'zope.site',
            'zope.testing',
            'zope.testrunner >= 6.4',
            # The upgrade tests convert Python 2 databases with it.
            'zodbupdate',
            # The packaging test builds the sdist and the wheel and
            # checks them as PyPI would.
            'build',
            'trove-classifiers',
            'twine',
        ],
        'autostart': [
            'zope.processlifetime',
        ],
        # Installing the add-on in Plone 6 (profiles and control panel),
        # and the Plone layer of the tests.  Plone's own constraints file
        # cannot be had here: without the pins, pip takes pre-releases
        # (plone.app.layout 7.0 alphas) that break Plone 6.
        'plone': [
            'Products.CMFPlone >= 6.0, < 7',
            'plone.app.layout < 7',
            'plone.app.contenttypes',
            'plone.app.testing',
        ],
        # psycopg2-binary rather than RelStorage[postgresql], which builds
        # psycopg2 from source and needs libpq's headers and a compiler.
        'relstorage': [
            'RelStorage',
            'psycopg2-binary',
        ],
        'docs': [
            'Sphinx',
            'repoze.sphinx.autointerface',
        ],
    },
)
