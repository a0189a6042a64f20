"""data=forecast end to end: one dated series and many histories train, evaluate and forecast past their end."""

import csv

import numpy as np
import pytest
from conftest import EXAMPLES, evaluate_in_process, run_task_in_process, train_in_process

from zoo import load_run
from zoo.data.forecast_format import read_histories
from zoo.inference import predict

pytestmark = pytest.mark.integration


def test_one_dated_series_beats_the_seasonal_naive_and_forecasts_past_its_end(tmp_path, capsys):
    run_dir = tmp_path / "monthly"
    # data=forecast, the horizon and the season (the README runs it without the shorter budget).
    metrics = train_in_process(
        run_dir, "data=forecast", f"data.train_path={EXAMPLES / 'tiny_monthly.csv'}", "data.horizon=12", "data.season_length=12", "trainer.steps=1000"
    )
    scores = metrics["forecast"]
    assert scores["mase_scale"] == "per series (M4)"
    assert scores["model"]["mase"] < scores["seasonal_naive"]["mase"]
    evaluated = evaluate_in_process(run_dir)
    assert evaluated["forecast"]["model"]["owa"] == pytest.approx(scores["model"]["owa"], rel=1e-5)

    output = tmp_path / "next_year.csv"
    assert run_task_in_process("predict", [f"run_dir={run_dir}", f"input={EXAMPLES / 'tiny_monthly.csv'}", f"output={output}"], capsys)[0] == 0
    rows = list(csv.reader(output.open()))
    assert rows[0] == ["id", "forecast_start", *(f"step_{h}" for h in range(1, 13))]
    assert rows[1][:2] == ["series", "2025-01-01"]  # the month after the history's last
    history = read_histories(EXAMPLES / "tiny_monthly.csv").raw.series[0]
    np.testing.assert_allclose(np.asarray(rows[1][2:], float), load_run(run_dir).predict([history])["forecast"][0, :, 0], rtol=1e-5)


def write_wide(path, count=4, length=90, seed=0):
    """Wide CSV: daily-cycle histories of different levels and lengths, one row each."""
    rng = np.random.default_rng(seed)
    histories = [
        level * (1 + 0.3 * np.sin(2 * np.pi * np.arange(length - 7 * k) / 6)) + rng.normal(0, 0.05 * level, length - 7 * k)
        for k, level in enumerate([5.0, 80.0, 1000.0, 20.0][:count])
    ]
    lines = ["id," + ",".join(f"v{t}" for t in range(length))]
    lines += [f"s{k}," + ",".join(f"{v:.3f}" for v in h) + "," * (length - len(h)) for k, h in enumerate(histories)]
    path.write_text("\n".join(lines) + "\n")
    return histories


@pytest.mark.parametrize("model", ["seq2seq", "lstm_conv1d"])
def test_many_histories_forecast_past_their_ends_in_original_units(tmp_path, capsys, model):
    write_wide(tmp_path / "wide.csv")
    histories = [values[:, 0] for values in read_histories(tmp_path / "wide.csv").raw.series]  # as the file rounds them
    run_dir = tmp_path / model
    train_in_process(
        run_dir, f"model={model}", "data=forecast", f"data.train_path={tmp_path / 'wide.csv'}", "data.horizon=4",
        "data.season_length=6", "trainer.epochs=2",
    )
    run = load_run(run_dir)
    # The test split's forecasts are what the run forecasts past each history cut before its last horizon.
    dataset = run.rebuild_dataset()
    expected = dataset.scaler.inverse_transform(predict(run.model, dataset.test), dataset.test)
    np.testing.assert_allclose(run.predict([h[:-4, None] for h in histories])["forecast"], expected, rtol=1e-4, atol=1e-4)
    assert run_task_in_process("predict", [f"run_dir={run_dir}", f"input={tmp_path / 'wide.csv'}"], capsys)[0] == 0
    rows = list(csv.DictReader((run_dir / "predictions" / "wide.csv.csv").open()))
    assert [row["id"] for row in rows] == ["s0", "s1", "s2", "s3"] and list(rows[0]) == ["id", "step_1", "step_2", "step_3", "step_4"]
    past_the_end = run.predict([h[:, None] for h in histories])["forecast"][:, :, 0]
    np.testing.assert_allclose([[float(row[f"step_{h}"]) for h in range(1, 5)] for row in rows], past_the_end, rtol=1e-5)
    # Each series is forecast on its own scale: levels 5 to 1000 stay apart.
    assert past_the_end[0].mean() < 20 < past_the_end[1].mean() < 200 < past_the_end[2].mean()
