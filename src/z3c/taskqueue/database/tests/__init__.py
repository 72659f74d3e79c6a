# The tests of z3c.taskqueue.database (shared helpers: z3c.taskqueue.tests).
