# The tests of z3c.taskqueue.reports (shared helpers: z3c.taskqueue.tests).
