# The tests of z3c.taskqueue.zope (shared helpers: z3c.taskqueue.tests).
