"""The evaluation figures label their axes with units, name each series and feature, and carry legends."""

import numpy as np
import pytest

from zoo.tasks import figures

pytestmark = pytest.mark.unit


@pytest.fixture
def drawn(monkeypatch):
    """Makes each figure function return its matplotlib Figure instead of writing a PNG."""
    monkeypatch.setattr(figures, "_save", lambda figure, path: figure)


def labels(axis):
    return axis.get_title(), axis.get_xlabel(), axis.get_ylabel()


def test_forecast_figure_labels_time_steps_and_original_units(drawn):
    history, truth = np.ones((2, 10, 2)), np.zeros((2, 3, 2))
    figure = figures.forecast_figure(history, [10, 7], truth, truth + 1, truth - 1, path=None, feature=1)
    first, second = figure.axes
    assert labels(first) == ("test series 0, feature 1", "time step", "feature 1 (original units)")
    assert labels(second)[0] == "test series 1, feature 1"
    assert [text.get_text() for text in first.get_legend().get_texts()] == ["history", "truth", "forecast", "seasonal naive"]


def test_attention_figure_labels_both_panels_and_names_each_feature(drawn):
    series, weights = np.ones((2, 6, 2)), np.full((2, 6), 1 / 6)
    figure = figures.attention_figure(series, [6, 4], weights, path=None, count=2)
    series_axis, weight_axis = figure.axes[:2]
    assert labels(series_axis) == ("test series 0", "time step", "value (scaled, as the model reads it)")
    assert labels(weight_axis) == ("test series 0: attention weight per step (sums to 1)", "time step", "weight")
    assert [text.get_text() for text in series_axis.get_legend().get_texts()] == ["feature 0", "feature 1"]
    assert len(figure.axes) == 4


def test_confusion_matrix_names_predicted_and_true_classes(drawn):
    figure = figures.confusion_matrix_figure([[3, 1], [0, 4]], ["cat", "dog"], path=None)
    axis = figure.axes[0]
    assert labels(axis) == ("Confusion matrix (test)", "predicted", "true")
    assert [tick.get_text() for tick in axis.get_xticklabels()] == ["cat", "dog"]


def test_reliability_diagram_labels_confidence_accuracy_and_counts(drawn):
    bins = [{"lower": 0.5 * i, "upper": 0.5 * (i + 1), "count": c, "confidence": f, "accuracy": a}
            for i, (c, f, a) in enumerate([(0, None, None), (4, 0.8, 0.75)])]  # fmt: skip
    figure = figures.reliability_figure({"ece": 0.05, "bins": bins}, path=None)
    accuracy_axis, count_axis = figure.axes
    assert labels(accuracy_axis) == (
        "Reliability (test): expected calibration error 0.050", "", "accuracy of the bin's test series"
    )
    assert labels(count_axis) == ("", "confidence (the top class probability)", "test series")
    assert [text.get_text() for text in accuracy_axis.get_legend().get_texts()] == ["mean confidence", "calibrated", "accuracy"]
    assert [patch.get_height() for patch in count_axis.patches] == [4]  # empty bins are not drawn
