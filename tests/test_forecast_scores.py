"""M4 scores and baselines: hand-computed values, and the published M4 Hourly figures reproduced from the shared set."""

import numpy as np
import pytest
from conftest import ROOT

from zoo.data import forecast_dataset
from zoo.tasks.baselines import is_seasonal, m4_scores, mase, naive2_forecast, seasonal_naive_error, smape
from zoo.tasks.scores import forecast_report, seasonal_naive_forecast

pytestmark = pytest.mark.unit

M4 = ROOT.parent / "shared" / "datasets" / "m4"


def column(values):
    return np.asarray(values, dtype="float64")[:, None]


def test_smape_and_mase_by_hand():
    truth, forecast = column([1, 2])[None], column([2, 2])[None]
    assert smape(truth, forecast) == pytest.approx([100 * (2 * 1 / 3) / 2])  # 200|1-2|/(1+2), then 0; their mean
    assert smape(column([0, 0])[None], column([0, 0])[None]) == pytest.approx([0.0])  # 0/0 counts as no error
    # History 1, 3, 2, 4 with season 2: |2-1| and |4-3|, so the MASE scale is 1; the forecast's MAE is 0.5.
    assert seasonal_naive_error(column([1, 3, 2, 4]), 2) == 1.0
    assert mase(truth, forecast, np.array([1.0])) == pytest.approx([0.5])


def test_owa_averages_smape_and_mase_relative_to_naive2():
    truth = np.stack([column([10, 12]), column([100, 90])])
    forecast, naive2 = truth + 1, truth + 2
    scale = np.array([2.0, 4.0])
    scores = m4_scores(truth, forecast, scale, naive2)
    assert scores["mase"] == pytest.approx(np.mean([1 / 2, 1 / 4]))
    expected = (scores["smape"] / smape(truth, naive2).mean() + scores["mase"] / np.mean([2 / 2, 2 / 4])) / 2
    assert scores["owa"] == pytest.approx(expected)
    assert len(scores["per_step"]["smape"]) == 2


def test_naive2_is_the_last_value_without_seasonality_and_reseasonalised_with_it():
    rng = np.random.default_rng(0)
    flat = column(rng.normal(50, 1, 60))
    assert not is_seasonal(flat[:, 0], 12)
    np.testing.assert_allclose(naive2_forecast(flat, 5, 12)[:, 0], flat[-1, 0])
    seasonal = column(100 * (1 + 0.5 * np.sin(2 * np.pi * np.arange(96) / 12)))
    assert is_seasonal(seasonal[:, 0], 12)
    # A pure multiplicative season repeats itself: Naive2 continues it almost exactly.
    expected = 100 * (1 + 0.5 * np.sin(2 * np.pi * np.arange(96, 108) / 12))
    np.testing.assert_allclose(naive2_forecast(seasonal, 12, 12)[:, 0], expected, rtol=0.02)


@pytest.mark.integration
def test_the_seasonal_naive_and_naive2_reproduce_the_published_m4_hourly_scores():
    dataset = forecast_dataset(
        train_path=M4 / "Hourly-train.csv", test_path=M4 / "Hourly-test.csv", horizon=48, season_length=24, windows_per_series=1
    )
    split, scaler = dataset.test, dataset.scaler
    history, truth = scaler.inverse_transform(split.series, split), scaler.inverse_transform(split.future, split)
    seasons = np.full(len(split), 24)
    report = forecast_report(
        truth, seasonal_naive_forecast(history, split.lengths, 48, seasons), history, split.lengths,
        scale=1.0, seasons=seasons, season_error=split.season_error, naive2=split.naive2,
    )  # fmt: skip
    # The competition's "Evaluation and Ranks" table, hourly columns (../shared/datasets/m4/README.md).
    assert (round(report["model"]["smape"], 3), round(report["model"]["mase"], 3)) == (13.912, 1.193)
    assert (round(report["naive2"]["smape"], 3), round(report["naive2"]["mase"], 3)) == (18.383, 2.395)
    assert (round(report["naive"]["smape"], 3), round(report["naive"]["mase"], 3)) == (43.003, 11.608)  # Naive 1
    assert report["naive2"]["owa"] == pytest.approx(1.0)
