"""Registry-wide: every model builds, trains a step without NaNs, saves and reloads in a fresh process."""

import importlib
import inspect
import pkgutil
import subprocess
import sys

import keras
import numpy as np
import pytest
from conftest import ROOT
from model_checks import (
    check_model,
    default_task,
    small_options,
    toy_batch,
    toy_dataset,
)

from zoo import ZooError, create_model, list_models, model_info
from zoo.layers import (
    AttentionPooling,
    AutoregressiveLoop,
    ConcatenateStatic,
    DownsampleMask,
    LastValidStep,
    MaskSteps,
    PadSteps,
)

pytestmark = pytest.mark.unit


def test_list_models_and_patterns():
    assert list_models() == ["attention", "cnn_lstm", "fcn", "inception_time", "last_state", "lstm_conv1d", "lstm_fcn", "seq2seq"]
    assert list_models("*lstm*") == ["cnn_lstm", "lstm_conv1d", "lstm_fcn"]
    assert list_models(head="forecast", fixed_length=True) == ["cnn_lstm", "lstm_fcn"]


def test_unknown_model_lists_the_available_ones():
    with pytest.raises(ZooError, match=r"Unknown model 'transformer'; choose one of \['attention', "):
        create_model("transformer", toy_dataset().spec)


@pytest.mark.integration
@pytest.mark.parametrize("name", list_models())
def test_default_model_builds_trains_and_is_named_after_its_key(name):
    model = check_model(name, default_task(name), graph=True)
    assert model.name == name


@pytest.mark.parametrize("name", sorted(set(list_models(head="forecast")) & set(list_models(head="classify"))))
def test_vector_models_take_a_forecast_head(name):
    model = check_model(name, "forecast")
    assert model.output.shape[1:] == (3, 2)


@pytest.mark.parametrize("name", list_models(recurrent=True))
@pytest.mark.parametrize(
    "options", [{"cell": "gru"}, {"bidirectional": True, "num_layers": 2, "dropout": 0.1}], ids=["gru", "bi2"]
)
def test_shared_options_work_in_every_model(name, options):
    check_model(name, default_task(name), **small_options(name), **options)


@pytest.mark.parametrize("name", list_models(recurrent=True))
@pytest.mark.parametrize("option, value, message", [("units", -3, "units, expected a positive integer, got -3"),
                                                     ("cell", "rnn", "cell, expected one of \\['lstm', 'gru'\\]")])
def test_bad_shared_options_are_named(name, option, value, message):
    with pytest.raises(ZooError, match=message):
        create_model(name, toy_dataset().spec, **{option: value})


@pytest.mark.slow
def test_every_model_reloads_in_a_fresh_process_with_identical_predictions(tmp_path):
    dataset = toy_dataset()
    expected = {}
    for name in list_models():
        model = check_model(name, default_task(name), dataset=dataset, **small_options(name))
        inputs, _ = toy_batch(model, dataset, default_task(name))
        model.save(tmp_path / f"{name}.keras")
        np.savez(tmp_path / f"{name}_inputs.npz", **inputs)
        expected[name] = model.predict(inputs, verbose=0)
    script = (
        "import sys, numpy as np, keras, zoo\n"
        "folder, names = sys.argv[1], sys.argv[2:]\n"
        "for name in names:\n"
        "    model = keras.saving.load_model(f'{folder}/{name}.keras')\n"  # safe_mode stays on
        "    inputs = dict(np.load(f'{folder}/{name}_inputs.npz'))\n"
        "    np.save(f'{folder}/{name}_fresh.npy', model.predict(inputs, verbose=0))\n"
    )
    subprocess.run([sys.executable, "-c", script, str(tmp_path), *expected], check=True, cwd=ROOT, capture_output=True)
    for name, predictions in expected.items():
        np.testing.assert_array_equal(np.load(tmp_path / f"{name}_fresh.npy"), predictions, err_msg=name)


def tiny_decoder_step():
    """A one-step decoder `[step (batch, 1, 2), h (batch, 3)] -> [prediction, new h]` for AutoregressiveLoop."""
    step, state = keras.Input((1, 2)), keras.Input((3,))
    output, new_state = keras.layers.GRU(3, return_sequences=True, return_state=True)(step, initial_state=[state])
    return keras.Model([step, state], [keras.layers.Dense(2)(output), new_state])


@pytest.mark.parametrize(
    "layer",
    [
        AttentionPooling(7, name="pool"),
        DownsampleMask(3, name="windows"),
        MaskSteps(name="zero"),
        ConcatenateStatic(name="join"),
        LastValidStep(name="last"),
        AutoregressiveLoop(tiny_decoder_step(), 4, name="loop"),
        PadSteps(3, name="pad"),
    ],
    ids=lambda layer: type(layer).__name__,
)
def test_custom_layers_are_registered_and_round_trip_their_config(layer):
    layer_class = type(layer)
    registered = keras.saving.get_registered_name(layer_class)
    assert registered == f"zoo>{layer_class.__name__}"
    assert keras.saving.get_registered_object(registered) is layer_class
    clone = layer_class.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    serialized = keras.saving.serialize_keras_object(layer)
    assert type(keras.saving.deserialize_keras_object(serialized)) is layer_class


def test_every_custom_layer_is_covered_above_listed_by_its_module_and_registered():
    import zoo.layers

    defined = {}  # every Keras layer class the modules of zoo/layers define, by the module that defines it
    for module_info in pkgutil.iter_modules(zoo.layers.__path__):
        module = importlib.import_module(f"zoo.layers.{module_info.name}")
        defined.update({name: module_info.name for name, value in vars(module).items()
                        if isinstance(value, type) and issubclass(value, keras.layers.Layer) and value.__module__ == module.__name__})
    assert defined == zoo.layers.LAYER_MODULES and set(defined) == set(zoo.layers.__all__) == {
        "AttentionPooling", "AutoregressiveLoop", "DownsampleMask", "MaskSteps", "ConcatenateStatic", "LastValidStep",
        "PadSteps", "SeasonalNaive",
    }
    for name in defined:
        assert keras.saving.get_registered_object(f"zoo>{name}") is getattr(zoo.layers, name)


def test_no_model_uses_lambda_layers():
    spec = toy_dataset().spec
    for name in list_models():
        model = create_model(name, spec)
        assert not [layer for layer in model.layers if isinstance(layer, keras.layers.Lambda)], name


@pytest.mark.parametrize("name", list_models())
def test_a_model_declares_recurrent_exactly_when_it_takes_the_shared_recurrent_options(name):
    parameters = inspect.signature(model_info(name).builder).parameters.values()
    assert model_info(name).recurrent == any(p.kind is p.VAR_KEYWORD for p in parameters)
    assert set(model_info(name).test_options) <= model_info(name).options()
    assert set(model_info(name).learning_test_options) <= model_info(name).options()
