# Two commands do all set-up from a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SHARED_TIKTOKEN := $(abspath ../shared/tiktoken)

export TIKTOKEN_CACHE_DIR ?= $(if $(wildcard $(SHARED_TIKTOKEN)/*),$(SHARED_TIKTOKEN),)

.PHONY: install run run-headless test lint bench clean tmux

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/gogrid-tui sample_configs/demo.yaml

run-headless: $(STAMP)
	$(BIN)/gogrid run sample_configs/demo.yaml

# The console's real-terminal test drives it in tmux; install tmux when it is missing and we can.
tmux:
	@command -v tmux >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
	  && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tmux >/dev/null; } \
	  || echo "note: tmux is not installed; the real-terminal console test will fail" >&2

test: $(STAMP) tmux
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests plugins bench docs
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) .gogrid
