# ChatHub: `make run` serves on 127.0.0.1:5001; `make test` runs the whole suite (SQLite + PostgreSQL).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export FLASK_APP := wsgi.py

.PHONY: run test venv dev-deps migrate seed lint bench clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev-installed: $(VENV)/.installed requirements-dev.txt
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

dev-deps: $(VENV)/.dev-installed

migrate: venv
	$(VENV)/bin/flask db upgrade

seed: migrate
	$(VENV)/bin/flask chathub seed

run: seed
	$(VENV)/bin/gunicorn -c gunicorn.conf.py wsgi:app

# Two instances (WEB_CONCURRENCY gevent workers each, ports 5001 and 5002) on PostgreSQL + Redis: bench/cluster.sh
.PHONY: run-scaled
run-scaled: venv
	bash bench/cluster.sh

test: dev-deps
	PYTHON=$(PY) bash tests/support/run_suite.sh

lint: dev-deps
	$(VENV)/bin/ruff check chathub tests bench

bench: dev-deps
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache
