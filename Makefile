# One entry point for running, testing and measuring the server.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# Daphne's WebSocket heartbeat: ping every 20 s, drop a client silent for 30 s.
DAPHNE_FLAGS ?= --ping-interval 20 --ping-timeout 30 --application-close-timeout 5

.PHONY: run test lint fmt migrate bench install install-dev browser

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

migrate: install
	$(BIN)/python manage.py migrate --noinput -v0

run: migrate
	$(BIN)/python manage.py collectstatic --noinput -v0
	$(BIN)/python manage.py import_site site --if-empty
	$(BIN)/python manage.py ensure_demo_user
	@echo "Serving on http://$(HOST):$(PORT)/ (health: /api/health, admin: /admin/)"
	$(BIN)/daphne -b $(HOST) -p $(PORT) $(DAPHNE_FLAGS) voiceproject.asgi:application

# Browser tests drive Debian's chromium; without root or apt they are skipped with a reason
# (under VOICE_REQUIRE_BROWSER=1, as in CI, they fail instead).
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
	  && apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium >/dev/null; } \
	  || echo "chromium could not be installed: browser tests will be skipped"

test: install-dev browser
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

fmt: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install-dev
	$(BIN)/python -m bench
