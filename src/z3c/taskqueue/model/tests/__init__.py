# The tests of z3c.taskqueue.model (shared helpers: z3c.taskqueue.tests).
