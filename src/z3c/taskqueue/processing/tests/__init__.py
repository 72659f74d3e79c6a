# The tests of z3c.taskqueue.processing (shared helpers: z3c.taskqueue.tests).
