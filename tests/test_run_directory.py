"""The run directory: every path in one place, atomic strict-JSON writes, checkpoints that survive a failed save."""

import json
import subprocess

import keras
import numpy as np
import pytest
from conftest import compose_config

from zoo import ZooError
from zoo.data import DataSpec
from zoo.registry import create_model
from zoo.runs.directory import (
    RunDirectory,
    load_checkpoint,
    resume_command,
    save_model_atomically,
    write_json_atomically,
)
from zoo.training.loop import model_summary, open_run_directory, write_run_files
from zoo.training.run_config import check_config

pytestmark = pytest.mark.unit


def test_json_is_strict_and_sorted(tmp_path):
    path = tmp_path / "metrics.json"
    write_json_atomically(path, {"b": float("nan"), "a": [1.0, float("inf")]})
    text = path.read_text()
    assert json.loads(text) == {"a": [1.0, None], "b": None}
    assert "NaN" not in text and "Infinity" not in text and text.index('"a"') < text.index('"b"')


def test_a_write_that_fails_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "metrics.json"
    write_json_atomically(path, {"accuracy": 0.5})
    with pytest.raises(TypeError):
        write_json_atomically(path, {"accuracy": object()})
    assert json.loads(path.read_text()) == {"accuracy": 0.5}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.json"]


def test_a_failed_model_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    spec = DataSpec(timesteps=6, n_features=2, n_classes=3, horizon=2)
    model = create_model("last_state", spec, units=4)
    path = tmp_path / "last.keras"
    save_model_atomically(model, path)
    before = path.read_bytes()

    def broken_save(self, filepath, *args, **kwargs):
        with open(filepath, "wb") as handle:
            handle.write(b"half a file")
        raise OSError("No space left on device")

    monkeypatch.setattr(keras.Model, "save", broken_save)
    with pytest.raises(ZooError, match=rf"^Cannot write {path} \(No space left on device\): free space there"):
        save_model_atomically(model, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.keras"]
    monkeypatch.undo()
    series = {"series": np.zeros((1, 6, 2), "float32")}
    np.testing.assert_array_equal(load_checkpoint(path).predict(series, verbose=0), model.predict(series, verbose=0))


def test_checkpoint_names_resolve_and_missing_ones_are_one_line_errors(tmp_path):
    run = RunDirectory(tmp_path)
    with pytest.raises(ZooError, match=r"holds no best checkpoint .* train it again or pass ckpt=<a .keras file>"):
        run.checkpoint("best")
    with pytest.raises(ZooError, match=r"Checkpoint file nowhere.keras does not exist"):
        run.checkpoint("nowhere.keras")
    with pytest.raises(ZooError, match=r"holds no config.yaml, so it is not a training run directory"):
        run.read_config()
    (tmp_path / "garbage.keras").write_bytes(b"\x00\x01 not a zip")
    with pytest.raises(ZooError, match=r"could not be loaded as a Keras model \(.*\): pass a .keras file written by train.py"):
        load_checkpoint(tmp_path / "garbage.keras")


def test_training_steps_run_on_their_own(tmp_path):
    cfg = compose_config(overrides=["debug=smoke"], output_dir=tmp_path)
    assert check_config(cfg).name == "classify"
    bad = compose_config(overrides=["debug=smoke", "trainer.learning_rate=-1"], output_dir=tmp_path)
    with pytest.raises(ZooError, match="trainer.learning_rate, expected a positive number, got -1"):
        check_config(bad)
    run = open_run_directory(cfg)
    from zoo.training.builders import build_dataset, build_model

    dataset = build_dataset(cfg.data)
    summary = model_summary(build_model(cfg.model, dataset.spec))
    write_run_files(run, cfg, dataset, summary)
    assert "encoder_lstm_0" in summary and run.model_summary.read_text() == summary
    assert run.read_classes() == dataset.class_names
    assert run.read_config().model.name == "last_state"
    assert json.loads(run.scaler.read_text())["mean"] == dataset.scaler.mean.tolist()
    run.metrics.write_text("{}")
    with pytest.raises(ZooError, match="already holds a finished run"):
        open_run_directory(cfg)


@pytest.mark.integration
def test_a_diverging_run_stops_at_once_keeps_its_checkpoint_and_writes_no_metrics(tmp_path):
    from zoo.training.loop import train

    overrides = ["debug=smoke", "model.head=forecast", "trainer.epochs=3", "trainer.optimizer._target_=keras.optimizers.SGD",
                 "trainer.learning_rate=1e6", "trainer.clipnorm=null", "~callbacks.reduce_lr_on_plateau"]
    cfg = compose_config(overrides=overrides, output_dir=tmp_path)
    with pytest.raises(ZooError, match=r"The training loss became (nan|inf) at epoch 1, step \d+; the run stopped .* lower trainer.learning_rate"):
        train(cfg)
    run = RunDirectory(tmp_path)
    assert not run.metrics.exists() and not run.best_checkpoint.exists()
    assert run.config.is_file()  # the run stays inspectable


def test_data_paths_are_saved_absolute_so_a_run_evaluates_from_anywhere(tmp_path, monkeypatch):
    from conftest import ROOT

    from zoo.training.builders import build_dataset, build_model

    monkeypatch.chdir(ROOT)
    overrides = ["data=ts", "data.train_path=data/examples/tiny_TRAIN.ts", "data.test_path=data/examples/tiny_TEST.ts"]
    cfg = compose_config(overrides=overrides, output_dir=tmp_path / "run")
    dataset = build_dataset(cfg.data)
    run = open_run_directory(cfg)
    write_run_files(run, cfg, dataset, model_summary(build_model(cfg.model, dataset.spec)))
    saved = run.read_config().data
    assert saved.train_path == str(ROOT / "data" / "examples" / "tiny_TRAIN.ts")
    assert saved.test_path == str(ROOT / "data" / "examples" / "tiny_TEST.ts")
    monkeypatch.chdir(tmp_path)
    assert len(build_dataset(saved).test) == len(dataset.test)


def test_the_printed_resume_command_is_shell_quoted(tmp_path):
    assert resume_command(tmp_path / "my runs" / "a") == f"python train.py 'resume={tmp_path}/my runs/a'"
    assert resume_command(tmp_path / "plain") == f"python train.py resume={tmp_path}/plain"


def test_a_run_directory_anywhere_stays_out_of_git(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    run = RunDirectory(tmp_path / "my_run")  # as hydra.run.dir=my_run makes it, outside outputs/
    run.create()
    run.write_json(run.metrics, {"test": {}})
    (tmp_path / "notes.txt").write_text("mine")
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert status.stdout.splitlines() == ["?? notes.txt"]


@pytest.mark.parametrize("last_every_s, saved_last_after", [(0.0, [1, 2, 3, "end"]), (3600.0, [1, "end"])])
def test_last_checkpoint_is_saved_at_the_end_and_at_most_every_last_every_s_during_training(tmp_path, monkeypatch, last_every_s, saved_last_after):
    from model_checks import toy_batch, toy_dataset

    from zoo.tasks import get_task
    from zoo.training import callbacks

    saves = []
    monkeypatch.setattr(callbacks, "save_model_atomically", lambda model, path: saves.append((checkpoint.epoch, path.name)))
    keras.utils.set_random_seed(0)
    dataset = toy_dataset()
    model = create_model("last_state", dataset.spec, units=4)
    model.compile(optimizer="adam", **get_task("classify").compile_arguments())
    inputs, labels = toy_batch(model, dataset, "classify")
    checkpoint = callbacks.BestAndLastCheckpoint(RunDirectory(tmp_path), "loss", last_every_s=last_every_s)
    checkpoint.epoch = 0
    counter = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: setattr(checkpoint, "epoch", epoch + 1))
    counter.on_train_end = lambda logs=None: setattr(checkpoint, "epoch", "end")
    model.fit(inputs, labels, epochs=3, batch_size=8, verbose=0, callbacks=[counter, checkpoint])
    assert [epoch for epoch, name in saves if name == "last.keras"] == saved_last_after
    assert [name for _, name in saves].count("best.keras") >= 1
