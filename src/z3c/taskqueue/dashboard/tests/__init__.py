# The tests of z3c.taskqueue.dashboard (shared helpers: z3c.taskqueue.tests).
