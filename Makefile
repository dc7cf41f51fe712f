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

.PHONY: venv run serve demo-warehouse test test-fast bench browser-deps axe plotly-bundle lint clean

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

# axe-core for the accessibility tests (tests/browser/test_accessibility.py), fetched at
# install time from the npm registry into a git-ignored folder, pinned and checked
# against the registry's sha512 (`npm view axe-core@<v> dist.integrity`). The app never
# serves it: the tests inject it into the page.
AXE_VERSION := 4.14.1
AXE_INTEGRITY := sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ==
AXE_DIR := .cache/axe-core-$(AXE_VERSION)
export ACCURX_AXE_JS := $(CURDIR)/$(AXE_DIR)/axe.min.js

axe: $(AXE_DIR)/axe.min.js

$(AXE_DIR)/axe.min.js:
	@command -v npm >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get install -y npm; else sudo apt-get install -y npm; fi; }
	rm -rf $(AXE_DIR).download && mkdir -p $(AXE_DIR).download
	cd $(AXE_DIR).download && npm pack --silent axe-core@$(AXE_VERSION) >/dev/null
	@actual="sha512-$$(openssl dgst -sha512 -binary $(AXE_DIR).download/axe-core-$(AXE_VERSION).tgz | base64 -w0)"; \
	if [ "$$actual" != "$(AXE_INTEGRITY)" ]; then \
	  echo "axe-core $(AXE_VERSION): integrity mismatch (got $$actual)" >&2; exit 1; fi
	tar -xzf $(AXE_DIR).download/axe-core-$(AXE_VERSION).tgz -C $(AXE_DIR).download package/axe.min.js package/LICENSE
	mkdir -p $(AXE_DIR)
	mv $(AXE_DIR).download/package/LICENSE $(AXE_DIR)/LICENSE
	mv $(AXE_DIR).download/package/axe.min.js $@
	rm -rf $(AXE_DIR).download

# plotly.js with only the trace types the dashboard draws (frontend/plotly/index.js),
# built from the npm registry's plotly.js (pinned with package-lock.json) and committed
# in assets/: run this after changing the trace types or plotly's version. Keep the
# version in step with the one plotly.py ships (PITFALLS.md).
PLOTLY_VERSION := 4.1.1
plotly-bundle:
	cd frontend/plotly && npm ci --no-audit --no-fund
	cd frontend/plotly && ./node_modules/.bin/esbuild index.js --bundle --minify \
	  --format=iife --global-name=Plotly --target=es2016 --define:global=window \
	  --define:define.amd=false --alias:stream=stream-browserify --log-level=warning \
	  --banner:js="/*! plotly.js v$(PLOTLY_VERSION) (scatter, bar, heatmap): frontend/plotly, make plotly-bundle. Copyright 2012-2026, Plotly, Inc. MIT license */" \
	  --outfile=build/plotly-dashboard.min.js
	rm -f assets/plotly-*.min.js
	cp frontend/plotly/build/plotly-dashboard.min.js assets/plotly-dashboard-$(PLOTLY_VERSION).min.js

test: venv browser-deps axe
	mkdir -p .tmp
	TMPDIR=$(CURDIR)/.tmp $(PY) -m pytest --basetemp=$(CURDIR)/.tmp/pytest $(PYTEST_ARGS)

bench: venv
	$(PY) -m benchmarks.run

lint: venv
	$(VENV)/bin/ruff check .

clean:
	rm -rf .tmp .cache data/*.duckdb* warehouse/target warehouse/logs
