# Two commands do all set-up: `make train` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin

.PHONY: train test bench bench-real clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)

# Reinstall whenever pyproject.toml changes; the stamp keeps later runs instant.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e ".[dev]"
	touch $@

train: $(VENV)/.installed
	$(BIN)/python train.py $(ARGS)

# Three test processes on the two cores: with two, the cores idled a fifth of the time while tests
# waited on subprocesses, servers and signals (measured: 13 min 43 s against 14 min 55 s). One file
# per process at a time, so a module's shared runs (README commands, smoke runs) are made once.
test: $(VENV)/.installed
	$(BIN)/python -m pytest -n 3 --dist loadfile $(ARGS)

bench: $(VENV)/.installed
	$(BIN)/python -m zoo.bench $(ARGS)

# Every classifier, default config, on the real .ts sets of UCR (a folder of <set>_TRAIN.ts/_TEST.ts pairs).
UCR ?= ../shared/datasets/ucr
bench-real: $(VENV)/.installed
	$(BIN)/python -m zoo.bench_real $(UCR) $(ARGS)

clean:
	rm -rf $(VENV) outputs multirun .pytest_cache
