"""Your own data end to end (trained in-process; the CLI is covered by test_readme_commands): formats, masks, static covariates."""

import json

import keras
import pytest
from conftest import EXAMPLE_DATA, evaluate_in_process, run_cli, train_in_process

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("data", ["ts", "csv", "npz"])
def test_each_file_format_trains_and_evaluates(tmp_path, data):
    run = tmp_path / data
    metrics = train_in_process(run, f"data={data}", *EXAMPLE_DATA[data], "trainer.epochs=2")
    assert json.loads((run / "classes.json").read_text()) == ["damped", "sine"]
    evaluate_in_process(run)
    evaluated = json.loads((run / "eval" / "metrics.json").read_text())
    assert evaluated["test"]["accuracy"] == metrics["test"]["accuracy"]


def test_variable_length_synthetic_smoke_run_uses_the_mask(tmp_path):
    metrics = train_in_process(tmp_path / "run", "debug=smoke", "data.min_length=24", "model=attention")
    model = keras.saving.load_model(tmp_path / "run" / "checkpoints" / "best.keras")
    assert "mask" in [tensor.name for tensor in model.inputs] and 0 <= metrics["test"]["accuracy"] <= 1


@pytest.mark.parametrize("mode", ["concat"])  # initial_state: the README's static command (tests/test_readme_commands.py)
def test_static_covariates_train_end_to_end(tmp_path, mode):
    metrics = train_in_process(tmp_path / mode, "debug=smoke", "data.n_static=3", f"model.static_mode={mode}")
    model = keras.saving.load_model(tmp_path / mode / "checkpoints" / "best.keras")
    assert tuple(model.get_layer("static").output.shape) == (None, 3)
    static_layer = "static_concat" if mode == "concat" else "static_to_forward_h"
    assert static_layer in [layer.name for layer in model.layers]
    assert metrics["train"]["loss"] > 0


def test_forecasting_from_a_ts_file_holds_out_the_horizon(tmp_path):
    metrics = train_in_process(tmp_path / "run", "data=ts", *EXAMPLE_DATA["ts"], "data.horizon=4", "model=seq2seq", "trainer.epochs=2")
    assert metrics["forecast"]["decoding"] == "autoregressive"
    assert len(metrics["forecast"]["model"]["per_step"]["mae"]) == 4


@pytest.mark.slow
def test_a_bad_file_is_one_line_and_leaves_no_run(tmp_path):
    bad = tmp_path / "bad.ts"
    bad.write_text("@univariate true\n@classLabel true a b\n@data\n1,2,x:a\n")
    completed = run_cli("train.py", "data=ts", f"data.train_path={bad}", f"paths.log_dir={tmp_path / 'logs'}", check=False)
    assert completed.returncode == 1
    assert completed.stderr.strip().splitlines()[-1] == (
        f"Error: Invalid data config (data=ts): {bad}, line 4: dimension 1 holds a non-numeric value 'x'."
    )
    assert not list((tmp_path / "logs").rglob("*.log"))


@pytest.mark.slow
def test_missing_train_path_names_the_key(tmp_path):
    completed = run_cli("train.py", "data=ts", f"paths.log_dir={tmp_path}", check=False)
    assert "Missing required value data.train_path: set it on the command line" in completed.stderr
