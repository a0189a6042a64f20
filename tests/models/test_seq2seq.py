"""seq2seq: states handed from encoder to decoder, and inference models rebuilt from the trained layers."""

import dataclasses

import keras
import numpy as np
import pytest
from model_checks import check_model, toy_dataset

from zoo import ZooError, create_model
from zoo.data.pipeline import last_valid_step, model_inputs, teacher_inputs
from zoo.inference import predict
from zoo.layers import AutoregressiveLoop
from zoo.models.seq2seq import (
    autoregressive_forecast,
    inference_models,
)

pytestmark = pytest.mark.unit

VARIANTS = {
    "lstm": {},
    "gru": {"cell": "gru"},
    "bidirectional": {"bidirectional": True},
    "bidirectional_gru_2_layers": {"bidirectional": True, "cell": "gru", "num_layers": 2},
    "lstm_2_layers": {"num_layers": 2},
}


@pytest.fixture(scope="session")  # made once per test process, however its tests are ordered
def dataset():
    return toy_dataset()


@pytest.mark.integration
@pytest.mark.parametrize("options", VARIANTS.values(), ids=VARIANTS.keys())
def test_stepwise_decoding_with_teacher_inputs_equals_teacher_forced_output(dataset, options):
    model = check_model("seq2seq", "forecast", dataset=dataset, units=5, **options)
    split = dataset.test
    teacher_forced = model.predict(model_inputs(split, ["series", "decoder_inputs"]), verbose=0)
    encoder, decoder = inference_models(model)
    states = encode(encoder, {"series": split.series})
    stepped = decode_steps(decoder, states, last_valid_step(split), 3, teacher_inputs=teacher_inputs(split))
    np.testing.assert_allclose(stepped, teacher_forced, atol=1e-5)


@pytest.mark.parametrize("options", VARIANTS.values(), ids=VARIANTS.keys())
def test_encoder_hands_over_every_layers_states(dataset, options):
    model = create_model("seq2seq", dataset.spec, units=5, **options)
    encoder, decoder = inference_models(model)
    per_layer = 2 if options.get("cell", "lstm") == "lstm" else 1
    layers = options.get("num_layers", 1)
    width = 10 if options.get("bidirectional") else 5
    states = encode(encoder, {"series": dataset.test.series})
    assert len(states) == per_layer * layers
    assert all(tuple(s.shape) == (len(dataset.test), width) for s in states)
    assert len(decoder.outputs) == 1 + per_layer * layers


def encode(encoder, inputs):
    """The oracle's encoder step: runs the inference encoder; returns its states as a list of arrays (one per state, every layer)."""
    states = encoder.predict_on_batch(inputs)
    # A functional model with a single output returns it bare, not in a list.
    return list(states) if isinstance(states, (list, tuple)) else [states]


def decode_steps(decoder, states, first_step, horizon, teacher_inputs=None):
    """The oracle: runs the one-step decoder `horizon` times from Python.

    Args:
        decoder: the one-step decoder from `inference_models`.
        states: list of state arrays from the encoder.
        first_step: array `(batch, n_features)`: the last observed value.
        horizon: int. Steps to predict.
        teacher_inputs: optional `(batch, horizon, n_features)`; if given, step t is fed
            `teacher_inputs[:, t]` instead of the previous prediction (for checking).

    Returns:
        Array `(batch, horizon, n_features)`.
    """
    step = np.asarray(first_step, dtype="float32")[:, None, :]
    predictions = []
    for t in range(horizon):
        if teacher_inputs is not None:
            step = teacher_inputs[:, t : t + 1]
        # predict_on_batch runs a compiled function: far faster than eager calls in this loop.
        prediction, *states = decoder.predict_on_batch([step, *states])
        predictions.append(prediction)
        step = prediction
    return np.concatenate(predictions, axis=1)


def test_autoregressive_forecast_feeds_back_its_own_predictions(dataset):
    model = check_model("seq2seq", "forecast", dataset=dataset, units=5)
    split = dataset.test
    forecast = autoregressive_forecast(model, {"series": split.series}, horizon=3)
    # By hand: the training model fed its own earlier predictions as decoder inputs reproduces it.
    decoder_inputs = np.repeat(last_valid_step(split)[:, None, :], 3, axis=1)
    for step in range(1, 3):
        output = model.predict({"series": split.series, "decoder_inputs": decoder_inputs}, verbose=0)
        decoder_inputs[:, step] = output[:, step - 1]
    by_hand = model.predict({"series": split.series, "decoder_inputs": decoder_inputs}, verbose=0)
    np.testing.assert_allclose(forecast, by_hand, atol=1e-5)
    # It never sees the truth: changing the future leaves it unchanged.
    np.testing.assert_allclose(predict(model, split), forecast, atol=1e-6)


def test_inference_works_after_a_reload(dataset, tmp_path):
    model = check_model("seq2seq", "forecast", dataset=dataset, units=5, bidirectional=True)
    model.save(tmp_path / "s2s.keras")
    reloaded = keras.saving.load_model(tmp_path / "s2s.keras")
    inputs = {"series": dataset.test.series}
    np.testing.assert_allclose(
        autoregressive_forecast(reloaded, inputs, 3), autoregressive_forecast(model, inputs, 3), atol=1e-6
    )


def test_seq2seq_refuses_a_classify_head(dataset):
    with pytest.raises(ZooError, match=r"head, expected one of \['forecast'\], got 'classify'"):
        create_model("seq2seq", dataset.spec, head="classify")


@pytest.mark.integration
@pytest.mark.parametrize("options", VARIANTS.values(), ids=VARIANTS.keys())
@pytest.mark.parametrize("data", ["equal_length", "masked_with_static"])
def test_the_compiled_decoding_loop_equals_calling_the_one_step_decoder_from_python(options, data):
    dataset = toy_dataset() if data == "equal_length" else toy_dataset(min_length=4, n_static=2)
    model = check_model("seq2seq", "forecast", dataset=dataset, units=5, **options)
    split = dataset.test
    inputs = model_inputs(split, [name for name in (t.name for t in model.inputs) if name != "decoder_inputs"])
    encoder, decoder = inference_models(model)
    stepwise = decode_steps(decoder, encode(encoder, inputs), last_valid_step(split), 3)
    np.testing.assert_allclose(autoregressive_forecast(model, inputs, 3), stepwise, atol=1e-5)


def test_the_decoding_model_saves_and_reloads(dataset, tmp_path):
    from zoo.models.seq2seq import decoding_model

    model = check_model("seq2seq", "forecast", dataset=dataset, units=5)
    decoding = decoding_model(model, 3)
    inputs = {"series": dataset.test.series}
    decoding.save(tmp_path / "decoding.keras")
    reloaded = keras.saving.load_model(tmp_path / "decoding.keras", safe_mode=True)
    np.testing.assert_array_equal(reloaded.predict(inputs, verbose=0), decoding.predict(inputs, verbose=0))


def history_spec(dataset, season_length=2):
    """The toy data's spec as data=forecast describes windows of histories."""
    return dataclasses.replace(dataset.spec, from_histories=True, season_length=season_length)


def layers_by_name(model):
    """Every layer with weights, nested decoding loops included, by name."""
    found = {}
    for layer in model.layers:
        if isinstance(layer, AutoregressiveLoop):
            found.update(layers_by_name(layer.decoder))
        elif layer.weights:
            found[layer.name] = layer
    return found


@pytest.mark.parametrize("seasonal_skip", [False, True])
def test_free_running_training_is_the_teacher_forced_models_decoding_loop(dataset, seasonal_skip):
    spec = history_spec(dataset)
    free = create_model("seq2seq", spec, units=5, seasonal_skip=seasonal_skip)
    assert "decoder_inputs" not in [tensor.name for tensor in free.inputs]  # decoder_training=auto: free-running
    teacher = create_model("seq2seq", spec, units=5, seasonal_skip=seasonal_skip, decoder_training="teacher_forcing")
    for name, layer in layers_by_name(teacher).items():
        layer.set_weights(layers_by_name(free)[name].get_weights())
    inputs = {"series": dataset.test.series}
    np.testing.assert_allclose(free.predict(inputs, verbose=0), autoregressive_forecast(teacher, inputs, spec.horizon), atol=1e-5)
    np.testing.assert_allclose(predict(free, dataset.test), free.predict(inputs, verbose=0), atol=1e-6)


@pytest.mark.parametrize("decoder_training", ["teacher_forcing", "free_running"])
def test_the_seasonal_skip_makes_a_silent_decoder_forecast_the_seasonal_naive(dataset, decoder_training):
    model = create_model("seq2seq", history_spec(dataset, season_length=2), units=5, decoder_training=decoder_training)
    projection = layers_by_name(model)["decoder_projection"]
    projection.set_weights([np.zeros_like(weight) for weight in projection.get_weights()])
    series = dataset.test.series
    forecast = predict(model, dataset.test)
    steps = series.shape[1] - 2 + np.arange(forecast.shape[1]) % 2  # the last two steps, repeated
    np.testing.assert_allclose(forecast, series[:, steps], atol=1e-6)


def test_a_free_running_model_saves_reloads_and_serves_itself(dataset, tmp_path):
    from zoo.models.seq2seq import serving_graph

    model = create_model("seq2seq", history_spec(dataset), units=5)
    model.save(tmp_path / "free.keras")
    reloaded = keras.saving.load_model(tmp_path / "free.keras", safe_mode=True)
    inputs = {"series": dataset.test.series}
    np.testing.assert_array_equal(reloaded.predict(inputs, verbose=0), model.predict(inputs, verbose=0))
    assert serving_graph(reloaded) is reloaded


def test_a_seasonal_skip_without_a_season_is_refused(dataset):
    with pytest.raises(ZooError, match="model.seasonal_skip=true needs data with a season of 2 steps or more"):
        create_model("seq2seq", dataset.spec, seasonal_skip=True)


def test_forecasts_of_histories_train_on_mae_and_others_on_mse(dataset):
    from zoo.tasks import get_task

    assert get_task("forecast").compile_arguments(dataset.spec)["loss"] == "mse"
    assert get_task("forecast").compile_arguments(history_spec(dataset))["loss"] == "mae"
