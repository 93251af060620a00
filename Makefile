# The two commands of the README: `make demo` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup demo test lint docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev,docs]"
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(PY) examples/demo_wordcount.py

lint: setup
	$(VENV)/bin/ruff check src tests examples bench scripts
	$(VENV)/bin/ruff format --check src tests examples bench scripts

test: lint
	@command -v chromium >/dev/null 2>&1 || bash scripts/install_browser.sh || \
		echo "chromium not installed: the browser test will skip"
	$(VENV)/bin/pytest --doctest-modules src tests

docs: setup
	$(VENV)/bin/mkdocs build --strict

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .ruff_cache
