"""The tests of the package as a whole, and what every layer's tests share.

Each layer's unit tests are in its own ``tests`` folder
(``model/tests``, ``processing/tests`` ...).  Here: the tests that cross
the layers (the README doctest, the layers themselves, the old module
paths, the promises under concurrency, worker processes on ZEO and
RelStorage, packaging), and the helpers the others import: ``_support``
(databases, connections), ``_workers`` (worker processes), ``_zope`` and
``_plone`` (real Zope and Plone layers), ``_chromium`` (a headless
browser), ``_doctests`` (the narrative doctests' set-up), ``_fragile``,
``_oldtasks`` and ``_py2db`` (Python 2 databases), and ``fixtures``.
"""
