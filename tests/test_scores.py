"""Evaluation metrics against hand-computed values and baselines with known answers."""

import numpy as np
import pytest

from zoo.tasks.markdown import classification_markdown, forecast_markdown
from zoo.tasks.scores import (
    calibration_report,
    classification_report,
    estimate_seasons,
    forecast_report,
    mase_scale,
    naive_forecast,
    seasonal_naive_forecast,
)

pytestmark = pytest.mark.unit


def test_classification_report_matches_hand_counts():
    labels = np.array([0, 0, 0, 1, 1, 2])
    predicted = np.array([0, 0, 1, 1, 2, 2])
    report = classification_report(labels, predicted, ["a", "b", "c"])
    assert report["confusion_matrix"] == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]
    assert report["accuracy"] == pytest.approx(4 / 6)
    assert report["per_class"]["a"] == {"precision": 1.0, "recall": pytest.approx(2 / 3), "f1": pytest.approx(0.8), "support": 3}
    assert report["per_class"]["b"]["precision"] == pytest.approx(0.5)
    assert report["per_class"]["c"]["recall"] == 1.0
    f1 = [0.8, 0.5, 2 * 0.5 * 1 / 1.5]
    assert report["macro_f1"] == pytest.approx(np.mean(f1))
    assert "| a | 1.000 | 0.667 | 0.800 | 3 |" in classification_markdown(report)


def test_expected_calibration_error_matches_a_hand_computation():
    labels = np.array([0, 1, 1, 0])
    probabilities = np.array([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8], [0.55, 0.45]])
    calibration = calibration_report(labels, probabilities, n_bins=10)
    # Confidences 0.9 (right), 0.6 (wrong), 0.8 (right), 0.55 (right); bins are (lower, upper]:
    # (0.5, 0.6]: 2 series, accuracy 0.5, confidence 0.575; (0.7, 0.8]: 1.0 vs 0.8; (0.8, 0.9]: 1.0 vs 0.9.
    assert calibration["ece"] == pytest.approx(2 / 4 * 0.075 + 1 / 4 * 0.2 + 1 / 4 * 0.1)
    filled = {round(b["upper"], 1): (b["count"], b["accuracy"], b["confidence"]) for b in calibration["bins"] if b["count"]}
    assert filled == {0.6: (2, 0.5, pytest.approx(0.575)), 0.8: (1, 1.0, 0.8), 0.9: (1, 1.0, 0.9)}
    assert len(calibration["bins"]) == 10 and calibration["bins"][0]["accuracy"] is None
    one_hot_right = calibration_report(np.array([0, 1]), np.eye(2))
    assert one_hot_right["ece"] == 0.0 and one_hot_right["bins"][-1]["count"] == 2
    report = {**classification_report(labels, probabilities.argmax(axis=1), ["a", "b"]), "calibration": calibration}
    assert "**Expected calibration error** 0.1125" in classification_markdown(report)
    assert "| (0.50, 0.60] | 2 | 0.575 | 0.500 |" in classification_markdown(report)


def test_a_class_never_predicted_scores_zero_not_nan():
    report = classification_report(np.array([0, 1]), np.array([0, 0]), ["a", "b"])
    assert report["per_class"]["b"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}


def periodic_series(n=3, length=40, period=8, horizon=5):
    steps = np.arange(length + horizon)
    values = np.sin(2 * np.pi * steps / period)[None, :, None] * np.arange(1, n + 1)[:, None, None]
    return values[:, :length], values[:, length:]


def test_seasonal_naive_is_exact_on_a_periodic_series_and_its_period_is_found():
    history, future = periodic_series()
    lengths = np.full(3, 40)
    seasons = estimate_seasons(history, lengths)
    assert seasons.tolist() == [8, 8, 8]
    np.testing.assert_allclose(seasonal_naive_forecast(history, lengths, 5, seasons), future, atol=1e-12)
    assert (naive_forecast(history, lengths, 5) == history[:, -1:]).all()


def test_baselines_respect_each_series_length():
    history = np.zeros((2, 6, 1))
    history[0, :6, 0] = [1, 2, 3, 1, 2, 3]
    history[1, :4, 0] = [5, 6, 5, 6]  # padded after step 4
    lengths = np.array([6, 4])
    assert naive_forecast(history, lengths, 2)[:, :, 0].tolist() == [[3, 3], [6, 6]]
    seasonal = seasonal_naive_forecast(history, lengths, 4, np.array([3, 2]))[:, :, 0]
    assert seasonal.tolist() == [[1, 2, 3, 1], [5, 6, 5, 6]]


def test_forecast_scores_and_the_worse_than_naive_flag():
    history, future = periodic_series(n=2)
    lengths = np.full(2, 40)
    scale = mase_scale(history, lengths)
    assert scale == pytest.approx(np.abs(np.diff(history, axis=1)).mean())
    perfect = forecast_report(future, future, history, lengths, scale=scale, seasons=np.array([8, 8]))
    assert perfect["model"]["mae"] == 0 and perfect["model"]["smape"] == 0 and perfect["model"]["mase"] == 0
    assert perfect["worse_than_naive"] is False
    assert perfect["model"]["per_step"]["mae"] == [0.0] * 5
    shifted = future + 10.0
    bad = forecast_report(future, shifted, history, lengths, scale=scale, seasons=np.array([8, 8]))
    assert bad["model"]["mae"] == pytest.approx(10.0) and bad["model"]["rmse"] == pytest.approx(10.0)
    assert bad["model"]["mase"] == pytest.approx(10.0 / scale)
    assert bad["worse_than_naive"] is True
    assert "worse than the naive" in forecast_markdown(bad)
    assert len(bad["model"]["per_step"]["rmse"]) == 5


def test_smape_of_a_known_pair():
    truth = np.full((1, 1, 1), 2.0)
    predicted = np.full((1, 1, 1), 1.0)
    history = np.ones((1, 3, 1))
    report = forecast_report(truth, predicted, history, np.array([3]), scale=1.0, seasons=np.array([2]))
    assert report["model"]["smape"] == pytest.approx(100 * 2 * 1 / 3)
