# metahall — the two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
WEB := webclient
PYTEST_ARGS ?=

.PHONY: run test test-postgres setup bench screenshots lint browser-deps clean cluster soak chaos

run: setup
	$(VENV)/bin/metahall serve

# Two server processes behind one front on http://127.0.0.1:8080, on this machine's PostgreSQL
# and Redis (docs/deployment.md).
cluster: setup
	$(VENV)/bin/metahall cluster --procs 2

setup: $(VENV)/.installed $(WEB)/node_modules/.installed $(WEB)/vendor/socketio.js

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --disable-pip-version-check -c constraints.txt -e '.[test,bench]'
	touch $@

$(WEB)/node_modules/.installed: $(WEB)/package.json $(WEB)/package-lock.json
	cd $(WEB) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(WEB)/vendor/socketio.js: $(WEB)/vendor-entry.js $(WEB)/node_modules/.installed
	cd $(WEB) && npm run --silent vendor

# Debian's Chromium (and CJK fonts so Chinese renders) for the browser tests; nginx to test the
# reverse-proxy configuration docs/deployment.md gives.
browser-deps:
	@if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi "CJK" || [ ! -x /usr/sbin/nginx ]; then \
		echo "installing chromium, fonts-noto-cjk and nginx with apt-get"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk nginx >/dev/null; \
	fi

# The suites of every feature that stores data run a second time on PostgreSQL (one database per
# server, METAHALL_TEST_POSTGRES=1); always in CI, elsewhere when PostgreSQL is reachable. The
# cluster tests run on PostgreSQL only; tests/reliability has its own PostgreSQL cases (kill -9,
# outages, revocation); the browser and load-test suites drive the same code over the wire.
PG_SUITES := tests/server tests/hall tests/moderation_server tests/interop tests/expo tests/social \
	tests/stage

test: setup browser-deps lint
	$(PY) -m pytest --durations=12 $(PYTEST_ARGS)
	@if [ "$$CI" = "true" ] || $(PY) -c "from tests.pg import postgres_available as a; raise SystemExit(not a())"; then \
		echo "--- the live-server suites again, on PostgreSQL"; \
		METAHALL_TEST_POSTGRES=1 $(PY) -m pytest -q $(PG_SUITES) $(PYTEST_ARGS); \
	else echo "--- PostgreSQL not reachable: the PostgreSQL pass is skipped (it runs in CI)"; fi

test-postgres: setup
	METAHALL_TEST_POSTGRES=1 $(PY) -m pytest -q $(PG_SUITES) $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check server rooms avatars moderation loadtest tests
	$(VENV)/bin/mypy server rooms avatars moderation

bench: setup
	mkdir -p bench/results
	$(PY) -m loadtest.bench_world --out bench/results/world-step.json
	$(PY) -m loadtest.bench_avatar_sync
	$(PY) -m loadtest.bench_hall  # hall: 2,000 citizens, 15 services, 20 counters; take p99, fan-out cost
	$(PY) -m loadtest.bench_webrtc
	$(PY) -m loadtest.bench_stage --steps 1,2,3,4,6 --duration 8  # stage: video viewers per talk
	$(PY) -m loadtest.bench_stage --kind audio --steps 2,5,10,20 --duration 8  # stage: audio only
	$(PY) -m loadtest.bench_expo --live  # expo: booth-presence cost per tick, 500 visitors, 60 booths
	$(PY) -m loadtest.bench_cluster  # cluster: avatars on 1 vs 2 processes, cross-process chat (PostgreSQL + Redis)

# The long reliability runs (docs/reliability.md); make test runs short versions of both.
# soak: 500 bots moving (5 moves/s each), chatting and queueing for 30 minutes; RSS, tick
# duration and leaks. `--rate 10` runs the same mix at 10 moves/s (12 minutes of it: 41 % of
# the server's core, docs/reliability.md).
soak: setup
	mkdir -p bench/results
	$(PY) -m loadtest.soak --bots 500 --minutes 30 --rate 5 --out bench/results/soak

# chaos: kill -9 under queue, lead, report and audit traffic, 30 rounds on SQLite and on
# PostgreSQL (a throw-away database), then every event fuzzed with many more examples.
chaos: setup
	mkdir -p bench/results
	$(PY) -m loadtest.chaos --rounds 30 --seed 1 --out bench/results/chaos-sqlite.json
	$(PY) -m loadtest.chaos --rounds 30 --seed 2 --postgres 127.0.0.1:5432 --out bench/results/chaos-postgresql.json
	METAHALL_FUZZ_EXAMPLES=25 $(PY) -m pytest -q --timeout=1800 tests/reliability/test_fuzz_all_events.py tests/reliability/test_fuzz_http.py tests/reliability/test_fuzz_frames.py

screenshots: setup browser-deps
	$(PY) -m tests.browser.screenshots --out bench/results/screenshots

clean:
	rm -rf $(VENV) $(WEB)/node_modules $(WEB)/vendor
