# CEBRA-Lens pipeline. `make run` = set up + run the default pipeline + HTML report;
# `make test` = set up + run the test suite. Both are idempotent.
PYTHON ?= python3
VENV   ?= .venv
CORES  ?= 2
PY      = $(VENV)/bin/python
PIP     = $(PY) -m pip
export OMP_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1

.PHONY: setup run report test lint dryrun clean

$(PY):
	$(PYTHON) -m venv $(VENV)

# torch first, from the local CPU wheel: otherwise cebra/captum pull several GB of CUDA packages
$(VENV)/.torch: | $(PY)
	$(PIP) install --quiet torch==2.13.0
	touch $@

$(VENV)/.installed: pyproject.toml $(VENV)/.torch
	$(PIP) install --quiet -e ".[workflow,test,attribution]"
	touch $@

setup: $(VENV)/.installed

run: setup
	$(VENV)/bin/snakemake --cores $(CORES)
	$(VENV)/bin/snakemake --cores $(CORES) --report report.html
	@echo "done: results/summary.csv, results/figures/, report.html"

dryrun: setup
	$(VENV)/bin/snakemake --cores $(CORES) --dry-run

test: setup
	$(PY) -m pytest -q

lint: setup
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

clean:
	rm -rf results logs report.html .snakemake
