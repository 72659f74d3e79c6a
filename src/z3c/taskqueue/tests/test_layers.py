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
"""The layers: imports run one way, and never in a circle."""
import ast
import os
import unittest

import z3c.taskqueue


PACKAGE = 'z3c.taskqueue'
ROOT = os.path.dirname(z3c.taskqueue.__file__)

#: The layers, from the bottom up: a module may import its own layer's
#: modules and those of the layers below it (``docs/architecture.rst``).
LAYERS = (
    ('interfaces', 'events', '_oldpaths'),
    ('cron',),
    ('model', ''),      # '': the package's __init__, which re-exports
    ('reports',),
    ('zope',),
    ('database',),
    ('processing',),
    ('dashboard',),
    ('commands',),
    ('testing',),
)

#: Imports up a layer made when a function runs, never at import time,
#: each with its reason.
UPWARD_WHEN_CALLED = {
    # The seed's API starts processing from the service.
    ('model._processing', 'processing._threads'),
    ('model._processing', 'processing.processor'),
}


def modules():
    """Yield the dotted name and the path of every module of the package
    but its tests."""
    for directory, dirs, files in os.walk(ROOT):
        dirs[:] = sorted(d for d in dirs
                         if d not in ('tests', '__pycache__'))
        for name in sorted(files):
            if not name.endswith('.py'):
                continue
            path = os.path.join(directory, name)
            parts = os.path.relpath(path, ROOT)[:-3].split(os.sep)
            if parts[-1] == '__init__':
                parts.pop()
            yield '.'.join(parts), path


def imports(name, path):
    """Return the modules of the package that module ``name`` imports:
    two sets of names relative to the package, those imported when it is
    imported and those imported inside functions."""
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    known = {module for module, unused in modules()}
    atImport, whenCalled = set(), set()

    def targets(node):
        found = []
        if isinstance(node, ast.Import):
            found = [alias.name for alias in node.names]
        elif node.level:
            raise AssertionError('%s: a relative import' % name)
        else:
            for alias in node.names:
                full = '%s.%s' % (node.module, alias.name)
                inPackage = full[len(PACKAGE) + 1:]
                # ``from package import module``, or a name of a module.
                found.append(full if inPackage in known else node.module)
        return [target[len(PACKAGE) + 1:] if target != PACKAGE else ''
                for target in found
                if target == PACKAGE or target.startswith(PACKAGE + '.')]

    def visit(node, inFunction):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                (whenCalled if inFunction else atImport).update(
                    targets(child))
            visit(child, inFunction or isinstance(
                child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)))
    visit(tree, False)
    return atImport, whenCalled - atImport


def layerOf(name):
    top = name.split('.')[0]
    for rank, layer in enumerate(LAYERS):
        if top in layer or (name == '' and '' in layer):
            return rank
    raise AssertionError('module %r is in no layer' % name)


class LayerTests(unittest.TestCase):

    def test_every_module_is_in_a_layer(self):
        for name, path in modules():
            layerOf(name)

    def test_imports_run_down_the_layers(self):
        wrong = []
        for name, path in modules():
            atImport, whenCalled = imports(name, path)
            for target in sorted(atImport | whenCalled):
                if layerOf(target) <= layerOf(name):
                    continue
                if (target in whenCalled
                        and (name, target) in UPWARD_WHEN_CALLED):
                    continue
                wrong.append('%s imports %s' % (name or PACKAGE, target))
        self.assertEqual(wrong, [])

    def test_the_exceptions_are_still_needed(self):
        # An exception that no module makes any more is dropped.
        made = set()
        for name, path in modules():
            made.update((name, target) for target in imports(name, path)[1])
        self.assertEqual(UPWARD_WHEN_CALLED - made, set())

    def test_no_module_imports_itself_through_others(self):
        graph = {name: imports(name, path)[0] for name, path in modules()}
        cycles = []
        # Depth-first search for a back edge, module by module.
        state = {}

        def visit(name, trail):
            state[name] = 'open'
            for target in sorted(graph.get(name, ())):
                if state.get(target) == 'open':
                    cycles.append(trail[trail.index(target):] + [target])
                elif target not in state:
                    visit(target, trail + [target])
            state[name] = 'done'
        for name in sorted(graph):
            if name not in state:
                visit(name, [name])
        self.assertEqual(cycles, [])

    def test_a_layer_that_imports_up_fails(self):
        # The check itself: an import up a layer is found.
        self.assertGreater(layerOf('commands.command'),
                           layerOf('model.service'))
        atImport, whenCalled = imports(
            'model._processing',
            os.path.join(ROOT, 'model', '_processing.py'))
        self.assertIn('processing.processor', whenCalled)
        self.assertNotIn('processing.processor', atImport)
