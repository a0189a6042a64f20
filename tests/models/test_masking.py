"""Variable-length series: every model gives a padded series the prediction it gives the series alone."""

import keras
import numpy as np
import pytest
from model_checks import check_model, default_task, small_options, toy_dataset

from zoo import list_models, model_info
from zoo.models.seq2seq import autoregressive_forecast

pytestmark = pytest.mark.unit

LENGTHS = [12, 9, 5, 4]

OPTIONS = {"cnn_lstm": {"n_sub": 3}}
VARIANTS = [(name, {}) for name in list_models()] + [
    ("last_state", {"bidirectional": True, "num_layers": 2}),
    ("attention", {"bidirectional": True, "cell": "gru"}),
    ("lstm_conv1d", {"pooling": "global_max", "bidirectional": True}),
    ("seq2seq", {"bidirectional": True, "num_layers": 2}),
    ("lstm_fcn", {"dimension_shuffle": False, "attention": True}),
]


task_of = default_task


@pytest.fixture(scope="session")  # made once per test process, however its tests are ordered
def dataset():
    data = toy_dataset(length=12, min_length=4, n_samples=40)
    assert data.spec.variable_length
    return data


@pytest.fixture(scope="session")  # made once per test process, however its tests are ordered
def trained_models(dataset):
    """One trained model per (name, options), built on first use and shared by this module's tests."""
    cache = {}

    def trained(name, **options):
        key = (name, tuple(sorted(options.items())))
        if key not in cache:
            cache[key] = check_model(name, task_of(name), dataset=dataset, **small_options(name, 5), **options)
        return cache[key]

    return trained


def padded_batch(fill, seed=0):
    rng = np.random.default_rng(seed)
    series = rng.normal(size=(len(LENGTHS), 12, 2)).astype("float32")
    mask = np.arange(12)[None, :] < np.array(LENGTHS)[:, None]
    series[~mask] = fill
    return series, mask


def predict(model, name, series, mask):
    inputs = {"series": series, "mask": mask}
    forecaster = model_info(name).forecaster
    if forecaster is not None:
        return forecaster(model, inputs, 3, batch_size=256)
    return keras.ops.convert_to_numpy(model(inputs, training=False))


def alone(model, name, series, length):
    """One series in a batch of its own, without padding.

    cnn_lstm's input length is fixed (see its docstring), so there the series is zero-padded to
    it; what must hold is that neither the other series nor the padding change its prediction,
    and that only its partial last sub-sequence sees zeros (checked below).
    """
    steps = 12 if model_info(name).fixed_length else length
    single = np.zeros((1, steps, 2), "float32")
    single[0, :length] = series[:length]
    return predict(model, name, single, np.arange(steps)[None, :] < length)


@pytest.mark.integration
@pytest.mark.parametrize("name, options", VARIANTS, ids=[f"{n}-{'-'.join(map(str, o.values())) or 'default'}" for n, o in VARIANTS])
def test_padded_batch_predicts_like_each_series_alone(trained_models, name, options):
    model = trained_models(name, **{**OPTIONS.get(name, {}), **options})
    series, mask = padded_batch(fill=0.0)
    batch = predict(model, name, series, mask)
    for index, length in enumerate(LENGTHS):
        np.testing.assert_allclose(batch[index : index + 1], alone(model, name, series[index], length), atol=1e-5)


@pytest.mark.parametrize("name", list_models())
@pytest.mark.parametrize("fill", [7.5, -1e4, np.nan])
def test_padding_values_never_change_a_prediction(trained_models, name, fill):
    model = trained_models(name, **OPTIONS.get(name, {}))
    zeros = predict(model, name, *padded_batch(fill=0.0))
    other = predict(model, name, *padded_batch(fill=fill))
    assert np.isfinite(other).all()
    np.testing.assert_allclose(other, zeros, atol=1e-6)


def test_seq2seq_starts_decoding_from_the_last_valid_step(dataset):
    model = check_model("seq2seq", "forecast", dataset=dataset, units=5)
    series, mask = padded_batch(fill=0.0)
    # Changing a series' last valid value changes its forecast; changing the step after it does not.
    changed = series.copy()
    changed[3, 3] += 1.0
    moved = autoregressive_forecast(model, {"series": changed, "mask": mask}, 3)
    base = autoregressive_forecast(model, {"series": series, "mask": mask}, 3)
    assert not np.allclose(moved[3], base[3]) and np.allclose(moved[:3], base[:3])


def test_cnn_lstm_masks_whole_subsequences_of_padding(dataset):
    model = check_model("cnn_lstm", "classify", dataset=dataset, units=5, n_sub=3)
    probe = keras.Model(model.inputs, model.get_layer("subsequence_mask").output)
    series, mask = padded_batch(fill=0.0)
    # Lengths 12, 9, 5, 4 over sub-sequences of 4 steps: valid if any step is.
    expected = [[True, True, True], [True, True, True], [True, True, False], [True, False, False]]
    assert probe.predict({"series": series, "mask": mask}, verbose=0).tolist() == expected
