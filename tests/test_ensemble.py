"""trainer.ensemble=N: members with their own seeds in members/<k>/, served as one model that averages them."""

import json
import shutil

import numpy as np
import pytest
import yaml
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from conftest import evaluate_in_process, run_cli, train_in_process
from test_export import run_onnx, run_saved_model

from zoo import ZooError, load_run
from zoo.compare import find_runs
from zoo.export import FORMATS, export_models, export_one
from zoo.runs.directory import load_checkpoint

pytestmark = pytest.mark.integration

ENSEMBLE = ["debug=smoke", "trainer.ensemble=2", "data.min_length=20"]


@pytest.fixture(scope="module")
def ensemble_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("ensemble") / "run"
    train_in_process(run, *ENSEMBLE)
    return run


def test_members_have_their_own_seeds_and_differ(ensemble_run):
    configs = [yaml.safe_load((ensemble_run / "members" / str(k) / "config.yaml").read_text()) for k in (0, 1)]
    assert [config["seed"] for config in configs] == [42, 43]
    assert [config["data"]["seed"] for config in configs] == [42, 42]  # the same splits and scaling
    assert [config["trainer"]["ensemble"] for config in configs] == [1, 1]
    assert configs[0]["paths"]["output_dir"] == str((ensemble_run / "members" / "0").resolve())
    first, second = (load_checkpoint(ensemble_run / "members" / str(k) / "checkpoints" / "best.keras") for k in (0, 1))
    assert not np.array_equal(first.get_layer("classifier").kernel.numpy(), second.get_layer("classifier").kernel.numpy())


def test_the_runs_prediction_is_the_mean_of_its_members(ensemble_run):
    rng = np.random.default_rng(0)
    series = [rng.normal(size=(length, 3)).astype("float32") for length in (64, 40, 21)]  # padded and full
    ensemble = load_run(ensemble_run).predict(series)["probabilities"]
    members = [load_run(ensemble_run / "members" / str(k)).predict(series)["probabilities"] for k in (0, 1)]
    assert not np.allclose(members[0], members[1])
    np.testing.assert_allclose(ensemble, np.mean(members, axis=0), atol=1e-6)


def test_metrics_report_the_ensemble_and_each_member(ensemble_run):
    metrics = json.loads((ensemble_run / "metrics.json").read_text())
    members = [json.loads((ensemble_run / "members" / str(k) / "metrics.json").read_text()) for k in (0, 1)]
    assert metrics["ensemble"]["members"] == 2 and metrics["ensemble"]["seeds"] == [42, 43]
    assert metrics["ensemble"]["test"] == [member["test"] for member in members]
    assert metrics["epochs_run"] == sum(member["epochs_run"] for member in members)
    evaluation = evaluate_in_process(ensemble_run)
    assert evaluation["test"]["accuracy"] == pytest.approx(metrics["test"]["accuracy"])
    assert "an ensemble of 2 members" in (ensemble_run / "eval" / "report.md").read_text()
    assert find_runs([ensemble_run.parent]) == [ensemble_run]  # compare sees one model, not its members
    accumulator = EventAccumulator(str(ensemble_run / "tensorboard"), size_guidance={"tensors": 0})
    accumulator.Reload()
    tags = set(accumulator.Tags()["tensors"])
    assert {"final/test_accuracy", "config", "_hparams_/session_start_info", "eval/test_ece"} <= tags
    assert find_runs([ensemble_run / "members" / "0"]) == [ensemble_run / "members" / "0"]


@pytest.mark.parametrize("export_format", sorted(FORMATS))
def test_the_exported_graph_averages_the_members_as_keras_does(ensemble_run, export_format, tmp_path):
    run = load_run(ensemble_run)
    keras_format, suffix = FORMATS[export_format]
    path = export_one(export_models(run.model, run.info.serving_model)["model"], tmp_path / f"best{suffix}", keras_format)
    rng = np.random.default_rng(1)
    inputs = {"series": rng.normal(size=(3, 64, 3)).astype("float32"), "mask": np.arange(64)[None, :] < np.array([[64], [30], [21]])}
    served = (run_onnx if export_format == "onnx" else run_saved_model)(path, inputs)[0]
    np.testing.assert_allclose(served, run.model.predict(inputs, verbose=0), atol=1e-5)


def test_a_model_that_feeds_its_own_forecasts_back_is_refused(tmp_path):
    with pytest.raises(ZooError, match="trainer.ensemble=2 with model=seq2seq, whose forecast feeds its own outputs back"):
        train_in_process(tmp_path / "run", "model=seq2seq", "debug=smoke", "trainer.ensemble=2")
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
def test_an_ensemble_killed_in_its_second_member_resumes_to_the_same_models(tmp_path):
    from test_resume import OVERRIDES, assert_same_run, kill_at

    reference, resumed = tmp_path / "reference", tmp_path / "resumed"
    extra = ["trainer.ensemble=2", "trainer.epochs=2"]
    run_cli("train.py", *OVERRIDES, *extra, f"hydra.run.dir={reference}")
    kill_at(resumed, "epochs:3", *extra)  # member 0 finished (2 epochs), member 1 after its first epoch
    assert (resumed / "members" / "0" / "metrics.json").is_file() and not (resumed / "members" / "1" / "metrics.json").exists()
    completed = run_cli("train.py", f"resume={resumed}")
    assert "Member 1 of 2 (seed 7) finished earlier: kept" in completed.stderr + completed.stdout
    for member in ("members/0", "members/1"):
        assert_same_run(resumed / member, reference / member)
    assert (resumed / "metrics.json").read_text() == (reference / "metrics.json").read_text()
    shutil.rmtree(reference)
