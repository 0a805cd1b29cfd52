# The README's two commands: `make demo` and `make test`. Both set up what they need.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
OUT ?= out/ercot-dallas

.PHONY: demo test fuzz lint system-deps bench bench-weeks clean

$(VENV)/.installed-%: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[$*]'
	touch $@

# R1 (ercot-dallas), the week of 2023-08-21: solve, check the AC power flow, write $(OUT).
demo: $(VENV)/.installed-dask
	$(VENV)/bin/microgrid run scenarios/ercot-dallas.yaml --out $(OUT)

# Debian packages the tests start for real (Slurm for the export tests).
system-deps:
	bash .ci/system-deps

test: system-deps $(VENV)/.installed-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/pytest -q -p no:cacheprovider

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

clean:
	rm -rf $(VENV) out .pytest_cache
