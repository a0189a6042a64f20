"""Every command the README shows runs as a user types it, each in its own fresh copy of the repository.

Each command is its own test with its own time limit, so one slow command cannot fail another.
A command that reads earlier work (`evaluate.py run_dir=outputs/runs/<date>/<time>_<model>`,
`zoo.predict run_dir=outputs/tiny_ts ...`) first gets a cheap `debug=smoke` run of its own in its
copy (not under test, so forked from the fork server); the command itself runs exactly as written,
in bash, as a new process. The few commands a test cannot run here are in
NOT_RUN with the reason, and a test fails if the README gains a command that is neither.
"""

import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import keras
import pytest
from conftest import ROOT, run_cli

pytestmark = pytest.mark.slow

COMMAND_LIMIT_S = 600
NOT_RUN = {
    "make test": "it is this suite (CI runs it)",
    "python train.py": "make train runs exactly this, as written (the default run, end to end)",
    "source .venv/bin/activate": "a shell built-in; these tests put the environment's bin/ first on PATH, which is what it does",
    '.venv/bin/pip install -e ".[gpu]"': "it downloads GBs of CUDA libraries for a GPU this machine does not have",
    "python train.py trainer=gpu": "it needs a GPU; without one it stops with the one-line error tests/test_device.py checks",
    "python evaluate.py run_dir=<run>": "a syntax summary; its concrete form is run",
    "python -m zoo.compare <sweep or runs>": "a syntax summary; its concrete form is run",
    "make bench": "a full-size benchmark (minutes, figures only); tests/test_bench.py runs its code on small sizes",
    "make bench-real": "over an hour of training on real sets; tests/test_bench_real.py runs its code on a tiny folder",
    "python -m zoo.gpu_check <folder>": "a syntax summary; tests/test_gpu_check.py runs it on a CPU, where it marks the GPU rows absent",
    "make gpu-wheels": "it downloads wheels from PyPI for another machine; tests/test_gpu_check.py checks the pins it asks for",
    "make bench-forecast": "every forecaster on M4 Hourly, about half an hour; tests/test_bench_forecast.py runs its code on a tiny folder",
}
# A command starts with a program the README uses, or with an environment assignment before one (KERAS_BACKEND=jax python ...).
COMMAND_START = re.compile(r"^([A-Z_]+=\S+\s+)*((python|make|tensorboard|pytest|source|srun)\s|\.venv/bin/)")


def markdown_commands(path):
    """The commands in a Markdown file's bash blocks and inline code, in order, each once."""
    text = Path(path).read_text()
    found = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.S):
        found += [line.split("  #")[0].strip() for line in block.splitlines()]
    prose = re.sub(r"```.*?```", "", text, flags=re.S)
    found += [span.strip() for span in re.findall(r"`([^`\n]+)`", prose)]
    commands = []
    for command in found:
        if COMMAND_START.match(command) and command not in commands:
            commands.append(command)
    return commands


COMMANDS = markdown_commands(ROOT / "README.md")
TINY_TS = "python train.py data=ts data.train_path=data/examples/tiny_TRAIN.ts data.test_path=data/examples/tiny_TEST.ts"
LONG_RUN = "python train.py data.n_samples=10000 trainer.epochs=3 hydra.run.dir=outputs/long_run"
RESUME = "python train.py resume=outputs/long_run"
MONTHLY = "python train.py data=forecast data.train_path=data/examples/tiny_monthly.csv data.horizon=12 hydra.run.dir=outputs/monthly"


def shell_environment():
    """The user's shell: the environment's bin/ first on PATH, and no make variables from a `make test ARGS=...` above us."""
    bin_dir = str(Path(sys.executable).parent)
    inherited = {key: value for key, value in os.environ.items() if key not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "ARGS")}
    return {**inherited, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""), "PYTHONDONTWRITEBYTECODE": "1"}


@pytest.fixture
def copy(tmp_path):
    """The repository's files (tracked and new, not ignored) in a new directory, with the same environment."""
    repo = tmp_path / "repo"
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    for relative in listed:
        source = ROOT / relative
        if source.is_file():
            (repo / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, repo / relative)
    # `make` finds the environment already installed (the stamp is newer than pyproject.toml); a
    # stale one would be reinstalled from this copy, pointing the shared editable install here.
    stamp = ROOT / ".venv" / ".installed"
    if stamp.exists() and stamp.stat().st_mtime < (ROOT / "pyproject.toml").stat().st_mtime:
        pytest.fail("pyproject.toml changed since .venv was installed: run make .venv/.installed, then the tests again.")
    (repo / ".venv").symlink_to(ROOT / ".venv" if (ROOT / ".venv").exists() else Path(sys.prefix))
    return repo


def run(copy, command):
    """Runs `command` in bash in `copy`; fails the test on a non-zero exit or a traceback."""
    completed = subprocess.run(
        ["bash", "-c", command], cwd=copy, env=shell_environment(), capture_output=True, text=True, timeout=COMMAND_LIMIT_S
    )
    assert completed.returncode == 0, f"{command}\n{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}"
    assert "Traceback" not in completed.stderr, completed.stderr[-3000:]
    return completed


def prepare(copy, command):
    """Runs a `python train.py ...` that a README command reads the output of; it is not under test, so
    `run_cli` forks it from the fork server (tests/cli_processes.py)."""
    program, script, *args = command.split()
    assert (program, script) == ("python", "train.py"), command
    run_cli(str(copy / script), *args, cwd=copy)


def finished_runs(copy, pattern="outputs/runs/*/*"):
    runs = sorted((run for run in copy.glob(pattern) if (run / "metrics.json").is_file()), key=lambda run: run.stat().st_mtime)
    assert runs, f"no finished run under {pattern}"
    return runs


def metrics_of(run_dir):
    return json.loads((run_dir / "metrics.json").read_text())


def saved_config(run_dir):
    from omegaconf import OmegaConf

    return OmegaConf.load(run_dir / "config.yaml")


def test_every_readme_command_is_run_or_listed_with_a_reason():
    assert set(NOT_RUN) <= set(COMMANDS), f"NOT_RUN lists commands the README no longer shows: {set(NOT_RUN) - set(COMMANDS)}"
    untested = [command for command in COMMANDS if command not in NOT_RUN and command not in CHECKS]
    assert not untested, f"README commands with neither a test nor a reason: {untested}"


def check_make_train(copy, command):
    completed = run(copy, command)
    output = completed.stdout + completed.stderr
    (run_dir,) = finished_runs(copy)
    metrics = metrics_of(run_dir)
    assert run_dir.name.endswith("_last_state") and metrics["test"]["accuracy"] > 0.8, metrics
    # It ends with the closing summary, whose next command runs here as typed.
    assert f"Best epoch: {metrics['best_epoch']}, val_accuracy " in output, output[-3000:]
    assert f"Next: python evaluate.py run_dir={run_dir.relative_to(copy)}" in output, output[-3000:]
    assert list((run_dir / "tensorboard").glob("events.out.tfevents.*"))


def check_full_run_of(model):
    def check(copy, command):
        run(copy, command)
        (run_dir,) = finished_runs(copy)
        assert saved_config(run_dir).model.name == model
        assert metrics_of(run_dir)["test"]["accuracy"] > 0.5

    return check


def check_sweep(copy, command):
    completed = run(copy, command)
    assert "Sweep trial 2 of 2: model=attention trainer.epochs=2" in completed.stdout + completed.stderr
    runs = finished_runs(copy, "outputs/multiruns/*/*/*")
    assert sorted(saved_config(run).model.name for run in runs) == ["attention", "last_state"]
    assert all(metrics_of(run)["epochs_run"] == 2 for run in runs)


def check_evaluate(copy, command):
    prepare(copy, "python train.py debug=smoke")
    (run_dir,) = finished_runs(copy)
    completed = run(copy, command.replace("outputs/runs/<date>/<time>_<model>", str(run_dir.relative_to(copy))))
    assert "# Evaluation of last_state (classify)" in completed.stdout
    report = json.loads((run_dir / "eval" / "metrics.json").read_text())
    assert report["test"]["accuracy"] == pytest.approx(metrics_of(run_dir)["test"]["accuracy"], abs=1e-6)
    assert (run_dir / "eval" / "confusion_matrix.png").stat().st_size > 0


def check_compare(copy, command):
    prepare(copy, "python train.py -m model=last_state,attention debug=smoke")
    (sweep,) = copy.glob("outputs/multiruns/*/*")
    run(copy, command.replace("outputs/multiruns/<date>/<time>", str(sweep.relative_to(copy))))
    with open(sweep / "comparison.csv") as file:
        rows = list(csv.DictReader(file))
    assert sorted(row["model.name"] for row in rows) == ["attention", "last_state"]
    assert "attention" in (sweep / "comparison.md").read_text()


def check_tensorboard(copy, command, timeout=120):
    """Starts TensorBoard on a smoke run's outputs and waits for it to announce its address; then stops it."""
    prepare(copy, "python train.py debug=smoke")
    process = subprocess.Popen(
        ["bash", "-c", f"exec {command}"], cwd=copy, env=shell_environment(),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    lines = []
    try:
        deadline = time.monotonic() + timeout
        for line in process.stdout:
            lines.append(line)
            if re.search(r"TensorBoard .* at http://", line):
                return
            assert time.monotonic() < deadline, "".join(lines)
        raise AssertionError(f"{command} exited with {process.wait()}:\n{''.join(lines)}")
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def check_anatomy(copy, command):
    output = run(copy, command).stdout
    assert "Model 'seq2seq'" in output and "encoder_lstm_0" in output and "decoder_lstm_0" in output
    assert "cuDNN-eligible: yes" in output


def check_static(copy, command):
    run(copy, command)
    (run_dir,) = finished_runs(copy)
    config = saved_config(run_dir)
    assert (config.data.n_static, config.model.static_mode) == (3, "initial_state")
    assert metrics_of(run_dir)["epochs_run"] == 2
    model = keras.saving.load_model(run_dir / "checkpoints" / "best.keras")
    assert tuple(model.get_layer("static").output.shape) == (None, 3)
    assert {"static_to_forward_h", "static_to_forward_c"} <= {layer.name for layer in model.layers}


def check_tiny_ts(copy, command):
    run(copy, command)
    run_dir = copy / "outputs" / "tiny_ts"
    assert json.loads((run_dir / "classes.json").read_text()) == ["damped", "sine"]
    assert metrics_of(run_dir)["test"]["accuracy"] > 0.8


def check_file_run(copy, command):
    run(copy, command)
    (run_dir,) = finished_runs(copy)
    assert json.loads((run_dir / "classes.json").read_text()) == ["damped", "sine"]
    assert metrics_of(run_dir)["test"]["accuracy"] > 0.8


def check_predict(copy, command):
    prepare(copy, f"{TINY_TS} hydra.run.dir=outputs/tiny_ts debug=smoke")
    run(copy, command)
    with open(copy / "outputs/tiny_ts/predictions/tiny_TEST.ts.csv") as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == 34 and {row["class"] for row in rows} <= {"damped", "sine"}
    assert {"probability_damped", "probability_sine"} <= set(rows[0])


def check_export(copy, command):
    import onnx

    prepare(copy, f"{TINY_TS} hydra.run.dir=outputs/tiny_ts debug=smoke")
    run(copy, command)
    graph = onnx.load(copy / "outputs/tiny_ts/export/best.onnx").graph
    assert "series" in [node.name for node in graph.input]


def check_long_run_then_resume(copy, command):
    """The long run exits 130 with the resume line after a SIGINT in its second epoch; RESUME finishes it."""
    process = subprocess.Popen(
        ["bash", "-c", f"exec {LONG_RUN}"], cwd=copy, env=shell_environment(),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    lines = []
    for line in process.stdout:
        lines.append(line)
        if "epoch 1/3" in line:
            os.killpg(process.pid, signal.SIGINT)  # what a terminal's Ctrl-C sends to the foreground group
    output = "".join(lines)
    assert process.wait(timeout=COMMAND_LIMIT_S) == 130, output
    assert "Interrupted: Stopped by SIGINT at epoch 2" in output, output
    assert "resume with python train.py resume=outputs/long_run" in output, output
    assert not (copy / "outputs/long_run/metrics.json").exists()

    run(copy, RESUME)
    metrics = metrics_of(copy / "outputs/long_run")
    assert metrics["epochs_run"] == 3 and metrics["test"]["accuracy"] > 0.5, metrics


def check_monthly(copy, command):
    completed = run(copy, command)
    assert "E0000" not in completed.stderr, completed.stderr[-3000:]  # no TensorFlow line while the forecasts are scored
    scores = metrics_of(copy / "outputs/monthly")["forecast"]
    assert scores["model"]["mase"] < scores["seasonal_naive"]["mase"], scores  # the bar for one long series
    assert saved_config(copy / "outputs/monthly").data.season_length == 12  # auto, from the monthly dates


def check_monthly_predict(copy, command):
    prepare(copy, f"{MONTHLY} trainer.steps=200")
    run(copy, command)
    with open(copy / "outputs/monthly/predictions/tiny_monthly.csv.csv") as file:
        rows = list(csv.reader(file))
    assert rows[0] == ["id", "forecast_start", *(f"step_{h}" for h in range(1, 13))]
    assert rows[1][1] == "2025-01-01" and len(rows) == 2


def check_jax(copy, command):
    run(copy, command)
    (run_dir,) = finished_runs(copy)
    assert metrics_of(run_dir)["backend"] == "jax"
    assert saved_config(run_dir).model.name == "attention"


CHECKS = {
    "make train": check_make_train,
    "python train.py model=cnn_lstm": check_full_run_of("cnn_lstm"),
    "python train.py -m model=last_state,attention trainer.epochs=2": check_sweep,
    "python evaluate.py run_dir=outputs/runs/<date>/<time>_<model>": check_evaluate,
    "python -m zoo.compare outputs/multiruns/<date>/<time>": check_compare,
    "tensorboard --logdir outputs": check_tensorboard,
    "python -m zoo.anatomy model=seq2seq": check_anatomy,
    "python train.py data.n_static=3 model.static_mode=initial_state trainer.epochs=2": check_static,
    f"{TINY_TS} hydra.run.dir=outputs/tiny_ts": check_tiny_ts,
    "python train.py data=csv data.train_path=data/examples/tiny_long.csv data.feature_columns=[value_a,value_b] "
    "data.label_column=label data.static_columns=[sensor_gain]": check_file_run,
    "python train.py data=npz data.train_path=data/examples/tiny.npz": check_file_run,
    "python -m zoo.predict run_dir=outputs/tiny_ts input=data/examples/tiny_TEST.ts": check_predict,
    "python -m zoo.export run_dir=outputs/tiny_ts format=onnx": check_export,
    MONTHLY: check_monthly,
    "python -m zoo.predict run_dir=outputs/monthly input=data/examples/tiny_monthly.csv": check_monthly_predict,
    LONG_RUN: check_long_run_then_resume,
    RESUME: None,  # checked by check_long_run_then_resume, which needs the run it continues
    "KERAS_BACKEND=jax python train.py model=attention trainer.epochs=2": check_jax,
}


def _command_test(command):
    def test_command(self, copy):
        CHECKS[command](copy, command)

    test_command.__doc__ = f"`{command}` runs as written and does what the README says."
    return test_command


# One class per command: `make test` distributes tests by module and class (`--dist loadscope`),
# so each command may run on any test process while the other modules keep their shared runs.
for _index, _command in enumerate(command for command in COMMANDS if CHECKS.get(command)):
    _name = f"Test{_index:02d}_" + re.sub(r"\W+", "_", _command).strip("_")[:70]  # the command, as an identifier
    globals()[_name] = type(_name, (), {"test_command": _command_test(_command), "command": _command})
