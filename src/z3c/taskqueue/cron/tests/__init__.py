# The tests of z3c.taskqueue.cron (shared helpers: z3c.taskqueue.tests).
