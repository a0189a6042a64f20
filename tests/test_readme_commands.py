"""Every command the README shows runs as a user types it, from a fresh copy of the repository.

Every command runs exactly as written: the README's training examples carry their own short
budget (`trainer.epochs=2`) where they show an option, and `make train` and the quick start's
`python train.py model=...` runs train in full. The long run of "Crashes and resume" is stopped with
the SIGINT a Ctrl-C sends, then finished by the README's resume command. Placeholders such as
`outputs/runs/<date>/<time>_<model>` are filled with the runs the earlier commands made. The few
commands a test cannot run here are listed in NOT_RUN with the reason, and a test fails if the
README gains a command that is neither run nor listed.
"""

import concurrent.futures
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT

pytestmark = pytest.mark.slow

NOT_RUN = {
    "make test": "it is this suite (CI runs it)",
    "python train.py": "make train runs exactly this, as written (the default run, end to end)",
    'pytest -m "not slow"': "it runs part of this suite",
    "pytest -m tensorboard": "it runs part of this suite",
    "python -m zoo.bench": "it takes minutes and asserts nothing (figures in the README come from it)",
    "make bench": "it takes minutes and asserts nothing (figures in the README come from it)",
    "python -m zoo.bench --compare --torch-python <a python that imports torch>":
        "a syntax summary; it needs PyTorch in another environment (never a dependency) and asserts nothing",
    "make bench-real": "it trains every classifier on three real sets for over an hour; tests/test_bench_real.py runs it on a tiny folder",
    "python -m zoo.bench_real ../shared/datasets/ucr": "as make bench-real, which runs this",
    "python -m zoo.bench_real <folder>": "a syntax summary; tests/test_bench_real.py runs it on a tiny folder",
    "python -m zoo.bench_real <folder> trainer.steps=500": "a syntax summary; tests/test_bench_real.py runs it with trainer.steps=4",
    "python -m zoo.bench_real <folder> --seed 0 1 2": "a syntax summary; tests/test_bench_real.py runs it with --seed 0 1",
    "python train.py data=ts data.train_path=... data.test_path=... model=<name> seed=0":
        "a template of what bench_real runs; tests/test_bench_real.py runs it",
    "source .venv/bin/activate": "a shell built-in; these tests put the environment's bin/ first on PATH, which is what it does",
    '.venv/bin/pip install -e ".[gpu]"': "it downloads GBs of CUDA libraries for a GPU this machine does not have",
    "python train.py trainer=gpu": "it needs a GPU; without one it stops with the one-line error tests/test_device.py checks",
    "python train.py paths.log_dir=/scratch/runs": "it writes outside the repository; paths.log_dir is passed by many tests",
    "python train.py model=<name>": "a template; tests/test_zoo_cli.py trains every model",
    "python evaluate.py run_dir=<run> [ckpt=best|last|<file.keras>]": "a syntax summary; its concrete forms are run",
    "python -m zoo.compare <sweep dir or runs...>": "a syntax summary; its concrete form is run",
    "python -m zoo.predict run_dir=<run> input=<file .ts|.csv|.npz> [output=<file.csv>] [ckpt=best|last]":
        "a syntax summary; its concrete forms are run",
    "python -m zoo.export run_dir=<run> format=saved_model|onnx [ckpt=best|last]": "a syntax summary; its concrete forms are run",
    "python train.py trainer=gpu trainer.strategy=mirrored": "it needs GPUs; tests/test_distribution.py runs mirrored on two logical CPUs",
    "KERAS_BACKEND=jax python train.py trainer=gpu trainer.strategy=data_parallel":
        "it needs GPUs; tests/test_distribution.py runs data_parallel on CPU",
    "KERAS_BACKEND=jax python train.py trainer.strategy=data_parallel trainer.cluster.coordinator_address=host0:1234 "
    "trainer.cluster.num_processes=2 trainer.cluster.process_id=0 hydra.run.dir=/shared/runs/job1":
        "it needs a second host; tests/test_distribution.py runs this over two local processes",
    "srun --ntasks=2 env KERAS_BACKEND=jax python train.py trainer.strategy=data_parallel hydra.run.dir=/shared/runs/job1":
        "it needs a SLURM cluster; tests/test_distribution.py runs data_parallel over two local processes",
    "python train.py -m hydra/launcher=submitit_slurm hydra.launcher.partition=<partition> hydra.launcher.gpus_per_node=1 "
    "hydra.launcher.timeout_min=60 model=last_state,attention":
        "it needs a SLURM cluster; the README's submitit_local command runs the same launcher locally",
}
# A command starts with a program the README uses, or with an environment assignment before one (KERAS_BACKEND=jax python ...).
COMMAND_START = re.compile(r"^([A-Z_]+=\S+\s+)*((python|make|tensorboard|pytest|source|srun)\s|\.venv/bin/)")


def readme_commands():
    """The commands in the README's bash blocks and inline code, in order, each once."""
    text = (ROOT / "README.md").read_text()
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


COMMANDS = readme_commands()
TO_RUN = [command for command in COMMANDS if command not in NOT_RUN]
# "Crashes and resume": a long run, interrupted as Ctrl-C would, then continued by the next command.
LONG_RUN = "python train.py data.n_samples=20000 trainer.epochs=3 hydra.run.dir=outputs/long_run"
RESUME = "python train.py resume=outputs/long_run"
# Commands that need what others made (a run, a sweep): run after the independent ones, in README order.
NEEDS_RUNS = [
    command for command in TO_RUN if "<" in command or command.startswith("tensorboard") or "run_dir=outputs/" in command
]
INDEPENDENT = [command for command in TO_RUN if command not in NEEDS_RUNS and command not in (LONG_RUN, RESUME)]


def test_every_readme_command_is_run_or_listed_with_a_reason():
    assert set(NOT_RUN) <= set(COMMANDS), f"NOT_RUN lists commands the README no longer shows: {set(NOT_RUN) - set(COMMANDS)}"
    assert "make train" in INDEPENDENT and any(c.startswith("python train.py -m") for c in INDEPENDENT)
    assert LONG_RUN in TO_RUN and RESUME in TO_RUN
    assert len(TO_RUN) >= 25


@pytest.fixture(scope="module")
def fresh_copy(tmp_path_factory):
    """The repository's files (tracked and new, not ignored) in a new directory, with the same environment."""
    copy = tmp_path_factory.mktemp("readme") / "repo"
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    for relative in listed:
        source = ROOT / relative
        if source.is_file():
            (copy / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy / relative)
    # `make` finds the environment already installed (the stamp is newer than pyproject.toml).
    (copy / ".venv").symlink_to(ROOT / ".venv" if (ROOT / ".venv").exists() else Path(sys.prefix))
    return copy


def shell_environment():
    """The user's shell: the environment's bin/ first on PATH, and no make variables from a `make test ARGS=...` above us."""
    bin_dir = str(Path(sys.executable).parent)
    inherited = {key: value for key, value in os.environ.items() if key not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "ARGS")}
    return {**inherited, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""), "PYTHONDONTWRITEBYTECODE": "1"}


def run_in(copy, command, timeout=600):
    return subprocess.run(
        ["bash", "-c", command], cwd=copy, env=shell_environment(), capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="module")
def independent_results(fresh_copy):
    """Runs the commands that need nothing else, two at a time (the machines have two cores)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        futures = {command: pool.submit(run_in, fresh_copy, command) for command in INDEPENDENT}
        return {command: future.result() for command, future in futures.items()}


@pytest.mark.parametrize("command", INDEPENDENT)
def test_command_runs_as_written(command, independent_results):
    completed = independent_results[command]
    assert completed.returncode == 0, f"{command}\n{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}"
    assert "Traceback" not in completed.stderr


def test_long_run_stopped_by_ctrl_c_then_resumed_as_written(fresh_copy, independent_results):
    """The long run exits 130 with the resume line after a SIGINT in its second epoch; RESUME finishes it."""
    process = subprocess.Popen(
        ["bash", "-c", f"exec {LONG_RUN}"], cwd=fresh_copy, env=shell_environment(),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    lines = []
    for line in process.stdout:
        lines.append(line)
        if "epoch 1/3" in line:
            os.killpg(process.pid, signal.SIGINT)  # what a terminal's Ctrl-C sends to the foreground group
    output = "".join(lines)
    assert process.wait(timeout=120) == 130, output
    assert "Interrupted: Stopped by SIGINT at epoch 2" in output, output
    assert "resume with python train.py resume=outputs/long_run" in output, output
    assert not (fresh_copy / "outputs/long_run/metrics.json").exists()

    completed = run_in(fresh_copy, RESUME)
    assert completed.returncode == 0, f"{RESUME}\n{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}"
    metrics = json.loads((fresh_copy / "outputs/long_run/metrics.json").read_text())
    assert metrics["epochs_run"] == 3 and metrics["test"]["accuracy"] > 0.5, metrics
    assert "Traceback" not in completed.stderr


def newest(paths):
    paths = sorted(paths, key=lambda path: path.stat().st_mtime)
    assert paths, "no run to fill the placeholder with: an earlier README command should have made one"
    return paths[-1]


def fill_placeholders(command, copy):
    """Replaces `<date>/<time>` paths and `<a>,<b>` with runs the earlier commands made (relative paths)."""
    runs = sorted((copy / "outputs" / "runs").glob("*/*"), key=lambda path: path.stat().st_mtime)
    runs = [run for run in runs if (run / "metrics.json").is_file()]
    sweep = newest((copy / "outputs" / "multiruns").glob("*/*"))
    command = command.replace("outputs/runs/<date>/<time>_<model>", str(runs[-1].relative_to(copy)))
    command = command.replace("outputs/multiruns/<date>/<time>", str(sweep.relative_to(copy)))
    command = command.replace("<a>,<b>", ",".join(str(run.relative_to(copy)) for run in runs[-2:]))
    assert "<" not in command, f"unknown placeholder in {command}"
    return command


@pytest.mark.parametrize("command", NEEDS_RUNS)
def test_command_on_earlier_runs_runs_as_written(command, fresh_copy, independent_results):
    filled = fill_placeholders(command, fresh_copy)
    if filled.startswith("tensorboard"):
        assert_tensorboard_serves(filled, fresh_copy)
        return
    completed = run_in(fresh_copy, filled)
    assert completed.returncode == 0, f"{filled}\n{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}"
    assert "Traceback" not in completed.stderr


def assert_tensorboard_serves(command, copy, timeout=90):
    """Starts the command and waits for TensorBoard to announce its address; then stops it."""
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
