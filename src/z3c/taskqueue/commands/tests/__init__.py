# The tests of z3c.taskqueue.commands (shared helpers: z3c.taskqueue.tests).
