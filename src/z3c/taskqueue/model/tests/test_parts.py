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
"""The parts of the task service share only the helpers ``PARTS`` lists."""
import ast
import os
import re
import unittest


HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def methods(module):
    """Return the names of the methods the part ``module`` defines."""
    with open(os.path.join(HERE, module + '.py')) as f:
        tree = ast.parse(f.read())
    return {node.name for klass in tree.body
            if isinstance(klass, ast.ClassDef)
            for node in klass.body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}


def calls(module):
    """Return the private methods ``module`` calls on ``self``."""
    with open(os.path.join(HERE, module + '.py')) as f:
        return set(re.findall(r'self\.(_[a-zA-Z]\w*)\(', f.read()))


class PartsTests(unittest.TestCase):

    def setUp(self):
        from z3c.taskqueue.model.service import PARTS
        self.parts = PARTS
        self.defined = {module: methods(module) for module in PARTS}

    def owner(self, name):
        owners = [module for module, names in self.defined.items()
                  if name in names]
        return owners[0] if owners else None

    def test_every_mixin_of_the_service_is_a_part(self):
        from z3c.taskqueue.model.service import TaskService
        modules = {klass.__module__.rpartition('.')[2]
                   for klass in TaskService.__mro__
                   if klass.__module__.startswith('z3c.taskqueue.')}
        self.assertEqual(modules, set(self.parts))

    def test_a_part_calls_only_the_helpers_the_others_offer(self):
        wrong = []
        for module in self.parts:
            for name in sorted(calls(module)):
                owner = self.owner(name)
                if owner in (None, module):
                    continue
                if name not in self.parts[owner][1]:
                    wrong.append('%s calls %s.%s' % (module, owner, name))
        self.assertEqual(wrong, [])

    def test_every_helper_offered_is_defined_and_used_by_another(self):
        used = {}
        for module in self.parts:
            for name in calls(module):
                used.setdefault(name, set()).add(module)
        stale = []
        for module, (unused, helpers) in self.parts.items():
            for name in helpers:
                if name not in self.defined[module]:
                    stale.append('%s does not define %s' % (module, name))
                elif not used.get(name, set()) - {module}:
                    stale.append('no other part calls %s.%s'
                                 % (module, name))
        self.assertEqual(stale, [])
