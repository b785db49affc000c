# ATUM DESK — the two commands: `make run` and `make test`.
SHELL := /bin/bash
export PATH := $(HOME)/.local/bin:$(PATH)
UV := uv
API := api

.PHONY: run test deps lint typecheck fmt requirements clean

deps: $(API)/.venv/.synced

$(API)/.venv/.synced: $(API)/uv.lock $(API)/pyproject.toml
	@infra/scripts/ensure-uv.sh
	cd $(API) && $(UV) sync --frozen --quiet
	@touch $@

## make run: set everything up and serve on http://127.0.0.1:8000 (Ctrl-C stops it all)
run: deps
	./atum-desk dev

## make test: the whole suite on a real PostgreSQL
test: deps
	cd $(API) && $(UV) run --frozen ruff check . && $(UV) run --frozen ruff format --check .
	cd $(API) && $(UV) run --frozen mypy
	cd $(API) && $(UV) run --frozen pytest

lint: deps
	cd $(API) && $(UV) run --frozen ruff check . && $(UV) run --frozen ruff format --check .

typecheck: deps
	cd $(API) && $(UV) run --frozen mypy

fmt: deps
	cd $(API) && $(UV) run --frozen ruff format . && $(UV) run --frozen ruff check --fix .

requirements:
	cd $(API) && $(UV) export --frozen --no-dev --no-hashes --format requirements-txt -o requirements.txt

clean:
	rm -rf var/test
