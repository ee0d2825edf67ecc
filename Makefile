# The README's two commands: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
export TIMEBANK_ENV ?= development

.PHONY: run test lint format setup bench clean translations prod

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

setup: $(VENV)/.installed

# The scheduler runs beside the development server and stops with it: the shell's trap
# stops it when the server ends (Ctrl-C, kill), and --exit-with-parent when the shell is
# killed outright.
run: export TIMEBANK_LOG_FORMAT ?= text
run: setup
	$(BIN)/timebank setup --url http://127.0.0.1:$(PORT)
	@$(BIN)/timebank scheduler --exit-with-parent & scheduler=$$!; \
	trap 'kill $$scheduler 2>/dev/null; wait $$scheduler 2>/dev/null' EXIT INT TERM; \
	$(BIN)/timebank run --host 127.0.0.1 --port $(PORT)

# What a small deployment runs on one machine, against the PostgreSQL and Redis named in
# the environment (TIMEBANK_DATABASE_URL, TIMEBANK_RATELIMIT_STORAGE_URL, the secret and
# signing keys: README, "Running in production"): migrate, then gunicorn (gunicorn.conf.py)
# and one scheduler; Ctrl-C or SIGTERM stops both.
prod: export TIMEBANK_ENV = production
prod: setup
	@test -n "$$TIMEBANK_DATABASE_URL" || { echo "TIMEBANK_DATABASE_URL is not set (postgresql+psycopg://...)"; exit 2; }
	$(BIN)/timebank setup --no-demo
	@$(BIN)/timebank scheduler --exit-with-parent & scheduler=$$!; \
	trap 'kill $$scheduler 2>/dev/null; wait $$scheduler 2>/dev/null' EXIT INT TERM; \
	$(BIN)/gunicorn --config gunicorn.conf.py 'timebank:create_app()'

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Both cores by default (pytest-xdist, a database per worker), in random order
# (pytest-randomly); PYTEST_ARGS=-n0 runs serially, --randomly-seed=N repeats an order.
test: lint
	TIMEBANK_ENV=testing $(BIN)/python -m pytest -n auto $(PYTEST_ARGS)

bench: setup
	TIMEBANK_ENV=testing $(BIN)/python bench/run_all.py

translations: setup
	$(BIN)/pybabel extract -F babel.cfg -k _l -k N_ $$($(BIN)/timebank i18n-keywords) \
		--add-location=file --sort-output \
		-o timebank/translations/messages.pot .
	$(BIN)/pybabel update -i timebank/translations/messages.pot -d timebank/translations
	$(BIN)/pybabel compile -d timebank/translations

clean:
	rm -rf $(VENV) instance .pytest_cache
