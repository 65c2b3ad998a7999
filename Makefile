# Quick start: `make demo` (install + run the notebook's example), `make test`. See README.md.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
TEST_STAMP := $(VENV)/.test-installed-stamp

.PHONY: demo test lint bench docs-images wheel-check clean

# convlearn alone (what `make demo` needs); the test extras get their own stamp.
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e .
	touch $(STAMP)

$(TEST_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $(TEST_STAMP)

demo: $(STAMP)
	mkdir -p demo
	cd demo && ../$(BIN)/convlearn synth stripes.png
	cd demo && ../$(BIN)/convlearn detect stripes.png --kernel edge --print --output edges.png
	cd demo && ../$(BIN)/convlearn learn --epochs 10 --output kernel.json
	@echo
	@echo "convlearn is installed in $(VENV): run $(BIN)/convlearn --help, or 'source $(BIN)/activate' first."

# pytest's own exit codes all count as failures, 5 (no tests collected) included.
test: $(TEST_STAMP)
	$(BIN)/python -m pytest -q

lint: $(TEST_STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check convlearn tests benchmarks

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_corr2d.py

docs-images: $(STAMP)
	CONVLEARN=$(BIN)/convlearn PYTHON=$(BIN)/python bash docs/make_images.sh

# A wheel builds and installs into a clean venv (no dependencies: the check is the package, not torch).
wheel-check: $(STAMP)
	rm -rf build/wheel-check && mkdir -p build/wheel-check
	$(BIN)/python -m pip wheel --quiet --no-deps -w build/wheel-check .
	$(PYTHON) -m venv build/wheel-check/venv
	build/wheel-check/venv/bin/python -m pip install --quiet --no-deps build/wheel-check/convlearn-*.whl
	cd build/wheel-check && venv/bin/python ../../.ci/check_wheel.py

clean:
	rm -rf $(VENV) demo build dist .pytest_cache .hypothesis
