# The two commands of the README: `make demo` and `make test`. Both create .venv on first use.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3

.PHONY: demo test lint pytest bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

# The demo's own file, started afresh each time (an interrupted run may leave it half-filled).
demo: $(VENV)/.installed
	rm -f nhacviec-demo.db nhacviec-demo.db-wal nhacviec-demo.db-shm
	$(VENV)/bin/nhacviec --db sqlite:///nhacviec-demo.db demo

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

pytest: $(VENV)/.installed
	$(PY) -m pytest -n 2 $(PYTEST_ARGS)

test: lint pytest

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache nhacviec-demo.db*
