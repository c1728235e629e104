# The targets people reach for. Every target sets up the virtualenv first, so each one works
# on a fresh clone with nothing but python3 and make.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: setup run test lint i18n bench

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

run: setup
	$(VENV)/bin/drive-assist run

test: setup
	$(PY) -m pytest

lint: setup
	$(VENV)/bin/ruff check .

# Extract every marked string, merge it into each catalog, and check the catalogs compile.
i18n: setup
	$(VENV)/bin/pybabel extract --no-wrap --sort-by-file -F babel.cfg -k N_ -k ngettext:1,2 \
		--project=drive-assist --copyright-holder="Drive Assist" -o locales/messages.pot .
	$(VENV)/bin/pybabel update --no-wrap -i locales/messages.pot -d locales -l en_GB
	$(VENV)/bin/pybabel update --no-wrap -i locales/messages.pot -d locales -l cy
	$(VENV)/bin/pybabel compile --statistics -d locales

bench: setup
	$(PY) bench/caseload.py
