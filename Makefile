# Every target builds the virtual environment it needs first, so a fresh clone needs
# nothing but Python 3.11+ and make. Two environments, so each installs only what it uses:
#   .venv      test, lint, typecheck, bench: the product with its test, radio, whisper and video extras
#   .venv-app  demo, serve, run: the product alone and the sandbox for the demo
#              (`make run EXTRAS=radio` adds an extra)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
APP_VENV ?= .venv-app
APP_BIN := $(APP_VENV)/bin
EXTRAS ?=
comma := ,
APP_STAMP := $(APP_VENV)/.installed$(if $(EXTRAS),-$(subst $(comma),-,$(EXTRAS)))
APP_TARGET := .$(if $(EXTRAS),[$(EXTRAS)])

.PHONY: venv app-venv test lint typecheck pytest audit demo serve run bench clean

# The Bot API sandbox (sandbox/, its own distribution, not in the product's wheel) is
# installed beside the product for the demo, the tests and the benchmarks.
$(STAMP): pyproject.toml sandbox/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,radio,whisper,video]' -e ./sandbox
	touch $(STAMP)

$(APP_STAMP): pyproject.toml sandbox/pyproject.toml
	$(PYTHON) -m venv $(APP_VENV)
	$(APP_BIN)/python -m pip install --quiet --upgrade pip
	$(APP_BIN)/python -m pip install --quiet -e '$(APP_TARGET)' -e ./sandbox
	touch $(APP_STAMP)

venv: $(STAMP)

app-venv: $(APP_STAMP)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/mypy

# Side by side on every core: most of a story's time is spent waiting on the sandbox, a
# subprocess or murmurd, so two workers on two cores finish well inside the time budget.
# Each test has its own databases, ports and folders; the wheel checks keep to one worker.
pytest: venv
	$(BIN)/pytest -v -n auto --dist loadgroup

# A report, never a failure: known vulnerabilities in the installed dependencies (our own
# editable package skipped), from PyPI's advisory data; an unreachable service prints why.
audit: venv
	-timeout 120 $(BIN)/pip-audit --local --skip-editable --vulnerability-service pypi \
		--timeout 10 --progress-spinner off || true

test: lint typecheck pytest audit

demo: app-venv
	$(APP_BIN)/shopwatch demo

serve: app-venv
	$(APP_BIN)/shopwatch demo --serve

run: app-venv
	$(APP_BIN)/shopwatch run

bench: venv
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) $(APP_VENV) .mypy_cache .pytest_cache .ruff_cache
