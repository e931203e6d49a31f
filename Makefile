# KIA – the two commands of the README: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# Two stamps: what running KIA needs (make run), and the development extras on top (make test, make install).
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
# The map page's Leaflet and leaflet.markercluster, from the npm registry as package-lock.json pins them, copied into
# web/static/vendor/ (git-ignored) for the app to serve: nothing is loaded from another host.
VENDOR := web/static/vendor
VENDOR_STAMP := $(VENDOR)/.installed
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/kia_test
export KIA_SESSION_COOKIE_SECURE ?= 0

.PHONY: run test test-pg install vendor browser bench-ingest bench-profile bench-sweep bench-gallring bench-tertial bench-inbox bench-pages bench-alarm clean messages

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $(STAMP)

$(DEV_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(DEV_STAMP)

$(VENDOR_STAMP): package.json package-lock.json
	.ci/ensure-npm
	npm ci --no-audit --no-fund --loglevel=error
	rm -rf $(VENDOR)
	mkdir -p $(VENDOR)/images
	cp node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css $(VENDOR)/
	cp node_modules/leaflet/dist/images/*.png $(VENDOR)/images/
	cp node_modules/leaflet.markercluster/dist/leaflet.markercluster.js \
	   node_modules/leaflet.markercluster/dist/MarkerCluster.css \
	   node_modules/leaflet.markercluster/dist/MarkerCluster.Default.css $(VENDOR)/
	touch $@

## The map's JavaScript into web/static/vendor/ (npm ci; needs npm).
vendor: $(VENDOR_STAMP)

## Everything, with the development extras (what CI installs before make test).
install: $(DEV_STAMP) $(VENDOR_STAMP)

## Migrate the SQLite database under instance/, load demo data if it is new, serve web + API with the scheduler
## on KIA_HOST:KIA_PORT (default 127.0.0.1:5000).
run: $(STAMP) $(VENDOR_STAMP)
	$(BIN)/kia db upgrade
	if $(BIN)/kia db is-new; then $(BIN)/kia demo-data --incidents 500; fi
	$(BIN)/kia run

## Debian's chromium and axe-core for the browser tests in tests/e2e (skipped without them).
browser:
	.ci/install-browser

## The whole suite on SQLite (no server needed).
test: $(DEV_STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

## The whole suite on PostgreSQL (a fresh database kia_test on the local server).
test-pg: $(DEV_STAMP)
	KIA_TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest $(PYTEST_ARGS)

bench-ingest: $(DEV_STAMP)
	$(BIN)/python bench/ingest.py

## Python calls and SQL statements per filing (API, anonymous, web form) against the baseline, and their profiles.
bench-profile: $(DEV_STAMP)
	$(BIN)/python bench/profile_filing.py

bench-sweep: $(DEV_STAMP)
	$(BIN)/python bench/sweep.py

## Tertial statistics over 1,000,000 incidents on PostgreSQL (database kia_bench_tertial).
bench-gallring: $(DEV_STAMP)
	$(BIN)/python bench/gallring.py

bench-alarm: $(DEV_STAMP)
	$(BIN)/python bench/alarm.py

bench-tertial: $(DEV_STAMP)
	$(BIN)/python bench/tertial.py

## A safety officer's inbox over 200,000 cases on PostgreSQL (database kia_bench_inbox).
bench-inbox: $(DEV_STAMP)
	$(BIN)/python bench/inbox.py

## Server time of the inbox and case pages over 200,000 cases on PostgreSQL (database kia_bench_pages).
bench-pages: $(DEV_STAMP)
	$(BIN)/python bench/pages.py

clean:
	rm -rf $(VENV) .pytest_cache

## Extract translatable strings and update the Swedish catalogue (then translate the new msgstr "").
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k lazy_gettext -o kia/translations/messages.pot --no-location --sort-output .
	$(BIN)/pybabel update -i kia/translations/messages.pot -d kia/translations --no-fuzzy-matching
