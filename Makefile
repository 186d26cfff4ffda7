# Entry points of deja. Each builds .venv from pyproject.toml on a fresh machine.
#   make demo    the demo (Verilog, golden vs RTL, networks on Verilator, reuse on real speech)
#   make check   the quick test tier: every test not marked slow
#   make test    the whole test suite (what CI runs)
#   make lint    ruff over the tree
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PIP    := $(BIN)/pip --quiet --disable-pip-version-check

.PHONY: demo check test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/deja demo

check: $(STAMP)
	$(BIN)/python -m pytest -m "not slow" -n 2 -q

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/deja bench golden

clean:
	rm -rf $(VENV) build *.egg-info
