# The README's two commands: `make demo` and `make test`. Both set up what they need.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
OUT ?= out/ercot-dallas

.PHONY: demo test test-fast fuzz lint lock system-deps bench bench-weeks bench-pareto bench-random clean

# Every install takes its versions from LOCK (pip -c), so a fresh machine gets the same
# packages as CI and the same numbers. The pins hold for the Python named on the file's first
# line; another Python installs from pyproject's ranges and says so.
LOCK := constraints.txt
LOCK_PY := $(shell sed -n '1s/^\# python //p' $(LOCK))
PY_VERSION = $$($(PY) -c 'import sys; print("%d.%d" % sys.version_info[:2])')

$(VENV)/.installed-%: pyproject.toml $(LOCK)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	pin="-c $(LOCK)"; \
	if [ "$(PY_VERSION)" != "$(LOCK_PY)" ]; then pin=""; \
		echo "note: $(LOCK) is for Python $(LOCK_PY), not $(PY_VERSION): installing from pyproject's ranges" >&2; fi; \
	$(PY) -m pip install --quiet $$pin --upgrade pip && \
	$(PY) -m pip install --quiet $$pin -e '.[$*]'
	touch $@

# R1 (ercot-dallas), the week of 2023-08-21: solve, check the AC power flow, write $(OUT).
demo: $(VENV)/.installed-dask
	$(VENV)/bin/microgrid run scenarios/ercot-dallas.yaml --out $(OUT)

# Debian packages the tests start for real (Slurm for the export tests).
system-deps:
	bash .ci/system-deps

# Two pytest-xdist workers, each taking whole files (so a module's fixture solves once, and
# the real Slurm and Dask clusters are started by one worker at a time).
TEST_WORKERS ?= 2
PYTEST := $(VENV)/bin/pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadfile

test: system-deps $(VENV)/.installed-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PYTEST)

# Quick local runs: the suite without the tests marked slow (docs/testing.md). CI runs all.
test-fast: $(VENV)/.installed-test
	$(PYTEST) -m "not slow"

# Re-pin LOCK: the newest versions pyproject's ranges allow, resolved in a throwaway venv
# with every extra the Makefile installs. Run `make test` on the result before committing it.
LOCK_VENV := $(VENV)-lock
lock:
	rm -rf $(LOCK_VENV)
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(LOCK_VENV)/bin/python -m pip install --quiet '.[test,dask,simbench,dev]'
	{ echo "# python $$($(LOCK_VENV)/bin/python -c 'import sys; print("%d.%d" % sys.version_info[:2])')"; \
	  echo "# Pinned versions for the README's commands (make demo, make test, make bench): pip install -c."; \
	  echo "# Made by \`make lock\` (docs/testing.md); pyproject.toml keeps the ranges library users get."; \
	  $(LOCK_VENV)/bin/python -m pip freeze --all | grep -v '^microgrid '; } > $(LOCK).new
	mv $(LOCK).new $(LOCK)
	rm -rf $(LOCK_VENV)

# The larger hostile-input campaign: random (not the CI's fixed) mutated scenarios and jobs
# CSVs through the real `validate`, each bounded to 5 s and 500 MB (tests/fuzz).
FUZZ_EXAMPLES ?= 2000
fuzz: $(VENV)/.installed-test
	MICROGRID_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) MICROGRID_FUZZ_RANDOM=1 \
		$(VENV)/bin/pytest -q -p no:cacheprovider -m fuzz tests/fuzz

bench: $(VENV)/.installed-dev
	$(PY) benchmarks/year_lp_vs_pypsa.py

# B5: every week of 2023 in ERCOT, CAISO and PJM to a proven 1 % and 0.1 % gap (hours of
# solving; rows in out/all_weeks.csv as they finish). A sample: B5_ARGS="--every 13".
B5_ARGS ?=
bench-weeks: $(VENV)/.installed-dev
	mkdir -p out
	$(PY) benchmarks/all_weeks.py --csv out/all_weeks.csv $(B5_ARGS)

# Random job MILPs the solve was never tuned on, beside plain HiGHS: bounds checked against
# a reference optimum, times as ratios (~30 min for the 16 default seeds)
RANDOM_ARGS ?=
bench-random: $(VENV)/.installed-dev
	mkdir -p out
	$(PY) benchmarks/random_cases.py --csv out/random_cases.csv $(RANDOM_ARGS)

# Issue 11's Pareto goal: R1's 6-point cost-carbon front beside price-fix alone (~1.5 min)
bench-pareto: $(VENV)/.installed-dev
	$(PY) benchmarks/pareto_front.py

clean:
	rm -rf $(VENV) $(VENV)-lock out .pytest_cache
