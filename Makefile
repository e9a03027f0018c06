# The two commands a newcomer types: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v /root/.pyenv/versions/3.12.1/bin/python || command -v python3.12)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_LEADS ?= 5000

.PHONY: run test install migrate demo serve lint fmt bench diagrams messages clean

$(STAMP): requirements.lock pyproject.toml
	@test -n "$(PYTHON)" || { echo "需要 Python 3.12（未找到）"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	touch $(STAMP)

install: $(STAMP)

migrate: install
	mkdir -p var
	$(PY) manage.py migrate --noinput
	$(PY) manage.py compilemessages --ignore=.venv >/dev/null

demo: migrate
	$(PY) manage.py seed_demo --leads $(DEMO_LEADS) --if-empty

# Serves the admin and runs the task cluster side by side; Ctrl-C stops both.
run: demo
	$(PY) manage.py setup_roles
	$(PY) manage.py setup_schedules
	@$(PY) manage.py demo_logins
	@echo "后台地址: http://$(HOST):$(PORT)/admin/"
	trap 'kill 0' EXIT; \
	$(PY) manage.py qcluster & \
	$(PY) manage.py runserver $(HOST):$(PORT)

test: install
	$(PY) manage.py compilemessages --ignore=.venv >/dev/null
	$(PY) -m pytest $(ARGS)

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

fmt: install
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

bench: install
	$(PY) manage.py bench --out bench.json

diagrams: install
	$(PY) manage.py fsm_diagrams

messages: install
	$(PY) manage.py makemessages -l zh_Hans -l en --ignore=.venv --ignore=var
	$(PY) manage.py compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) var/db.sqlite3*
