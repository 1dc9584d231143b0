# Every target builds its own virtual environment first, so a fresh clone needs
# nothing but Python 3.11+ and make.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv test lint typecheck pytest audit demo serve run bench clean

# The Bot API sandbox (sandbox/, its own distribution, not in the product's wheel) is
# installed beside the product for the demo, the tests and the benchmarks.
$(STAMP): pyproject.toml sandbox/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,radio,whisper]' -e ./sandbox
	touch $(STAMP)

venv: $(STAMP)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/mypy

pytest: venv
	$(BIN)/pytest -v

# A report, never a failure: known vulnerabilities in the installed dependencies (our own
# editable package skipped), from PyPI's advisory data; an unreachable service prints why.
audit: venv
	-timeout 120 $(BIN)/pip-audit --local --skip-editable --vulnerability-service pypi \
		--timeout 10 --progress-spinner off || true

test: lint typecheck pytest audit

demo: venv
	$(BIN)/shopwatch demo

serve: venv
	$(BIN)/shopwatch demo --serve

run: venv
	$(BIN)/shopwatch run

bench: venv
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
