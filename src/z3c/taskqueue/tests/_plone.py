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
"""A real Plone 6 site for the tests, with the add-on's profile
installed, a page, and members."""
from plone.app.testing import PLONE_FIXTURE
from plone.app.testing import TEST_USER_ID
from plone.app.testing import FunctionalTesting
from plone.app.testing import PloneSandboxLayer
from plone.app.testing import applyProfile
from plone.app.testing import setRoles
from zope.component.hooks import getSite


def retitle(input):
    """Give the page at ``input['path']`` a new title and reindex it, as
    the user the job runs as; say who that was and what they may do."""
    from AccessControl import getSecurityManager
    site = getSite()
    page = site.restrictedTraverse(input['path'])
    security = getSecurityManager()
    if not security.checkPermission('Modify portal content', page):
        from AccessControl import Unauthorized
        raise Unauthorized('%s may not edit %s'
                           % (security.getUser().getId(), input['path']))
    page.setTitle(input['title'])
    page.reindexObject()
    return {'user': security.getUser().getId(), 'url': page.absolute_url()}


class PloneLayer(PloneSandboxLayer):

    defaultBases = (PLONE_FIXTURE,)

    def setUpZope(self, app, configurationContext):
        import z3c.taskqueue.tests
        self.loadZCML('plone.zcml', package=z3c.taskqueue.tests)

    def setUpPloneSite(self, portal):
        applyProfile(portal, 'z3c.taskqueue:default')
        setRoles(portal, TEST_USER_ID, ['Manager'])
        portal.invokeFactory('Document', 'doc', title='The old title')
        acl_users = portal.acl_users
        for member in ('mary', 'joe'):
            acl_users.userFolderAddUser(member, 'secret', ['Member'], [])
        portal.doc.manage_setLocalRoles('mary', ['Editor'])
        setRoles(portal, TEST_USER_ID, ['Member'])


PLONE_LAYER = PloneLayer(name='z3c.taskqueue:Plone')
PLONE_FUNCTIONAL = FunctionalTesting(bases=(PLONE_LAYER,),
                                     name='z3c.taskqueue:Plone:Functional')
