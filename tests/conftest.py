"""Shared helpers: compose the real configs, run the entry points in subprocesses, one smoke run per session."""

import json
from pathlib import Path

import pytest
from cli_processes import run_to_end, start_cli
from hydra import compose, initialize_config_dir

import zoo  # noqa: F401  (registers models and resolvers)
from zoo.tasks import get_task
from zoo.training.adaptive import adapt_to_config

ROOT = Path(__file__).resolve().parents[1]
CONFIG_DIR = str(ROOT / "configs")
EXAMPLES = ROOT / "data" / "examples"
# The overrides that point each file-based data option at its example in data/examples/.
EXAMPLE_DATA = {
    "ts": [f"data.train_path={EXAMPLES / 'tiny_TRAIN.ts'}", f"data.test_path={EXAMPLES / 'tiny_TEST.ts'}"],
    "csv": [
        f"data.train_path={EXAMPLES / 'tiny_long.csv'}",
        "data.feature_columns=[value_a,value_b]",
        "data.label_column=label",
        "data.static_columns=[sensor_gain]",
    ],
    "npz": [f"data.train_path={EXAMPLES / 'tiny.npz'}"],
    "forecast": [f"data.train_path={EXAMPLES / 'tiny_monthly.csv'}", "data.horizon=12"],
}


# A test's tier is the slowest marker it carries (its own, its parameter's or its module's):
# unit (in process, at most a few training steps of a toy model), integration (trains a model for
# real, exports, evaluates, or reads the shared smoke run), slow (starts the CLI in subprocesses).
# `make test-fast` runs the unit tier.
TIERS = ("slow", "integration", "unit")
_running = {}


def tier_of(item):
    """Returns the slowest tier `item` is marked with, or None."""
    return next((tier for tier in TIERS if item.get_closest_marker(tier)), None)


def pytest_collection_modifyitems(config, items):
    """Refuses a test without a tier."""
    untiered = [item.nodeid for item in items if tier_of(item) is None]
    if untiered:
        raise pytest.UsageError(f"Tests without a tier marker (unit, integration or slow): {', '.join(untiered[:5])}")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    _running["item"] = item
    if "smoke_run" in item.fixturenames:
        require_tier("integration", "slow", doing="reads the shared smoke run")


@pytest.fixture(autouse=True)
def op_determinism_restored():
    """Leaves TensorFlow's op determinism as each test found it: a run in process turns it on, and a
    later test's unseeded random op would then fail, so no test depends on which ran before it."""
    from tensorflow.python.framework import config as tf_config  # disable_op_determinism has no public name

    before = tf_config.is_op_determinism_enabled()
    yield
    if tf_config.is_op_determinism_enabled() != before:
        (tf_config.enable_op_determinism if before else tf_config.disable_op_determinism)()


def require_tier(*allowed, doing):
    """Fails the running test unless its tier is one of `allowed`, so the markers say what a test does."""
    item = _running.get("item")
    if item is not None and tier_of(item) not in allowed:
        pytest.fail(f"{item.nodeid} {doing} but is marked {tier_of(item)}: mark it {' or '.join(allowed)}.", pytrace=False)


def compose_config(name="train", overrides=(), output_dir=None, fill_auto=True):
    """Composes `configs/<name>.yaml` with `overrides`, pointing every path at `output_dir`.

    A training config gets the `auto` values the config alone decides (`monitor`, `data.normalize`)
    filled, as `train()` does first, unless `fill_auto=False`.
    """
    overrides = list(overrides)
    if output_dir is not None:
        overrides += [f"paths.root_dir={output_dir}", f"paths.output_dir={output_dir}"]
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = compose(config_name=name, overrides=overrides)
    if name == "train" and fill_auto:
        adapt_to_config(cfg, get_task(cfg.model.head))
    return cfg


def run_cli(script, *args, cwd=ROOT, check=True, env=None, shared=False, new_python=False):
    """Runs `python <script> <args>` (or `python -m <module> <args>` for script="-m") from the repository root.

    The process is a fork of a server that imported TensorFlow once (tests/cli_processes.py), unless
    `env` adds variables or `new_python` is set.

    Args:
        shared: bool. For a session fixture that many tiers read (the smoke run): no tier check.
        new_python: bool. Start a new Python, for a test of what happens while TensorFlow loads.

    Returns:
        The CompletedProcess.
    """
    if not shared:
        require_tier("slow", doing="starts the CLI in a subprocess")
    completed = run_to_end(start_cli(script, *args, cwd=cwd, env=env, new_python=new_python))
    if check and completed.returncode != 0:
        raise AssertionError(f"{script} {args} failed:\n{completed.stdout}\n{completed.stderr}")
    return completed


def train_cli(run_dir, *overrides):
    """Trains through the CLI into `run_dir` and returns the parsed metrics.json."""
    run_cli("train.py", f"hydra.run.dir={run_dir}", *overrides)
    return json.loads((Path(run_dir) / "metrics.json").read_text())


def train_in_process(run_dir, *overrides):
    """Trains with `zoo.training.loop.train` in this process (where the CLI is not under test); returns metrics.json."""
    require_tier("integration", "slow", doing="trains in process")
    from zoo.training.loop import train

    train(compose_config(overrides=overrides, output_dir=run_dir))
    return json.loads((Path(run_dir) / "metrics.json").read_text())


def evaluate_in_process(run_dir, *overrides):
    """Runs `zoo.evaluation.evaluate` on a run in this process; returns eval/metrics.json."""
    require_tier("integration", "slow", doing="evaluates in process")
    from zoo.evaluation import evaluate

    return evaluate(compose_config("evaluate", overrides=[f"run_dir={run_dir}", *overrides]))


def run_task_in_process(command, args, capsys, output_dir=None):
    """Runs an entry point's task through `zoo.cli.run_task` in this process, as the CLI does after Hydra composed its config.

    Args:
        command: "train", "evaluate" or "predict".
        args: overrides.
        capsys: pytest's capsys fixture (stderr is read from it).
        output_dir: where a training run's paths point.

    Returns:
        (exit code, stderr).
    """
    require_tier("integration", "slow", doing="runs an entry point in process")
    from zoo.cli import run_task
    from zoo.evaluation import evaluate
    from zoo.predict import predict_file
    from zoo.training.loop import train

    if command == "train":
        cfg, task = compose_config(overrides=args, output_dir=output_dir), train
    elif command == "evaluate":
        cfg, task = compose_config("evaluate", overrides=args), evaluate
    else:
        cfg, task = compose_config("predict", overrides=args), predict_file
    capsys.readouterr()
    try:
        run_task(task, cfg, discard_unstarted_run=command == "train")
        code = 0
    except SystemExit as stop:
        code = stop.code
    return code, capsys.readouterr().err


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory):
    """A finished `debug=smoke` run of the default model, shared by the tests that only read it."""
    run_dir = tmp_path_factory.mktemp("smoke") / "run"
    run_cli("train.py", f"hydra.run.dir={run_dir}", "debug=smoke", shared=True)
    return run_dir
