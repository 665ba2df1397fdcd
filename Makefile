# Warroom: `make run` serves it on http://127.0.0.1:3000, `make test` runs every test,
# `make bench` prints the benchmarks' figures. Each installs what it needs first.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
export PATH := $(HOME)/.cargo/bin:$(PATH)

TARGET_DIR := $(or $(CARGO_TARGET_DIR),$(CURDIR)/target)
SITE_ROOT := $(CURDIR)/target/site
RELEASE_BIN := $(TARGET_DIR)/release/warroom
DEBUG_BIN := $(TARGET_DIR)/debug/warroom
# Under /tmp: as root, Postgres runs as `postgres`, which cannot enter /root.
TEST_PG_DIR := /tmp/warroom-test-postgres
# The token API's contract test runs schemathesis from here (scripts/prerequisites.sh test).
SCHEMATHESIS := $(HOME)/.cache/warroom/schemathesis/bin/schemathesis
# Queries are checked against the committed .sqlx/ data: no database needed to build.
export SQLX_OFFLINE := true

.PHONY: run test bench build check lint prerequisites-build prerequisites-test sqlx-prepare

run: prerequisites-build build
	WARROOM_DEV_LOGIN=$${WARROOM_DEV_LOGIN:-1} LEPTOS_SITE_ROOT=$(SITE_ROOT) \
		LEPTOS_OUTPUT_NAME=warroom LEPTOS_SITE_PKG_DIR=pkg exec $(RELEASE_BIN)

# Release binary and browser bundle (split, hashed, precompressed); only what changed is
# rebuilt, so an unchanged `make run` starts at once (see the script).
build:
	scripts/build.sh

prerequisites-build:
	@scripts/prerequisites.sh build

prerequisites-test:
	@scripts/prerequisites.sh test

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --features warroom-app/ssr -- -D warnings
	cargo clippy -p warroom-app --lib --no-default-features --features hydrate \
		--target wasm32-unknown-unknown -- -D warnings

# Unit, database and HTTP tests on a private Postgres (a fresh database per test), the
# token API against its OpenAPI document (schemathesis; the one ignored test), then the
# browser tests against the release build in Chromium.
test: prerequisites-test
	cargo fmt --all -- --check
	cargo build -p warroom
	$(DEBUG_BIN) db start --data-dir $(TEST_PG_DIR) > $(TARGET_DIR)/test-database-url
	trap '$(DEBUG_BIN) db stop --data-dir $(TEST_PG_DIR)' EXIT; \
	DATABASE_URL="$$(cat $(TARGET_DIR)/test-database-url)" WARROOM_SCHEMATHESIS=$(SCHEMATHESIS) \
		cargo test --workspace -- --include-ignored; \
	scripts/build.sh; \
	cd end2end && npm ci --silent --no-audit --no-fund && \
	WARROOM_BIN=$(RELEASE_BIN) LEPTOS_SITE_ROOT=$(SITE_ROOT) npx playwright test

# BENCH=live, BENCH=status, BENCH=room or BENCH=pages runs one of them; the BENCH_*
# variables each bench documents (durations, sizes) pass through.
BENCH ?= all
bench: prerequisites-build
	@scripts/prerequisites.sh bench
	@case "$(BENCH)" in all|live|status|room|pages) ;; *) echo "BENCH must be all, live, status, room or pages" >&2; exit 2 ;; esac
	if [ "$(BENCH)" = all ] || [ "$(BENCH)" = live ]; then cargo bench -p warroom --bench live_fanout; fi
	if [ "$(BENCH)" = all ] || [ "$(BENCH)" = status ]; then cargo bench -p warroom --bench status_page; fi
	if [ "$(BENCH)" = all ] || [ "$(BENCH)" = room ]; then cargo bench -p warroom --bench room; fi
	# Page weight and the room's hydration in Chromium (end2end/bench/first-visit.spec.ts).
	if [ "$(BENCH)" = all ] || [ "$(BENCH)" = pages ]; then \
		scripts/build.sh && cd end2end && npm ci --silent --no-audit --no-fund && \
		WARROOM_BIN=$(RELEASE_BIN) LEPTOS_SITE_ROOT=$(SITE_ROOT) npx playwright test --config bench.config.ts; fi

# Regenerates .sqlx/ after changing a query (needs a migrated database in DATABASE_URL).
sqlx-prepare:
	rm -rf .sqlx && mkdir .sqlx
	touch app/src/lib.rs server/src/lib.rs
	SQLX_OFFLINE=false SQLX_OFFLINE_DIR=$(CURDIR)/.sqlx cargo build -p warroom --all-targets
