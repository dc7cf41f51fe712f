# The README's two commands are `make run` and `make test`; everything else is a helper.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DO_NOT_TRACK := 1

RAW_DIR ?= data/raw
DB ?= data/accurx.duckdb
SCALE ?= demo
HOST ?= 127.0.0.1
PORT ?= 8050
WORKERS ?= 2

.PHONY: venv run serve demo-warehouse test test-fast bench browser-deps lint clean

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check uv
	$(VENV)/bin/uv pip install --quiet --python $(PY) -r constraints.txt
	touch $@

# Builds the embedded demo warehouse only when there is none.
demo-warehouse: venv
	@if [ ! -f $(DB) ]; then \
	  echo "No warehouse at $(DB): generating demo data and building it"; \
	  $(PY) -m warehouse demo --out $(RAW_DIR) --scale $(SCALE) && \
	  $(PY) -m warehouse load $(RAW_DIR) --db $(DB) && \
	  $(PY) -m warehouse build --db $(DB); \
	fi

run: demo-warehouse serve

serve: venv
	ACCURX_DUCKDB_PATH=$(DB) HOST=$(HOST) PORT=$(PORT) WORKERS=$(WORKERS) scripts/serve.sh

# Debian's chromium for the browser tests (never `playwright install`).
browser-deps:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update && apt-get install -y chromium redis-server; \
	  else sudo apt-get update && sudo apt-get install -y chromium redis-server; fi; \
	fi
	@command -v redis-server >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get install -y redis-server; else sudo apt-get install -y redis-server; fi; }

test: venv browser-deps
	mkdir -p .tmp
	TMPDIR=$(CURDIR)/.tmp $(PY) -m pytest --basetemp=$(CURDIR)/.tmp/pytest $(PYTEST_ARGS)

bench: venv
	$(PY) -m benchmarks.run

lint: venv
	$(VENV)/bin/ruff check .

clean:
	rm -rf .tmp data/*.duckdb* warehouse/target warehouse/logs
