"""Every model learns and evaluation reproduces its scores (in-process), and zoo.anatomy describes it (CLI)."""

import json

import pytest
from conftest import evaluate_in_process, run_cli, train_in_process

from zoo import list_models, model_info

pytestmark = pytest.mark.integration

# Each model at the width its registry entry declares for this test (the convolutional ones are
# narrower than their defaults, which take about twice as long here and learn no more clearly).
SMALLER = {name: [f"model.{key}={value}".replace(" ", "") for key, value in model_info(name).learning_test_options.items()] for name in list_models()}
CASES = [(name, SMALLER[name]) for name in list_models()] + [("cnn_lstm", ["model.head=forecast"])]


@pytest.mark.parametrize("name, extra", CASES, ids=[f"{n}{'-' + e[0] if e else ''}" for n, e in CASES])
def test_every_model_learns_clearly_better_than_chance(tmp_path, name, extra):
    metrics = train_in_process(tmp_path / "run", f"model={name}", "debug=quick", *extra)
    if metrics["task"] == "classify":
        n_classes = 5
        assert metrics["test"]["accuracy"] > 1 / n_classes + 0.2
    else:
        forecast = metrics["forecast"]
        assert forecast["model"]["mae"] < 0.9 * forecast["naive"]["mae"]
        assert forecast["worse_than_naive"] is False
        assert forecast["decoding"] == model_info(name).decoding
        evaluate_in_process(tmp_path / "run")
        evaluated = json.loads((tmp_path / "run" / "eval" / "metrics.json").read_text())
        assert evaluated["forecast"]["model"]["mae"] == pytest.approx(forecast["model"]["mae"], rel=1e-6)
        assert evaluated["forecast"]["model"]["rmse"] == pytest.approx(forecast["model"]["rmse"], rel=1e-6)


@pytest.mark.slow
def test_inspect_prints_states_weights_and_cudnn_eligibility():
    completed = run_cli("-m", "zoo.anatomy", "model=seq2seq", "model.units=8")
    text = completed.stdout
    assert "encoder_lstm_0" in text and "decoder_lstm_0" in text
    # returned states: sequence/last output plus h and c
    assert "[(None, 8), (None, 8), (None, 8)]" in text
    assert "kernel (3, 32) = (F, 4U)  recurrent_kernel (8, 32) = (U, 4U)  bias (32,)  cuDNN-eligible: yes" in text
    assert "decoder_projection" in text
