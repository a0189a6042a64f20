# Two commands do all set-up: `make train` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin

.PHONY: train test test-fast bench bench-real bench-forecast gpu-wheels clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)

# Reinstall whenever pyproject.toml changes; the stamp keeps later runs instant.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e ".[dev]"
	touch $@

train: $(VENV)/.installed
	$(BIN)/python train.py $(ARGS)

# Three test processes on two cores, since tests often wait on subprocesses, servers and signals.
# A module (or a class) stays on one process, so its shared runs are made once.
test: $(VENV)/.installed
	$(BIN)/python -m pytest -n 3 --dist loadscope $(ARGS)

# The unit tier alone, for the inner loop (tiers: tests/conftest.py).
test-fast: $(VENV)/.installed
	$(BIN)/python -m pytest -n 3 --dist loadscope -m "not integration and not slow" $(ARGS)

bench: $(VENV)/.installed
	$(BIN)/python -m zoo.bench $(ARGS)

# Every classifier, default config, on the real .ts sets of UCR (a folder of <set>_TRAIN.ts/_TEST.ts pairs).
UCR ?= ../shared/datasets/ucr
bench-real: $(VENV)/.installed
	$(BIN)/python -m zoo.bench_real $(UCR) $(ARGS)

# Every forecaster, default config, on M4 Hourly (a folder of <set>-train.csv/<set>-test.csv pairs or .tsf files).
M4 ?= ../shared/datasets/m4
bench-forecast: $(VENV)/.installed
	$(BIN)/python -m zoo.bench_forecast $(M4) $(ARGS)

# Wheels (in the ignored .whl/) that a bare CUDA machine with Python 3.12, JAX, PyTorch and TensorBoard lacks,
# at this environment's versions; antlr4's runtime has no wheel on PyPI, so it is built here (pure Python).
gpu-wheels: $(VENV)/.installed
	rm -rf .whl
	$(BIN)/python -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
		--platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
		-d .whl $$($(BIN)/python -m zoo.gpu_check --pins)
	$(BIN)/python -m pip wheel -q --no-deps -w .whl "antlr4-python3-runtime==$$($(BIN)/python -c 'import importlib.metadata as m; print(m.version("antlr4-python3-runtime"))')"
	ls .whl

clean:
	rm -rf $(VENV) outputs multirun .pytest_cache
