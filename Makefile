# The project's verbs. `make run` to try it, `make test` before you push.
PYTHON ?= python3.12
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run worker test bench lint format migrate demo clean audit lock backup restore

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when the dependency list changes. requirements.lock pins every package
# (`make lock` renews it), so what is tested is what `make audit` checks.
$(VENV)/.installed: pyproject.toml requirements.lock | $(BIN)/python
	$(BIN)/python -m pip install --quiet --constraint requirements.lock ".[test]"
	@touch $@

# Pin today's releases of everything pyproject.toml asks for, in a scratch virtualenv.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet ".[test]"
	{ echo "# Every package, pinned: make lock renews it; make audit checks it."; \
	  .lock-venv/bin/python -m pip freeze --exclude-editable | grep -v '^dateline'; } > requirements.lock
	rm -rf .lock-venv

# Known vulnerabilities in the locked set (pip-audit, with PyPI's advisory data); it
# fails on any finding, and on any package it could not check.
audit: $(VENV)/.installed
	$(BIN)/pip-audit --requirement requirements.lock --no-deps --disable-pip --strict \
		--progress-spinner off

migrate: $(VENV)/.installed
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py demo

# The task worker (WebSub pings and other background jobs) runs beside the web server
# and stops with it.
run: demo
	DEBUG=1 $(BIN)/python manage.py ensure_admin
	DEBUG=1 $(BIN)/python manage.py db_worker --no-reload & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	DEBUG=1 $(BIN)/python manage.py runserver $(HOST):$(PORT)

worker: migrate
	$(BIN)/python manage.py db_worker

# Backups of whichever database DATABASE_URL names (db.sqlite3 by default) and the media
# files: `make backup` writes BACKUP_DIR/dateline-backup-<time>.tar.gz; `make restore
# BACKUP=that.tar.gz` loads one into an empty database (FORCE=1 replaces one with posts).
BACKUP_DIR ?= $(HOME)/dateline-backups

backup: $(VENV)/.installed
	$(BIN)/python manage.py backup --output "$(BACKUP_DIR)"

restore: $(VENV)/.installed
	@test -n "$(BACKUP)" || { echo "Usage: make restore BACKUP=path/to/dateline-backup-....tar.gz [FORCE=1]"; exit 2; }
	$(BIN)/python manage.py restore "$(BACKUP)" $(if $(FORCE),--force)
	$(BIN)/python manage.py migrate --noinput

test: $(VENV)/.installed
	$(BIN)/python -m pytest

# Every public page under load beside a trivial view, page cache on and off; results in
# bench/results/. `make bench POSTS=100000`; BENCH_ARGS="--seconds 2" for a quick look.
POSTS ?= 1000
BENCH_ARGS ?=

$(VENV)/.bench-installed: pyproject.toml requirements.lock | $(BIN)/python
	$(BIN)/python -m pip install --quiet --constraint requirements.lock ".[test,bench]"
	@touch $@

bench: $(VENV)/.bench-installed
	@command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null
	$(BIN)/python -m tests.bench --posts $(POSTS) $(BENCH_ARGS)

# The production shape proven on this machine (no Docker): PostgreSQL, Redis, two gunicorn
# app servers, the task worker and nginx, each on its own port; then an app server, the
# database and the cache fail under load (tests/cluster.py). CLUSTER_ARGS="--summary FILE".
CLUSTER_ARGS ?=

.PHONY: cluster-test
cluster-test: $(VENV)/.installed
	@command -v nginx >/dev/null && command -v wrk >/dev/null && command -v redis-server >/dev/null \
		|| DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx wrk redis-server >/dev/null
	$(BIN)/python -m tests.cluster $(CLUSTER_ARGS)

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache .cache staticfiles
