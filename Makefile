# The targets people reach for. Every target sets up the virtualenv first, so each one works
# on a fresh clone with nothing but python3 and make.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: setup run test test-fast lint i18n bench

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

# bun (for the web app's build) comes from the npm registry into .tools/; skipped when present.
setup: $(STAMP)
	./scripts/install_bun.sh

# The demo: DEMO_MODE lets `drive-assist demo code EMAIL` print a demo account's sign-in code.
run: setup
	DEMO_MODE=$${DEMO_MODE:-true} $(VENV)/bin/drive-assist run

# Lint first (seconds), then every test on both databases and in the browser.
test: lint
	$(PY) -m pytest

# The inner loop: unit and integration tests on SQLite only; no PostgreSQL, no browser.
test-fast: setup
	TEST_DATABASES=sqlite $(PY) -m pytest tests/unit tests/integration

# ruff's rules and formatting on the whole tree; mypy on the packages pyproject.toml lists
# ([tool.mypy] files), core strictly.
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# Extract every marked string, merge it into each catalog, and check the catalogs compile.
# Welsh for the new entries then comes from JSON files of translations:
# $(PY) scripts/apply_cy.py FILE.json ... (see its docstring for the format).
# No source locations (line numbers would churn every catalog on each edit); the template is
# replaced only when a message changed, so a rerun with nothing new leaves every file as it was.
i18n: setup
	$(VENV)/bin/pybabel extract --no-wrap --no-location --sort-by-file -F babel.cfg -k N_ -k ngettext:1,2 \
		--add-comments=Translators: --project=drive-assist --copyright-holder="Drive Assist" \
		-o locales/messages.pot.new .
	if test -f locales/messages.pot && diff -I '^"POT-Creation-Date: ' locales/messages.pot locales/messages.pot.new >/dev/null; \
		then rm locales/messages.pot.new; else mv locales/messages.pot.new locales/messages.pot; fi
	$(VENV)/bin/pybabel update --no-wrap --init-missing --ignore-obsolete -i locales/messages.pot -d locales -l en_GB
	$(VENV)/bin/pybabel update --no-wrap --init-missing --ignore-obsolete -i locales/messages.pot -d locales -l cy
	$(PY) scripts/fill_en_gb.py
	$(VENV)/bin/pybabel compile --statistics -d locales

bench: setup
	$(PY) bench/caseload.py
	$(PY) bench/outbox.py
	$(PY) bench/bot_log.py
	$(PY) bench/reports.py
	$(PY) bench/lighthouse.py
