# The two Quick start commands, and a few more for developers.
PYTHON ?= python3
VENV = .venv
BIN = $(VENV)/bin

.PHONY: demo test bench docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip setuptools wheel

# What the tests need (and the benchmarks, and the docs).
$(VENV)/.installed: $(BIN)/python setup.py
	$(BIN)/python -m pip install -e '.[test,plone]'
	touch $@

# The demo needs the package alone, not the test extras (Plone's stack).
$(VENV)/.installed-demo: $(BIN)/python setup.py
	$(BIN)/python -m pip install -e .
	touch $@

demo: $(VENV)/.installed-demo
	$(BIN)/python -m z3c.taskqueue.commands.demo var/demo.fs

# The whole suite under coverage.py (.coveragerc: branches, and the
# processes the tests start); the report is printed even when a test
# fails, and fails the target below its fail_under.
test: $(VENV)/.installed
	rm -f .coverage .coverage.*
	$(BIN)/coverage run -m zope.testrunner --test-path=src -v; \
	tests=$$?; \
	$(BIN)/coverage combine -q; \
	$(BIN)/coverage report; \
	report=$$?; \
	exit $$(( tests ? tests : report ))

# All the benchmarks' tables, one after the other; several minutes.
# bench-zeo adds RelStorage rows when TASKQUEUE_PG_DSN is set.  Each
# bench-* target fails when its benchmark misses a goal; here --no-fail
# lets every table print (each says which goals it missed).
bench: bench-service bench-processing bench-cron bench-zeo bench-listing
bench: ARGS += --no-fail
# One at a time, even with make -j: they would slow each other down.
.NOTPARALLEL: bench

.PHONY: bench-listing
bench-listing: $(VENV)/.installed
	$(BIN)/python benchmarks/bench_listing.py $(ARGS)

.PHONY: bench-service
bench-service: $(VENV)/.installed
	$(BIN)/python benchmarks/bench_service.py $(ARGS)

# Huey is installed for this comparison only; it is no dependency.
# Pass options with ARGS, e.g. make bench-processing ARGS=--quick
.PHONY: bench-processing
bench-processing: $(VENV)/.installed
	$(BIN)/python -c 'import huey' 2>/dev/null \
		|| $(BIN)/python -m pip install huey
	$(BIN)/python benchmarks/bench_processing.py $(ARGS)

# croniter is installed for this comparison only; it is no dependency.
# Pass options with ARGS, e.g. make bench-cron ARGS=--calls=200
.PHONY: bench-cron
bench-cron: $(VENV)/.installed
	$(BIN)/python -c 'import croniter' 2>/dev/null \
		|| $(BIN)/python -m pip install croniter
	$(BIN)/python benchmarks/bench_cron.py $(ARGS)

# Real ZEO servers and worker processes; about two minutes, and about
# two more with RelStorage rows, which need TASKQUEUE_PG_DSN (README.rst,
# "Development").  Pass options with ARGS, e.g. make bench-zeo ARGS=--quick
.PHONY: bench-zeo
bench-zeo: $(VENV)/.installed
	$(BIN)/python benchmarks/bench_zeo.py $(ARGS)

# A Zope site's production shape: a ZEO server, two web instances, two
# worker processes and HTTP clients adding jobs, next to one instance on
# a FileStorage; which objects conflict; about five minutes.  Pass
# options with ARGS, e.g. make bench-zope ARGS='--seconds 30 --clients 4'
.PHONY: bench-zope
bench-zope: $(VENV)/.installed
	$(BIN)/python benchmarks/bench_zope.py $(ARGS)

# How often add() conflicts on a ZEO server while workers claim, one job
# or 1,000 a transaction; about a minute (ARGS=--quick: 25 s).
.PHONY: bench-conflicts
bench-conflicts: $(VENV)/.installed
	$(BIN)/python benchmarks/bench_conflicts.py $(ARGS)

# A worker process's memory over 500,000 no-op jobs (its RSS at every
# tenth of them); fails when it ends more than 10 % above what it was
# once warm.  About a quarter of an hour.  Pass options with ARGS, e.g.
# make bench-soak ARGS='--jobs 100000 --no-fail'
.PHONY: bench-soak
bench-soak: $(VENV)/.installed
	$(BIN)/python benchmarks/bench_soak.py $(ARGS)

docs: $(VENV)/.installed
	$(BIN)/python -m pip install -e '.[docs]'
	$(BIN)/sphinx-build -W -b html docs docs/_build/html

clean:
	rm -rf $(VENV) .venv-minimal var docs/_build build *.egg-info src/*.egg-info
