# Quick start: `make demo` (install + run the notebook's example), `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	mkdir -p demo
	cd demo && ../$(BIN)/convlearn synth stripes.png
	cd demo && ../$(BIN)/convlearn detect stripes.png --kernel edge --print --output edges.png
	cd demo && ../$(BIN)/convlearn learn --epochs 10 --output kernel.json

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_corr2d.py

clean:
	rm -rf $(VENV) demo .pytest_cache .hypothesis
