# ATUM DESK — the two commands: `make run` and `make test`.
SHELL := /bin/bash
export PATH := $(HOME)/.local/bin:$(PATH)
UV := uv
API := api

.PHONY: run test test-packages deps web web-check lint typecheck fmt requirements clean

deps: $(API)/.venv/.synced

$(API)/.venv/.synced: $(API)/uv.lock $(API)/pyproject.toml
	@infra/scripts/ensure-uv.sh
	cd $(API) && $(UV) sync --frozen --quiet
	@touch $@

# The web UI: npm ci when the lock file changes, a build when any source changes.
WEB_SOURCES := $(shell find web/src web/public web/scripts -type f 2>/dev/null) \
	web/index.html web/package.json web/vite.config.ts web/tsconfig.json web/tsconfig.app.json

web/node_modules/.installed: web/package-lock.json
	npm --prefix web ci --no-audit --no-fund
	@touch $@

web/dist/index.html: web/node_modules/.installed $(WEB_SOURCES)
	npm --prefix web run build

web: web/dist/index.html

# The single-sign-on tests' OpenID Provider (api/tests/ssoservers.py): npm ci when its lock changes.
api/tests/oidc_provider/node_modules/.installed: api/tests/oidc_provider/package-lock.json
	npm --prefix api/tests/oidc_provider ci --no-audit --no-fund
	@touch $@

## make run: set everything up and serve on http://127.0.0.1:8000 (Ctrl-C stops it all)
run: deps web
	./atum-desk dev

## the web UI's own checks: types, unit tests, tokens-only styling, API types in sync
web-check: deps web/node_modules/.installed
	npm --prefix web run typecheck
	npm --prefix web test
	npm --prefix web run lint
	npm --prefix web run check:api

## the Debian packages the tests need (nginx, shellcheck, chromium, Postfix, Dovecot, …): installed
## when missing and running as root; otherwise the exact `sudo apt-get install` line, and a stop
test-packages:
	@infra/scripts/test-packages.sh

## make test: the whole suite on a real PostgreSQL (and a real browser, nginx, Postfix, Dovecot)
test: test-packages deps web web-check api/tests/oidc_provider/node_modules/.installed
	cd $(API) && $(UV) run --frozen ruff check . && $(UV) run --frozen ruff format --check .
	cd $(API) && $(UV) run --frozen mypy
	cd $(API) && $(UV) run --frozen pytest

lint: deps
	cd $(API) && $(UV) run --frozen ruff check . && $(UV) run --frozen ruff format --check .

typecheck: deps
	cd $(API) && $(UV) run --frozen mypy

fmt: deps
	cd $(API) && $(UV) run --frozen ruff format . && $(UV) run --frozen ruff check --fix .

## make bundle: an offline installation bundle (app, built web UI, wheels of every runtime
## dependency) in dist/atum-desk-bundle.tar.gz; see docs/RUNBOOK.md
.PHONY: bundle
bundle: deps
	infra/scripts/make-bundle.sh

## make fuzz: the long adversarial campaigns, not part of `make test`: schemathesis with more
## examples per operation and role, atheris on the upload name sanitiser and type sniffer,
## sqlmap against the ticket lists, atheris on the mail parser (see fuzz/). FUZZ_EXAMPLES, FUZZ_SECONDS, SQLMAP_LEVEL: budgets.
FUZZ_EXAMPLES ?= 25
FUZZ_SECONDS ?= 60
SQLMAP_LEVEL ?= 3
.PHONY: fuzz
fuzz: deps
	cd $(API) && ATUM_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(UV) run --frozen pytest tests/test_schemathesis.py -q
	cd $(API) && $(UV) run --frozen --group fuzz python ../fuzz/fuzz_filenames.py -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=$(CURDIR)/var/
	cd $(API) && $(UV) run --frozen --group fuzz python ../fuzz/fuzz_filetypes.py -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=$(CURDIR)/var/
	mkdir -p var/fuzz-mail-corpus
	cd $(API) && $(UV) run --frozen --group fuzz python ../fuzz/fuzz_mail_parse.py -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=$(CURDIR)/var/ $(CURDIR)/var/fuzz-mail-corpus $(CURDIR)/api/tests/mail_corpus
	cd $(API) && ATUM_SQLMAP_LEVEL=$(SQLMAP_LEVEL) $(UV) run --frozen --group fuzz python ../fuzz/sqlmap_scan.py

## make bench: the load and scale benchmark (not part of `make test`): builds the data set
## (BENCH_SCALES, default 10,000 / 100,000 / 1,000,000 tickets), loads the API the production
## way against raw-driver ceilings measured in the same run, writes bench/results/latest.md;
## then the worker benchmark when it is there. See bench/README.md.
.PHONY: bench
bench: deps
	cd $(API) && $(UV) run --frozen python ../bench/run.py
	@if [ -f bench/worker_bench.py ]; then cd $(API) && $(UV) run --frozen python ../bench/worker_bench.py; fi
	@if [ -f bench/mail_bench.py ]; then cd $(API) && $(UV) run --frozen python ../bench/mail_bench.py; fi
	@if [ -f bench/live_bench.py ]; then cd $(API) && $(UV) run --frozen python ../bench/live_bench.py; fi

## make eval: AI triage on the labelled sets eval/tickets.jsonl and eval/tickets-styles.jsonl
## (not part of `make test`): leave-one-out on a throwaway database for the lexical and local
## engines (the Ollama engine too when ATUM_OLLAMA_URL answers), each part reported apart, the
## learning curve and the relevance floors. Writes eval/results/latest.md and prints the verdict
## on the targets; exits 0 unless EVAL_STRICT=1 and a target is missed. See docs/AI.md.
.PHONY: eval
eval: deps
	cd $(API) && $(UV) run --frozen python ../eval/run.py

requirements:
	cd $(API) && $(UV) export --frozen --no-dev --no-hashes --format requirements-txt -o requirements.txt

clean:
	rm -rf var/test
