# CEBRA-Lens pipeline. `make run` = set up + run the default pipeline + HTML report;
# `make test` = set up + run the test suite. Both are idempotent.
PYTHON ?= python3
VENV   ?= .venv
CORES  ?= 2
PY      = $(VENV)/bin/python
PIP     = $(PY) -m pip
export OMP_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1

.PHONY: setup run report test lint dryrun clean bench bench-gpu bench-workflow test-slurm test-browser

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

# the workflow's wall time against the number of models: real runs of 5, 20 and 50 small models
# (about 8 min; too long for `make bench`) -> appended to bench/workflow_scaling.json, panel (b)
# of bench/scaling.png (redrawn if `make bench` wrote bench/scaling.json).
# BENCH_WORKFLOW_ARGS: e.g. `--models 5,20`, `--out DIR`, `--dry-run` (plan only, seconds)
BENCH_WORKFLOW_ARGS ?=
bench-workflow: setup
	OMP_NUM_THREADS=1 $(PY) tests/benchmarks/workflow_scaling.py $(BENCH_WORKFLOW_ARGS)

# the GPU cases (CKA, extraction, training, attribution on cuda) as one short script (< 4 min on
# one GPU) -> bench/gpu.json, bench/gpu.md; exits 2 when no CUDA device is visible.
# BENCH_GPU_ARGS: e.g. `--out DIR`, `--only cka,extract`, `--dry-run-cpu` (tiny sizes on the CPU)
BENCH_GPU_ARGS ?=
bench-gpu: setup
	OMP_NUM_THREADS=1 $(PY) tests/benchmarks/bench_gpu.py $(BENCH_GPU_ARGS)

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
