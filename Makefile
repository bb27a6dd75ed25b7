# CEBRA-Lens pipeline. `make run` = set up + run the default pipeline + HTML report;
# `make test` = set up + run the test suite. Both are idempotent.
PYTHON ?= python3
VENV   ?= .venv
CORES  ?= 2
PY      = $(VENV)/bin/python
PIP     = $(PY) -m pip
export OMP_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1

.PHONY: setup run report test lint dryrun clean bench test-slurm test-browser

$(PY):
	$(PYTHON) -m venv $(VENV)

# torch first, from the local CPU wheel: otherwise cebra/captum pull several GB of CUDA packages
$(VENV)/.torch: | $(PY)
	$(PIP) install --quiet torch==2.13.0
	touch $@

# slurm: the executor plugin, needed by tests/workflow/test_slurm.py (stub sbatch/sacct)
$(VENV)/.installed: pyproject.toml Makefile $(VENV)/.torch
	$(PIP) install --quiet -e ".[workflow,test,attribution,slurm]"
	touch $@

setup: $(VENV)/.installed

run: setup
	$(VENV)/bin/snakemake --cores $(CORES)
	$(VENV)/bin/snakemake --cores $(CORES) --report report.html --report-stylesheet workflow/report/stylesheet.css
	@echo "done: results/summary.csv, results/figures/, report.html"

dryrun: setup
	$(VENV)/bin/snakemake --cores $(CORES) --dry-run

test: setup
	$(PY) -m pytest -q

# benchmarks against brute-force references -> bench/results.md, bench/results.json (< 15 min)
bench: setup
	OMP_NUM_THREADS=1 $(PY) tests/benchmarks/run_all.py

# the tiny config on a real single-node SLURM (Debian's slurm-wlm; installs it, runs as root),
# without and with job accounting, plus a scancel drill -> bench/slurm.json (about 12 min)
test-slurm: setup
	$(PY) tests/slurm/real_slurm.py

# the report in headless Chromium (Debian's `chromium`, installed here if missing; also part of
# `make test` where Chromium is present)
test-browser: setup
	command -v chromium >/dev/null || (DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium)
	$(PY) -m pytest -q -m browser

lint: setup
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .
	$(VENV)/bin/snakefmt --check workflow/ && $(VENV)/bin/snakemake --lint

clean:
	rm -rf results logs report.html .snakemake
