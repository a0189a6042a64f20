"""train.py and evaluate.py through the command line: the run directory, TensorBoard, reloading, errors."""

import json
import os
import pty
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

import keras
import numpy as np
import pytest
from omegaconf import OmegaConf
from cli_processes import run_to_end, start_cli
from conftest import (
    ROOT,
    compose_config,
    run_cli,
    run_task_in_process,
    train_in_process,
)
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.util import tensor_util

from zoo import create_model
from zoo.data import DataSpec, model_inputs, synthetic_dataset
from zoo.native_output import START_UP_LINE
from zoo.training.loop import train

pytestmark = pytest.mark.slow


def scalar_tags(event_dir):
    accumulator = EventAccumulator(str(event_dir), size_guidance={"tensors": 0, "scalars": 0})
    accumulator.Reload()
    # tf.summary writes scalars as tensor summaries.
    return set(accumulator.Tags()["tensors"]) | set(accumulator.Tags()["scalars"])


@pytest.mark.integration
def test_smoke_run_writes_the_whole_run_directory(smoke_run):
    for relative in [
        ".hydra/config.yaml",
        ".hydra/overrides.yaml",
        "config.yaml",
        "checkpoints/best.keras",
        "checkpoints/last.keras",
        "metrics.json",
        "scaler.json",
        "classes.json",
        "model_summary.txt",
        "train.log",
    ]:
        assert (smoke_run / relative).is_file(), relative
    metrics = json.loads((smoke_run / "metrics.json").read_text())
    assert set(metrics) >= {"train", "validation", "test", "monitor", "best_epoch"}
    for split in ("train", "validation", "test"):
        assert set(metrics[split]) == {"loss", "accuracy"}
        assert 0.0 <= metrics[split]["accuracy"] <= 1.0
    assert "epoch 1/1" in (smoke_run / "train.log").read_text()


@pytest.mark.integration
def test_a_finished_run_ends_with_its_summary_and_next_commands(smoke_run):
    metrics = json.loads((smoke_run / "metrics.json").read_text())
    logged = [line.split(" - ", 1)[1] for line in (smoke_run / "train.log").read_text().splitlines() if "zoo.training.loop" in line]
    test = ", ".join(f"{name} {value:.4g}" for name, value in sorted(metrics["test"].items()))
    assert logged[-6:-2] == [
        "Training ended: the budget of 1 epoch ran out.",
        f"Best epoch: 1, val_accuracy {metrics['validation']['accuracy']:.4g} (checkpoints/best.keras).",
        f"Test scores of the best checkpoint: {test}.",
        f"Run directory: {smoke_run}",
    ]
    assert logged[-2:] == [f"Next: python evaluate.py run_dir={smoke_run}", f"      tensorboard --logdir {smoke_run}"]


@pytest.mark.integration
def test_tensorboard_events_hold_train_and_validation_loss_in_one_run(smoke_run):
    event_dir = smoke_run / "tensorboard"
    assert not [path for path in event_dir.iterdir() if path.is_dir()]  # one TensorBoard run, no train/ validation/
    tags = scalar_tags(event_dir)
    assert {"loss/train", "loss/validation", "accuracy/train", "accuracy/validation", "learning_rate"} <= tags
    assert {"final/test_accuracy", "final/validation_loss"} <= tags
    accumulator = EventAccumulator(str(event_dir), size_guidance={"tensors": 0})
    accumulator.Reload()
    [event] = accumulator.Tensors("loss/validation")
    metrics = json.loads((smoke_run / "metrics.json").read_text())
    # One epoch: the logged validation loss is the best (only) checkpoint's.
    assert float(tensor_util.make_ndarray(event.tensor_proto)) == pytest.approx(metrics["validation"]["loss"], rel=1e-5)


def test_evaluate_reproduces_the_training_test_metrics(smoke_run):
    run_cli("evaluate.py", f"run_dir={smoke_run}")
    trained = json.loads((smoke_run / "metrics.json").read_text())["test"]
    evaluated = json.loads((smoke_run / "eval" / "metrics.json").read_text())["test"]
    assert evaluated["accuracy"] == trained["accuracy"]
    assert evaluated["loss"] == pytest.approx(trained["loss"], rel=1e-6)


def test_best_checkpoint_predicts_identically_in_a_fresh_process(smoke_run, tmp_path):
    dataset = synthetic_dataset(**_smoke_data_options(smoke_run))
    inputs = model_inputs(dataset.test, ["series"])
    np.save(tmp_path / "series.npy", inputs["series"])
    script = (
        "import sys, numpy as np, keras, zoo\n"
        f"model = keras.saving.load_model(r'{smoke_run / 'checkpoints' / 'best.keras'}')\n"
        f"series = np.load(r'{tmp_path / 'series.npy'}')\n"
        f"np.save(r'{tmp_path / 'fresh.npy'}', model.predict({{'series': series}}, verbose=0))\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, cwd=ROOT, capture_output=True)
    here = keras.saving.load_model(smoke_run / "checkpoints" / "best.keras").predict(inputs, verbose=0)
    np.testing.assert_array_equal(np.load(tmp_path / "fresh.npy"), here)


def _smoke_data_options(run_dir):
    options = OmegaConf.to_container(OmegaConf.load(run_dir / "config.yaml").data)
    options.pop("_target_")
    return options


@pytest.mark.integration
def test_same_seed_repeats_metrics_exactly_and_another_seed_does_not(smoke_run, tmp_path):
    # Trained in this process: the CLI run's figures come back in another process with other state.
    again = train_in_process(tmp_path / "again", "debug=smoke")
    assert again == json.loads((smoke_run / "metrics.json").read_text())
    other = train_in_process(tmp_path / "other", "debug=smoke", "seed=7")
    assert other["test"] != again["test"] or other["train"] != again["train"]
    # The smoke run's 5 steps per epoch run in one call (steps_per_execution auto); one step per call gives the same run.
    assert OmegaConf.load(smoke_run / "config.yaml").trainer.steps_per_execution == 5
    assert train_in_process(tmp_path / "stepwise", "debug=smoke", "trainer.steps_per_execution=1") == again


def test_output_redirected_gives_one_plain_line_per_epoch(tmp_path):
    completed = run_cli("train.py", f"hydra.run.dir={tmp_path / 'run'}", "debug=smoke", "trainer.epochs=2", new_python=True)
    output = completed.stdout + completed.stderr
    assert output.count("epoch 1/2") == 1 and output.count("epoch 2/2") == 1
    assert "━" not in output  # no progress bar when not on a terminal
    # Nor TensorFlow's C++ start-up lines, its failed CUDA probe on this CPU-only machine included.
    assert not [line for line in output.splitlines() if START_UP_LINE.match(line.encode())]
    assert "absl" not in output and "cuInit" not in output and "oneDNN" not in output


# train.py, printing at exit whether Keras ran its own code (the zoo's `keras` is lazy until then) and TensorFlow loaded.
REPORTING_IMPORTS = (
    "import atexit, runpy, sys; atexit.register(lambda: print('loaded:', type(sys.modules['keras']).__name__ != '_LazyKeras', "
    "'tensorflow' in sys.modules)); "
    "sys.argv = ['train.py', *sys.argv[1:]]; runpy.run_path('train.py', run_name='__main__')"
)


@pytest.mark.parametrize(
    "override, error",
    [
        ("+trainer.epoch=3", "Invalid trainer config (trainer=default): it has no option 'epoch'; remove trainer.epoch"),
        ("+data.n_sample=10", "Invalid data config (data=synthetic): it has no option 'n_sample'; remove data.n_sample"),
        ("+model.unit=8", "Invalid model config (model=last_state): it has no option 'unit'; remove model.unit"),
        ("trainer.epochs=-1", "Received an invalid value for trainer.epochs, expected a positive integer, got -1."),
        ("+epochs=3", "Invalid config: it has no key 'epochs' (did you mean trainer.epochs?); remove epochs from the command line."),
        ("seed=-1", "Received an invalid value for seed, expected an integer >= 0, got -1."),
        ("model.units=-3", "Invalid model config (model=last_state): Received an invalid value for units, expected a positive integer, got -3."),
        ("+logger.tensorboard.flush_every=3", "Invalid logger config (logger=tensorboard): it has no option 'flush_every'"),
        ("+callbacks.early_stopping.patiense=3", "Invalid callbacks config (callbacks=default): it has no option 'patiense'"),
        ("data=ts", "Missing required value data.train_path: set it on the command line, e.g. data.train_path=<value>."),
    ],
)
def test_config_errors_end_before_keras_or_tensorflow_is_imported(tmp_path, override, error):
    completed = subprocess.run(
        [sys.executable, "-c", REPORTING_IMPORTS, override, f"hydra.run.dir={tmp_path / 'run'}"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert completed.returncode == 1 and "Traceback" not in completed.stderr, completed.stderr
    assert completed.stderr.strip().splitlines()[-1].startswith(f"Error: {error}")
    assert completed.stdout.strip() == "loaded: False False"
    assert not (tmp_path / "run").exists()


def terminal_lines(raw):
    """The lines a terminal shows for `raw`: a carriage return goes back to the line's start, ESC[K clears it, colours drop."""
    shown = []
    for line in re.sub(r"\x1b\[[0-9;]*m", "", raw).replace("\b", "").split("\n"):  # Keras' bar backspaces, then returns
        screen = ""
        for segment in line.split("\r"):
            if segment.startswith("\x1b[K"):
                screen, segment = "", segment[3:]
            screen = segment + screen[len(segment):]
        shown.append(screen)
    return shown


def test_at_a_terminal_each_epoch_shows_one_line_and_its_progress_bar_goes(tmp_path):
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "train.py"), f"hydra.run.dir={tmp_path / 'run'}", "debug=smoke", "trainer.epochs=2"],
        cwd=ROOT, stdin=terminal, stdout=terminal, stderr=terminal,
    )
    os.close(terminal)
    raw = b""
    while chunk := read_or_nothing(controller):
        raw += chunk
    assert process.wait(timeout=300) == 0
    text = raw.decode()
    assert "━" in text  # Keras' progress bar was drawn while epochs trained
    shown = terminal_lines(text)
    epoch_lines = [line for line in shown if "epoch 1/2" in line or "epoch 2/2" in line]
    assert [line.split("[INFO] - ")[1][:9] for line in epoch_lines] == ["epoch 1/2", "epoch 2/2"]
    assert not [line for line in shown if "━" in line or "Epoch 1/2" in line]  # no bar left over, nor Keras' own heading
    assert any(line.endswith("Training ended: the budget of 2 epochs ran out.") for line in shown)


@pytest.mark.parametrize("script", ["train.py", "evaluate.py"])
def test_ctrl_c_while_starting_ends_with_one_line(script, smoke_run, tmp_path):
    # Half a second in, Hydra composes or TensorFlow loads; a signal later than start-up ends in run_task's own line.
    args = ["debug=smoke", f"paths.log_dir={tmp_path}"] if script == "train.py" else [f"run_dir={smoke_run}"]
    process = subprocess.Popen(
        [sys.executable, str(ROOT / script), *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # as at a terminal: test workers may ignore SIGINT
    )
    time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 130, stderr[-2000:]
    assert "Traceback" not in stderr and stderr.strip().splitlines()[-1].startswith("Interrupted: stopped at your request")


def read_or_nothing(descriptor):
    """Reads what the pseudo-terminal has; b"" once the process closed it (Linux raises EIO there)."""
    try:
        return os.read(descriptor, 65536)
    except OSError:
        return b""


def test_two_runs_started_together_get_their_own_directories(tmp_path):
    processes = [start_cli("train.py", "debug=smoke", f"paths.log_dir={tmp_path}") for _ in range(2)]
    assert [run_to_end(process, timeout=300).returncode for process in processes] == [0, 0]
    run_dirs = sorted((tmp_path / "runs").glob("*/*"))
    assert len(run_dirs) == 2
    assert all((run_dir / "metrics.json").is_file() for run_dir in run_dirs)


@pytest.mark.unit
def test_train_returns_the_monitored_validation_metric(tmp_path):
    cfg = compose_config(overrides=["debug=smoke"], output_dir=tmp_path)
    value = train(cfg)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["monitor"] == "val_accuracy"
    assert value == metrics["validation"]["accuracy"]


@pytest.mark.parametrize(
    "override, message",
    [
        ("model=transformer", "Could not find 'model/transformer'"),
        ("model.units=-3", "Invalid model config (model=last_state): Received an invalid value for units, "
         "expected a positive integer, got -3."),
        ("trainer.device=tpu", "trainer.device, expected one of ['auto', 'cpu', 'gpu'], got 'tpu'"),
        ("data.length=???", "Missing required value data.length: set it on the command line"),
    ],
)
def test_bad_override_stops_before_training_and_leaves_no_run(tmp_path, override, message):
    completed = run_cli("train.py", override, f"paths.log_dir={tmp_path / 'new' / 'logs'}", "debug=smoke", check=False)
    assert completed.returncode != 0
    assert message in completed.stderr
    assert "epoch 1/" not in completed.stdout + completed.stderr
    assert list(tmp_path.iterdir()) == []  # nor the folders made for it: the date folder, runs/, the new paths.log_dir


def test_training_into_a_finished_run_is_refused_and_keeps_it(smoke_run):
    kept = ["metrics.json", ".hydra/config.yaml", ".hydra/overrides.yaml", ".hydra/hydra.yaml", "train.log"]
    before = {name: (smoke_run / name).read_bytes() for name in kept}
    checkpoint = (smoke_run / "checkpoints" / "best.keras").stat().st_mtime_ns
    completed = run_cli("train.py", f"hydra.run.dir={smoke_run}", "debug=smoke", "model=attention", check=False)
    assert completed.returncode == 1
    assert completed.stderr.strip().splitlines()[-1] == (
        f"Error: {smoke_run} already holds a finished run (metrics.json); training there would overwrite it: "
        "choose another hydra.run.dir or delete that directory."
    )
    # Refused before Hydra wrote anything: its own .hydra/ files and the log are untouched too.
    assert {name: (smoke_run / name).read_bytes() for name in kept} == before
    assert (smoke_run / "checkpoints" / "best.keras").stat().st_mtime_ns == checkpoint
    assert not (smoke_run / ".lock").exists()


def test_a_directory_another_live_run_holds_is_refused_before_anything_is_written(tmp_path):
    run_dir = tmp_path / "busy"
    run_dir.mkdir()
    # This test's own process stands for the other run: alive for as long as the CLI runs.
    (run_dir / ".lock").write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname()}))
    completed = run_cli("train.py", f"hydra.run.dir={run_dir}", "debug=smoke", check=False)
    assert completed.returncode == 1
    assert completed.stderr.strip().splitlines()[-1] == (
        f"Error: {run_dir} is in use by another run (process {os.getpid()} on {socket.gethostname()}): "
        "wait for it to end or choose another hydra.run.dir."
    )
    assert [path.name for path in run_dir.iterdir()] == [".lock"]


@pytest.mark.integration
def test_evaluate_refuses_a_missing_run_directory(tmp_path, capsys):
    code, stderr = run_task_in_process("evaluate", [f"run_dir={tmp_path / 'nope'}"], capsys)
    assert code == 1
    assert stderr.strip().splitlines()[-1] == (
        f"Error: Run directory {tmp_path / 'nope'} does not exist: pass run_dir=<a directory under outputs/runs>."
    )
    assert not (tmp_path / "nope").exists()


@pytest.mark.integration
def test_evaluate_refuses_a_run_without_checkpoints(smoke_run, tmp_path, capsys):
    copy = tmp_path / "copy"
    shutil.copytree(smoke_run, copy, ignore=shutil.ignore_patterns("checkpoints", "eval"))
    code, stderr = run_task_in_process("evaluate", [f"run_dir={copy}"], capsys)
    assert code == 1
    assert "holds no best checkpoint" in stderr
    assert not (copy / "eval").exists()


@pytest.mark.integration
def test_evaluate_refuses_a_checkpoint_from_another_config(smoke_run, tmp_path, capsys):
    spec = DataSpec(timesteps=64, n_features=2, n_classes=5, horizon=8)
    create_model("last_state", spec).save(tmp_path / "two_features.keras")
    code, stderr = run_task_in_process("evaluate", [f"run_dir={smoke_run}", f"ckpt={tmp_path / 'two_features.keras'}"], capsys)
    assert code == 1
    assert "expects 2 features per step but the run's data has 3" in stderr.strip().splitlines()[-1]
    other = create_model("attention", DataSpec(timesteps=64, n_features=3, n_classes=5, horizon=8))
    other.save(tmp_path / "attention.keras")
    code, stderr = run_task_in_process("evaluate", [f"run_dir={smoke_run}", f"ckpt={tmp_path / 'attention.keras'}"], capsys)
    assert code == 1
    assert "holds a 'attention' model but the run was trained with model=last_state" in stderr.strip().splitlines()[-1]


def test_tensorflow_imported_before_keras_loads_keras_whole_with_the_zoo_layers():
    # TensorFlow's own import imports `keras.src...`; that must load Keras whole, as `import keras` would.
    code = "import zoo, tensorflow, keras; print(keras.backend.backend(), keras.saving.get_registered_object('zoo>MaskSteps').__name__)"
    completed = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert completed.stdout.split() == ["tensorflow", "MaskSteps"], completed.stderr
