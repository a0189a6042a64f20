"""The GPU path, checked on a CPU: default recurrent layers meet Keras' cuDNN conditions."""

import importlib
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import compose_config
from tensorflow.python.framework import config as tf_config

from zoo import create_model, list_models
from zoo.data import DataSpec
from zoo.errors import ZooError
from zoo.tasks import get_task
from zoo.training.builders import build_model
from zoo.training.compile import compile_model, op_determinism_paused
from zoo.training.device import configure_device, cudnn_problems, describe_cudnn, nested_layers, recurrent_layers

pytestmark = pytest.mark.unit

SPEC = DataSpec(timesteps=12, n_features=2, n_classes=3, horizon=4)


def keras_cudnn_conditions():
    """Keras' own private condition functions; fails, naming what moved, if a newer Keras renamed them."""
    # `keras.src.backend.tensorflow.rnn` the module is shadowed by a function of that name.
    tf_rnn = importlib.import_module("keras.src.backend.tensorflow.rnn")
    names = ("_do_lstm_arguments_support_cudnn", "_do_gru_arguments_support_cudnn")
    if not all(hasattr(tf_rnn, name) for name in names):
        pytest.fail(
            f"Keras {keras.__version__} no longer has the private {names} this test compares with: "
            "point it at Keras' new cuDNN condition functions."
        )
    return [getattr(tf_rnn, name) for name in names]


def keras_says_cudnn_ok(layer):
    """Keras' argument conditions, ignoring whether a GPU is present (cudnn_ok also asks that)."""
    lstm_ok, gru_ok = keras_cudnn_conditions()
    cell = layer.cell
    if isinstance(layer, keras.layers.GRU):
        return gru_ok(cell.activation, cell.recurrent_activation, layer.unroll, cell.use_bias, cell.reset_after)
    return lstm_ok(cell.activation, cell.recurrent_activation, layer.unroll, cell.use_bias)


def default_recurrent_layers(name, extra):
    model = build_model(compose_config(overrides=[f"model={name}", *extra]).model, SPEC)
    layers = list(recurrent_layers(model))
    assert layers, f"{name} has no recurrent layer"
    return model, layers


EXTRAS = [[], ["model.cell=gru"], ["model.bidirectional=true", "model.num_layers=2"]]


@pytest.mark.parametrize("name", list_models(recurrent=True))
@pytest.mark.parametrize("extra", EXTRAS)
def test_default_recurrent_layers_are_cudnn_eligible(name, extra):
    model, layers = default_recurrent_layers(name, extra)
    for layer in layers:
        assert cudnn_problems(layer) == [], layer.name
        assert layer.cell.recurrent_dropout == 0 and layer.use_cudnn in ("auto", True)
    assert "meet the cuDNN conditions" in describe_cudnn(model, "CPU")


@pytest.mark.parametrize("name", list_models(recurrent=True))
@pytest.mark.parametrize("extra", EXTRAS)
def test_keras_own_conditions_agree_that_default_layers_are_cudnn_eligible(name, extra):
    _, layers = default_recurrent_layers(name, extra)
    for layer in layers:
        assert keras_says_cudnn_ok(layer), layer.name


def test_ineligible_layers_are_reported_with_the_reason():
    inputs = keras.Input((5, 2))
    blocked = keras.layers.LSTM(3, activation="relu", recurrent_dropout=0.1, unroll=True, name="slow_lstm")
    model = keras.Model(inputs, blocked(inputs))
    assert cudnn_problems(blocked) == ["activation is not tanh", "recurrent_dropout > 0", "unroll=True"]
    assert "slow_lstm" in describe_cudnn(model, "GPU")
    assert not keras_says_cudnn_ok(blocked)


def test_asking_for_a_gpu_on_a_cpu_machine_is_a_clear_error():
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU"):
        assert configure_device("gpu") == "GPU"
    else:
        with pytest.raises(ZooError, match="trainer.device=gpu but TensorFlow sees no GPU"):
            configure_device("gpu")


def test_precision_policy_is_applied_and_heads_stay_float32():
    try:
        configure_device("cpu", "mixed_bfloat16")
        assert keras.mixed_precision.global_policy().name == "mixed_bfloat16"
        model = build_model(compose_config().model, SPEC)
        assert model.get_layer("classifier").dtype_policy.compute_dtype == "float32"
        assert model.get_layer("encoder_lstm_0").dtype_policy.compute_dtype == "bfloat16"
    finally:
        keras.mixed_precision.set_global_policy("float32")


@pytest.mark.parametrize("name", list_models())
def test_every_model_trains_a_step_under_mixed_precision(name):
    from model_checks import check_model, default_task, small_options, toy_dataset

    dataset = toy_dataset(min_length=4, n_static=2)  # masks and static inputs too
    try:
        configure_device("cpu", "mixed_bfloat16")
        model = check_model(name, default_task(name), dataset=dataset, **small_options(name), **({"n_sub": 2} if name == "cnn_lstm" else {}))
        assert model.outputs[0].dtype == "float32"  # heads stay float32
    finally:
        keras.mixed_precision.set_global_policy("float32")


@pytest.mark.slow
def test_a_cpu_run_uses_one_inter_op_thread():
    # A fresh process: TensorFlow fixes its thread pools when it starts, and this one has started.
    code = (
        "import tensorflow as tf\n"
        "from zoo.training.device import configure_device\n"
        "print(configure_device('cpu'), tf.config.threading.get_inter_op_parallelism_threads(),"
        " tf.config.threading.get_intra_op_parallelism_threads())"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert completed.stdout.split() == ["CPU", "1", "0"]  # intra-op stays TensorFlow's default (every core)


@pytest.mark.slow
def test_importing_the_zoo_on_tensorflow_leaves_jax_unloaded_and_importable():
    # A fresh process: TensorFlow Lite would import JAX at start-up (0.4 s); the zoo skips that, and JAX still imports.
    code = "import sys, zoo\nprint('jax' in sys.modules)\nimport jax\nprint(jax.numpy.add(1, 2))"
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env={**os.environ, "KERAS_BACKEND": "tensorflow"}
    )
    assert completed.stdout.split() == ["False", "3"]


def xla_case(name, seed=0):
    """A small `name` on toy data with masks and static inputs, its inputs and targets, and its compile arguments."""
    from model_checks import default_task, small_options, toy_batch, toy_dataset

    keras.utils.set_random_seed(seed)
    dataset = toy_dataset(min_length=4, n_static=2)
    task = default_task(name)
    model = create_model(name, dataset.spec, head=task, **small_options(name), **({"n_sub": 2} if name == "cnn_lstm" else {}))
    inputs, targets = toy_batch(model, dataset, task)
    return model, inputs, targets, {"optimizer": "adam", **get_task(task).compile_arguments()}


@pytest.mark.integration
def test_keras_drops_xla_under_op_determinism_and_compile_model_keeps_it_with_repeatable_steps():
    tf.config.experimental.enable_op_determinism()  # what every seeded run does (trainer.deterministic=true)
    model, _, _, arguments = xla_case("last_state")
    with pytest.warns(UserWarning, match="doesn't support `jit_compile=True`"):
        model.compile(jit_compile=True, **arguments)
    assert model.jit_compile is False  # Keras' own rule: no XLA while op determinism is on
    weights = []
    for _ in range(2):
        model, inputs, targets, arguments = xla_case("last_state")
        compile_model(model, jit_compile=True, **arguments)
        assert model.jit_compile is True and tf_config.is_op_determinism_enabled()
        model.fit(inputs, targets, epochs=1, batch_size=8, verbose=0)
        weights.append(model.get_weights())
    for first, second in zip(*weights):
        np.testing.assert_array_equal(first, second)


@pytest.mark.integration
@pytest.mark.parametrize("name", list_models())
def test_xla_under_determinism_trains_every_model_or_refuses_its_max_pooling_in_one_line(name):
    tf.config.experimental.enable_op_determinism()
    model, inputs, targets, arguments = xla_case(name)
    if not any(isinstance(layer, keras.layers.MaxPooling1D) for layer in nested_layers(model)):
        compile_model(model, jit_compile=True, **arguments)
        history = model.fit(inputs, targets, epochs=1, batch_size=8, verbose=0)
        assert model.jit_compile is True and np.isfinite(history.history["loss"][0])
        return
    with pytest.raises(ZooError, match=r"no deterministic XLA gradient for the max pooling .*set trainer.deterministic=false or trainer.jit_compile=false\.$"):
        compile_model(model, jit_compile=True, **arguments)
    # The refusal is TensorFlow's: compiled anyway, the first step fails on the max pooling's gradient.
    with op_determinism_paused():
        model.compile(jit_compile=True, **arguments)
    with pytest.raises(tf.errors.UnimplementedError, match="MaxPool gradient ops do not yet have a deterministic XLA implementation"):
        model.fit(inputs, targets, epochs=1, batch_size=8, verbose=0)


def test_op_determinism_comes_back_on_after_a_failing_block():
    tf.config.experimental.enable_op_determinism()
    with pytest.raises(RuntimeError, match="compile failed"):
        with op_determinism_paused():
            assert not tf_config.is_op_determinism_enabled()
            raise RuntimeError("compile failed")
    assert tf_config.is_op_determinism_enabled()
