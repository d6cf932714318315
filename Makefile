# Rapport: `make run` serves the app, `make test` checks everything. Both install the
# tools they need first (idempotent; ~17 min once on a fresh machine, seconds after).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

# npm's binaryen (wasm-opt) must come before any system one: Debian's breaks hydration.
export PATH := $(CURDIR)/end2end/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)
# cargo-leptos compiles with LEPTOS_OUTPUT_NAME set, which changes how leptos names the
# wasm file; set it for every cargo command so all builds agree and share artifacts.
export LEPTOS_OUTPUT_NAME := rapport
# Compile-time checked queries use the committed .sqlx cache; no database needed to build.
export SQLX_OFFLINE := true

CARGO_TEST_FLAGS := --release -p api -p domain -p embedded-pg -p evals -p fakes -p server -p bench -p test-servers

.PHONY: setup build run test fmt-check lint unit e2e wasm-deps-check sqlx-prepare eval eval-ask eval-enrich eval-signatures eval-signatures-cv train-signatures check-signature-weights clean fuzz bench bench-sync bench-contacts bench-thread bench-ingest soak bench-memory bench-caldav bench-jmap bench-inbox bench-search bench-onboarding wrk

setup:
	@.ci/setup.sh

## Release build of the server and the hydrated site (target/site).
build: setup
	cargo leptos build --release

## Serve http://127.0.0.1:3000 with an embedded PostgreSQL in .data/ (see README).
run: build
	exec target/release/server serve

## Formatting, lints, unit + integration tests, then browser tests against the release build.
test: setup fmt-check lint wasm-deps-check build unit e2e
	@echo "make test: all checks passed"

fmt-check:
	cargo fmt --all -- --check

lint:
	cargo clippy --release -p api -p domain -p embedded-pg -p evals -p fakes -p server -p bench -p test-servers --all-targets -- -D warnings
	cargo clippy --release -p frontend --target wasm32-unknown-unknown -- -D warnings

## The browser bundle must not pull in server-only crates.
wasm-deps-check:
	@if cargo tree -p frontend --target wasm32-unknown-unknown -e normal --prefix none \
	    | grep -E '^(sqlx|tokio|reqwest|mio|domain) ' ; then \
	  echo "server-only crates leaked into the wasm bundle (above)"; exit 1; \
	else echo "wasm bundle dependencies: no sqlx, tokio, reqwest"; fi

unit:
	cargo test $(CARGO_TEST_FLAGS)
	cargo test --release -p app --features ssr --lib

e2e:
	cd end2end && npx playwright test

## Fuzz the parsers of untrusted input (MIME, mbox, webhooks, file names, signatures) for
## FUZZ_SECONDS each (not part of `make test`, which runs a fixed-seed round of each).
FUZZ_SECONDS ?= 60
fuzz: setup
	FUZZ_SECONDS=$(FUZZ_SECONDS) cargo test --release -p domain --test fuzz -- --nocapture --test-threads 2

## Benchmarks (not timed tests): figures go to bench/RESULTS.md and bench/results.json.
bench: bench-sync bench-contacts bench-thread bench-ingest bench-caldav bench-jmap bench-inbox bench-search bench-onboarding

## Gmail full sync (1k and 10k messages, quota on and off) and a 100k-message mbox import.
bench-sync: setup
	cargo build --release -p bench -p fakes --bins
	target/release/bench sync $(BENCH_SYNC_ARGS)

## Contacts list and contact page p50/p99 over HTTP with 100k contacts and 1M emails
## (16 clients at once from wrk).
bench-contacts: setup wrk
	cargo build --release -p bench --bins
	target/release/bench contacts $(BENCH_CONTACTS_ARGS)

## The thread page's server-side render for a 100-message conversation, p50/p99.
bench-thread: setup
	cargo build --release -p bench --bins
	target/release/bench thread $(BENCH_THREAD_ARGS)

## A CalDAV poll of an unchanged calendar against Radicale, median over 500 polls.
bench-caldav: setup
	cargo build --release -p bench --bins
	target/release/bench caldav $(BENCH_CALDAV_ARGS)

## Inbox pages (first and deep keyset pages, filters, search) p50/p99 over HTTP at 1M emails.
bench-inbox: setup
	cargo build --release -p bench --bins
	target/release/bench inbox $(BENCH_INBOX_ARGS)

## Webhook ingest (wrk, from Debian) and activity processing with 1, 2 and 4 processors.
bench-ingest: setup wrk
	cargo build --release -p bench --bins
	target/release/bench ingest $(BENCH_INGEST_ARGS)

## wrk, the HTTP load generator of bench-contacts and bench-ingest, from Debian.
wrk:
	command -v wrk >/dev/null || (apt-get install -y wrk || (apt-get update && apt-get install -y wrk))

## A 100,000-message Takeout mbox uploaded to the server and imported to the end, against
## `notmuch new` (Debian) on the same messages; then 20 queries, p50/p99 per query and the
## ratio to `notmuch search`.
bench-search: setup
	command -v notmuch >/dev/null || (apt-get install -y notmuch || (apt-get update && apt-get install -y notmuch))
	cargo build --release -p server -p bench --bins
	target/release/bench search $(BENCH_SEARCH_ARGS)

## Time to first value: a new user's 10,000-message Gmail under the quota, until the
## contacts page lists 20 contacts.
bench-onboarding: setup
	cargo build --release -p server -p bench --bins
	target/release/bench onboarding $(BENCH_ONBOARDING_ARGS)

## Fastmail / JMAP first sync against a real Cyrus (10,000 messages) next to a raw
## JMAP client on the same server.
bench-jmap: setup
	cargo build --release -p bench --bins
	target/release/bench jmap $(BENCH_JMAP_ARGS)

## Soak (not in `make test`): two users, webhooks, syncs, uploads, Ask and pages at once
## for SOAK_SECONDS against the real server and a worker process killed twice; checks
## exactly-once storage, isolation and bounded RSS. make soak SOAK_ARGS="--seconds 60"
SOAK_SECONDS ?= 600
soak: setup
	cargo build --release -p server -p fakes -p bench --bins
	target/release/bench soak --seconds $(SOAK_SECONDS) $(SOAK_ARGS)

## The server's RSS under a 7 GiB single-message mbox and a 20 GiB multipart `name`
## part (needs ~8 GiB free in the temp folder). BENCH_MEMORY_ARGS="--mbox-gib 1 --name-gib 2"
bench-memory: setup
	cargo build --release -p server -p fakes -p bench --bins
	target/release/bench memory $(BENCH_MEMORY_ARGS)

## Contact-building quality: the real pipeline over the synthetic mailbox vs its ground
## truth (MESSAGES, SEED optional). Prints one JSON object and a table.
MESSAGES ?= 3000
SEED ?= 42
eval:
	cargo run --release -p evals --bin eval-contacts -- $(MESSAGES) $(SEED)

## Ask Rapport's offline engine over the seeded demo mailbox: one JSON line of figures per
## intent, then the overall accuracy (the last line). FILE is a
## .jsonl of {"question", "expected"} lines (default evals/ask.jsonl, whose figure
## also goes to bench/results.json as ask.offline.accuracy).
FILE ?=
eval-ask:
	cargo run --release -p evals --bin eval-ask -- --file "$(FILE)"

## The AI sales agent over 30 scripted Messenger conversations in 3 languages (the fake
## OpenAI plays the model unless OPENAI_BASE_URL / OPENAI_API_KEY name a real one).
eval-agent:
	cargo run --release -p evals --bin eval-agent

## Enrichment on the demo mailbox: fields per contact before/after, precision per field
eval-enrich:
	cargo run --release -p evals --bin eval-enrich -- $(MESSAGES) $(SEED)

## Signature extraction against annotated mail: make eval-signatures DIR=<dir>
eval-signatures:
	@test -n "$(DIR)" || { echo "usage: make eval-signatures DIR=<annotations dir>"; exit 2; }
	cargo run --release -p evals --bin eval-signatures -- $(DIR)

## 5-fold cross-validation (folds by mailbox) of the signature cell classifier: make eval-signatures-cv DIR=<dir>
eval-signatures-cv:
	@test -n "$(DIR)" || { echo "usage: make eval-signatures-cv DIR=<annotations dir>"; exit 2; }
	cargo run --release -p evals --bin eval-signatures -- --cv $(DIR)

## Retrain the committed signature weights from annotated mail: make train-signatures DIR=<train dir>
train-signatures:
	@test -n "$(DIR)" || { echo "usage: make train-signatures DIR=<annotations dir>"; exit 2; }
	cargo run --release -p evals --bin eval-signatures -- --train $(DIR) domain/src/extract/signature/weights.tsv

## Fail unless retraining on DIR reproduces the committed weights byte for byte: make check-signature-weights DIR=<train dir>
check-signature-weights:
	@test -n "$(DIR)" || { echo "usage: make check-signature-weights DIR=<annotations dir>"; exit 2; }
	cargo run --release -p evals --bin eval-signatures -- --check $(DIR) domain/src/extract/signature/weights.tsv

## Regenerate the offline query cache after changing a query (needs a database).
sqlx-prepare:
	.ci/sqlx-prepare.sh

clean:
	cargo clean
	rm -rf end2end/test-results
