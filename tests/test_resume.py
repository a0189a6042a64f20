"""Crashes and resume: a run killed or signalled at any point and resumed ends exactly as an uninterrupted one.

Each training here is a subprocess (tests/pause_points.py pauses it at a known moment, the test
kills or signals it). "Exactly" is bitwise on CPU: metrics.json, and every weight and optimizer
variable of the best and last checkpoints.
"""

import json
import shutil
import signal
import time
from pathlib import Path

import keras
import numpy as np
import pytest
from cli_processes import start_cli
from conftest import run_cli, train_in_process
from omegaconf import OmegaConf
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from zoo.errors import ZooError
from zoo.training.resume import TrainingBackup

pytestmark = pytest.mark.slow

# Small and quick, with dropout (its seed state must be restored) and 14 steps per epoch.
# 14 steps per epoch, two per execution: signals and backups act at the end of every second step.
OVERRIDES = ["data.n_samples=300", "trainer.epochs=4", "trainer.batch_size=16", "trainer.steps_per_execution=2", "model.dropout=0.2", "seed=7"]


def start_paused(run_dir, point, *extra):
    """Starts training into `run_dir` and returns `(process, marker)` once it reached `point`."""
    marker = Path(f"{run_dir}.paused")
    process = start_cli("tests/pause_points.py", point, str(marker), *OVERRIDES, *extra, f"hydra.run.dir={run_dir}")
    deadline = time.monotonic() + 300
    while not marker.exists():
        if process.poll() is not None:
            raise AssertionError(f"training ended before {point}:\n{process.communicate()[1][-3000:]}")
        assert time.monotonic() < deadline, f"training never reached {point}"
        time.sleep(0.05)
    return process, marker


def kill_at(run_dir, point, *extra):
    """Trains into `run_dir` and kills the process with SIGKILL at `point`."""
    process, marker = start_paused(run_dir, point, *extra)
    process.kill()
    process.communicate()
    marker.unlink()


def weights_and_optimizer(path):
    # model.weights, not model.variables: a .keras file does not hold dropout seed states (a
    # loaded model draws new ones); equal weights after dropout training show they were restored.
    model = keras.saving.load_model(path)
    return [np.asarray(variable.value) for variable in [*model.weights, *model.optimizer.variables]]


def assert_same_run(resumed, reference):
    assert (resumed / "metrics.json").read_text() == (reference / "metrics.json").read_text()
    for name in ("best", "last"):
        ours = weights_and_optimizer(resumed / "checkpoints" / f"{name}.keras")
        theirs = weights_and_optimizer(reference / "checkpoints" / f"{name}.keras")
        assert len(ours) == len(theirs)
        for index, (a, b) in enumerate(zip(ours, theirs)):
            assert np.array_equal(a, b), f"{name}.keras variable {index} differs after the resume"
    # Nothing half-written is left behind, and the finished run needs no backup.
    assert not list(resumed.rglob("*.partial*"))
    assert not (resumed / "backups").exists()


def logged_steps(run_dir, tag):
    accumulator = EventAccumulator(str(run_dir / "tensorboard"), size_guidance={"tensors": 0})
    accumulator.Reload()
    return [event.step for event in accumulator.Tensors(tag)]


@pytest.fixture(scope="session")  # made once per test process, however its tests are ordered
def reference(tmp_path_factory):
    """The uninterrupted run every resumed run must equal."""
    run_dir = tmp_path_factory.mktemp("reference") / "run"
    run_cli("train.py", *OVERRIDES, f"hydra.run.dir={run_dir}")
    return run_dir


@pytest.mark.parametrize(
    "point, extra, how",
    [
        ("batch:2:6", [], "same command"),  # mid-epoch: resumes from the end of epoch 1
        ("epoch:2", [], "resume="),  # between epochs
        ("checkpoint:3", [], "resume="),  # while a checkpoint is being written
        ("batch:3:10", ["trainer.backup_every_steps=4"], "same command"),  # from a backup within epoch 3 (step 8)
    ],
)
def test_a_killed_run_resumes_to_the_same_weights(point, extra, how, reference, tmp_path):
    run_dir = tmp_path / "run"
    kill_at(run_dir, point, *extra)
    assert not (run_dir / "metrics.json").exists()
    if how == "resume=":
        completed = run_cli("train.py", f"resume={run_dir}")
    else:
        completed = run_cli("train.py", *OVERRIDES, *extra, f"hydra.run.dir={run_dir}")
    assert "Resuming from" in completed.stderr + completed.stdout + (run_dir / "train.log").read_text()
    assert_same_run(run_dir, reference)
    # TensorBoard's curves go on where they stopped: every epoch once, the config once.
    assert logged_steps(run_dir, "loss/train") == [0, 1, 2, 3]
    assert logged_steps(run_dir, "config") == [0]


@pytest.mark.parametrize(
    "signal_number, point, where, saved",
    [
        # SIGINT takes the same handler; the README's long run is stopped by it and resumed (test_readme_commands.py).
        (signal.SIGTERM, "batch:2:6", "epoch 2, step 8", (1, 8)),  # saved after the next execution (two steps)
        (signal.SIGTERM, "batch:2:14", "epoch 2, its end", (2, 0)),  # the epoch's last step: the epoch ends first
    ],
)
def test_a_signal_saves_the_state_and_names_the_resume_command(signal_number, point, where, saved, reference, tmp_path):
    run_dir = tmp_path / "run"
    process, marker = start_paused(run_dir, point)
    process.send_signal(signal_number)
    time.sleep(0.3)  # the handler runs while the step's callbacks are paused
    marker.unlink()
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 128 + signal_number
    name = signal.Signals(signal_number).name
    assert stderr.strip().splitlines()[-1] == (
        f"Interrupted: Stopped by {name} at {where}; the state is saved in {run_dir}/backups/state.npz: "
        f"resume with python train.py resume={run_dir}"
    )
    assert "Traceback" not in stderr
    state = json.loads(str(np.load(run_dir / "backups" / "state.npz")["state"]))
    assert (state["epoch"], state["step"]) == saved
    run_cli("train.py", f"resume={run_dir}")
    assert_same_run(run_dir, reference)
    assert logged_steps(run_dir, "loss/train") == [0, 1, 2, 3]


def test_a_second_ctrl_c_stops_at_once(tmp_path):
    run_dir = tmp_path / "run"
    process, marker = start_paused(run_dir, "batch:1:4")
    process.send_signal(signal.SIGINT)
    time.sleep(0.3)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    marker.unlink(missing_ok=True)
    assert process.returncode == 130
    assert stderr.strip().splitlines()[-1].startswith("Interrupted: stopped at your request")
    assert "Traceback" not in stderr


@pytest.fixture(scope="session")  # made once per test process, however its tests are ordered
def interrupted(tmp_path_factory):
    """A run killed after its second epoch (copied by each test that changes it)."""
    run_dir = tmp_path_factory.mktemp("interrupted") / "run"
    kill_at(run_dir, "epoch:2")
    return run_dir


def copy_of(run_dir, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    return copy


def test_another_config_into_an_unfinished_run_is_refused_untouched(interrupted, tmp_path):
    run_dir = copy_of(interrupted, tmp_path)
    hydra_files = {path.name: path.read_bytes() for path in (run_dir / ".hydra").iterdir()}
    overrides = [item.replace("trainer.epochs=4", "trainer.epochs=5") for item in OVERRIDES]
    completed = run_cli("train.py", *overrides, f"hydra.run.dir={run_dir}", check=False)
    assert completed.returncode == 1
    assert completed.stderr.strip().splitlines()[-1] == (
        f"Error: {run_dir} holds an unfinished run with another config (trainer.epochs differ): "
        f"continue it with python train.py resume={run_dir}, or choose another hydra.run.dir."
    )
    assert {path.name: path.read_bytes() for path in (run_dir / ".hydra").iterdir()} == hydra_files
    assert (run_dir / "backups" / "state.npz").is_file()


def test_resume_refuses_other_overrides_and_directories_that_are_not_runs(interrupted, tmp_path):
    completed = run_cli("train.py", f"resume={interrupted}", "trainer.epochs=9", check=False)
    assert completed.returncode == 1
    assert completed.stderr.strip().splitlines()[-1] == (
        f"Error: resume={interrupted} continues the run with its own saved config, so trainer.epochs=9 cannot apply: "
        "drop them, or start a new run with them."
    )
    empty = tmp_path / "empty"
    empty.mkdir()
    completed = run_cli("train.py", f"resume={empty}", check=False)
    assert completed.returncode == 1
    assert "holds no config.yaml, so no training started there" in completed.stderr
    assert list(empty.iterdir()) == []


def test_a_resumed_run_keeps_its_hydra_files(interrupted, tmp_path):
    run_dir = copy_of(interrupted, tmp_path)
    before = (run_dir / ".hydra" / "overrides.yaml").read_text()
    run_cli("train.py", f"resume={run_dir}")
    assert (run_dir / ".hydra" / "overrides.yaml").read_text() == before
    assert OmegaConf.load(run_dir / "config.yaml").trainer.epochs == 4
    assert json.loads((run_dir / "metrics.json").read_text())["epochs_run"] == 4


@pytest.mark.unit
def test_an_unreadable_backup_is_named(tmp_path):
    path = tmp_path / "backups" / "state.npz"
    path.parent.mkdir()
    path.write_bytes(b"PK\x03\x04 not a whole file")
    with pytest.raises(ZooError, match=r"^The backup .*state.npz cannot be read \(.*\): delete it to start the run over"):
        TrainingBackup(path).load()


@pytest.mark.unit
def test_no_backup_means_a_fresh_start(tmp_path):
    backup = TrainingBackup(tmp_path / "backups" / "state.npz")
    assert backup.load() is False
    assert (backup.resuming, backup.epoch, backup.step, backup.history) == (False, 0, 0, [])


@pytest.mark.integration
def test_signal_handlers_are_put_back_after_training(tmp_path):
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    train_in_process(tmp_path / "run", "debug=smoke")
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before
