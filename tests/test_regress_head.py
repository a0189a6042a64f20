"""The regress head: every model builds and trains with it, scores are in original units, runs report them."""

import json

import numpy as np
import pytest
from conftest import EXAMPLES, compose_config
from model_checks import check_model, small_options
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from zoo import list_models, model_info
from zoo.data import model_inputs, ts_dataset
from zoo.evaluation import evaluate
from zoo.tasks.reports import get_report
from zoo.training.loop import train

pytestmark = pytest.mark.unit

REGRESSION_FILE = EXAMPLES / "tiny_regression.ts"


@pytest.fixture(scope="session")  # made once per test process, however its tests are ordered
def dataset():
    data = ts_dataset(train_path=REGRESSION_FILE, seed=0)
    assert data.spec.has_targets and data.spec.n_classes == 0
    return data


@pytest.mark.integration
@pytest.mark.parametrize("name", list_models(head="regress"))
def test_every_model_with_a_regress_head_builds_and_trains_a_step(dataset, name):
    # The file's series have 29 steps: one sub-sequence where a model splits them.
    options = {"n_sub": 1} if "n_sub" in model_info(name).options() else {}
    model = check_model(name, "regress", dataset=dataset, **small_options(name), **options)
    assert model.get_layer("regressor").dtype_policy.compute_dtype == "float32"


@pytest.mark.integration
def test_regress_scores_are_in_original_units_next_to_the_training_mean(dataset):
    model = check_model("last_state", "regress", dataset=dataset, units=4)
    scores, predictions = get_report("regress").score(model, dataset, batch_size=16)
    scaler, split = dataset.scaler, dataset.test
    scaled = model.predict(model_inputs(split, ["series", "mask"][: len(model.inputs)]), verbose=0)[:, 0]
    expected = scaled * scaler.target_std + scaler.target_mean
    truth = split.targets * scaler.target_std + scaler.target_mean
    np.testing.assert_allclose(predictions, expected, rtol=1e-5)
    assert scores["model"]["mae"] == pytest.approx(np.abs(expected - truth).mean(), rel=1e-5)
    assert scores["mean_baseline"]["mae"] == pytest.approx(np.abs(scaler.target_mean - truth).mean(), rel=1e-5)
    assert scores["worse_than_baseline"] == (scores["model"]["mae"] > scores["mean_baseline"]["mae"])


@pytest.mark.integration
def test_a_regression_run_learns_and_evaluate_reports_it(tmp_path):
    overrides = ["data=ts", f"data.train_path={REGRESSION_FILE}", "model.head=regress", "model.units=16",
                 "trainer.batch_size=16", "trainer.epochs=25", "logger.tensorboard.update_freq=epoch"]
    value = train(compose_config(overrides=overrides, output_dir=tmp_path))
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["task"] == "regress" and metrics["monitor"] == "val_loss"
    assert value == metrics["validation"]["loss"]
    regression = metrics["regression"]
    # The target (each series' slope) is learnable: clearly better than always predicting the mean.
    assert regression["model"]["mae"] < 0.7 * regression["mean_baseline"]["mae"]

    report = evaluate(compose_config("evaluate", overrides=[f"run_dir={tmp_path}"]))
    assert report["task"] == "regress"
    assert report["regression"]["model"]["mae"] == pytest.approx(regression["model"]["mae"], rel=1e-5)
    markdown = (tmp_path / "eval" / "report.md").read_text()
    assert "Units: original." in markdown and "| mean_baseline |" in markdown
    assert "The model beats predicting the training mean." in markdown
    accumulator = EventAccumulator(str(tmp_path / "tensorboard"), size_guidance={"tensors": 0})
    accumulator.Reload()
    assert {"eval/model_mae", "eval/model_rmse", "final/test_mae"} <= set(accumulator.Tags()["tensors"])
