# `make run` starts the dashboard on the demo incident; `make test` runs every test.
# Both build .venv/ at the repo root on first use, pinned by constraints.txt.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format notebooks lab bench fuzz clean

# The C accelerator is rebuilt in place whenever analysis/_cder.c changes (a rebase that brings a new
# _cder.c must not leave a stale .so); when only _cder.c changed, nothing is reinstalled. It is
# optional: if it does not compile, no stale .so is left and analysis/der.py reads in Python.
$(STAMP): pyproject.toml constraints.txt setup.py analysis/_cder.c
	@if [ ! -x $(BIN)/python ] || [ "$?" != "analysis/_cder.c" ]; then \
	  set -e; \
	  test -x $(BIN)/python || $(PYTHON) -m venv $(VENV); \
	  $(BIN)/python -m pip install -q --upgrade pip; \
	  $(BIN)/python -m pip install -q -c constraints.txt -e '.[dev,spark]'; \
	fi
	rm -f analysis/_cder.*.so build/lib.*/analysis/_cder.*.so
	-$(BIN)/python setup.py -q build_ext --inplace --force
	@ls analysis/_cder.*.so >/dev/null 2>&1 || \
	  echo "analysis/_cder.c did not compile: the pure-Python DER reader is used"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/streamlit run app.py

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

notebooks lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/

bench: $(STAMP)
	$(BIN)/python benchmarks/keyreuse_speed.py

# Longer fuzzing than the suite's: FUZZ_EXAMPLES hypothesis examples a target (fresh randomness each
# run), then FUZZ_SECONDS of coverage-guided atheris a target where atheris installs.
FUZZ_EXAMPLES ?= 20000
FUZZ_SECONDS ?= 120
fuzz: $(STAMP)
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) FUZZ_RANDOM=1 $(BIN)/python -m pytest tests/test_fuzz.py -q -x
	@if $(BIN)/python -m pip install -q -c constraints.txt -e '.[fuzz]' >/dev/null 2>&1; then \
	  mkdir -p artifacts/fuzz && cd artifacts/fuzz && for t in der crl report; do \
	    if ../../$(BIN)/python ../../tests/fuzz_atheris.py $$t -max_total_time=$(FUZZ_SECONDS) > $$t.log 2>&1; \
	    then tail -1 $$t.log; else grep -v '^INFO: Instrumenting' $$t.log | tail -30; exit 1; fi; \
	  done; \
	else echo "atheris does not install here: hypothesis fuzzing only"; fi

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
