# Two commands for a fresh clone:  `make run`  and  `make test`.
# Each sets up its own environment from the lock file (uv.lock) first; both are idempotent.
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
STAMP := $(VENV)/.synced
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint typecheck unit bench clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet "uv==$(UV_VERSION)"

$(STAMP): uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen --quiet
	@touch $(STAMP)

## run: build the bundled data into the embedded store (if changed) and serve the platform
run: $(STAMP)
	$(VENV)/bin/lodeline serve --host $(HOST) --port $(PORT)

## test: lint, type-check and the whole test suite
test: lint typecheck unit

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks examples
	$(VENV)/bin/ruff format --check src tests benchmarks examples

typecheck: $(STAMP)
	$(VENV)/bin/mypy

unit: $(STAMP)
	$(VENV)/bin/pytest $(PYTEST_ARGS)

## bench: every benchmark; results are printed and written to benchmarks/results/
## (the API benchmark drives Debian's wrk; it is installed here when missing)
bench: $(STAMP)
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk >/dev/null) || true
	$(VENV)/bin/python -m benchmarks

clean:
	rm -rf $(VENV) $(TOOLS) .mypy_cache .pytest_cache .ruff_cache
