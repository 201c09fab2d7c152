# smsplat developer tasks. `make test` is the same command CI runs.
HOST ?= 127.0.0.1
PORT ?= 8000

VENV  := .venv
PY    := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install run test bench lint fmt clean

$(PY):
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip

# Reinstall only when pyproject.toml changes (or the venv is new).
$(STAMP): pyproject.toml | $(PY)
	$(VENV)/bin/pip install -q -e '.[dev]'
	touch $@

install: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/smsplat serve --host $(HOST) --port $(PORT)

test:
	bash scripts/test.sh

bench: $(STAMP)
	$(PY) -m benchmarks

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	bash scripts/typecheck.sh
	$(VENV)/bin/lint-imports

fmt: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) data/ build/ dist/ *.egg-info \
		.mypy_cache/ .ruff_cache/ .pytest_cache/ .hypothesis/
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
