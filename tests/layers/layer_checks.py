"""`run_layer_test`: one call checks a custom layer the way keras-hub's TestCase does.

Symbolic and eager output shapes agree with `compute_output_shape`, a training step runs, the
config round-trips, a `.keras` save/reload (safe mode) predicts identically, the output mask is
what the docstring says, and every dtype policy computes in the dtype it promises.
"""

import keras
import numpy as np

POLICIES = ("float32", "mixed_float16", "mixed_bfloat16")


def _as_list(value):
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _shapes(values):
    return [tuple(value.shape) for value in _as_list(values)]


def _symbolic_inputs(input_data):
    """keras.Inputs with the batch axis open, matching each array's shape and dtype."""
    inputs = [keras.Input(array.shape[1:], dtype=str(array.dtype)) for array in _as_list(input_data)]
    return inputs if isinstance(input_data, (list, tuple)) else inputs[0]


def _call(layer, inputs, mask):
    return layer(inputs) if mask is None else layer(inputs, mask=mask)


def run_layer_test(
    layer_class,
    init_kwargs,
    input_data,
    *,
    expected_output_shape,
    tmp_path,
    mask=None,
    expected_num_trainable_weights=0,
    expected_output_mask=None,
    expected_output_dtypes=None,
):
    """Runs every check on `layer_class(**init_kwargs)` called on `input_data`.

    Args:
        layer_class: the custom layer class.
        init_kwargs: dict of constructor arguments.
        input_data: array or list of arrays (the layer's call inputs), batch first.
        expected_output_shape: tuple or list of tuples, batch included.
        tmp_path: a directory for the `.keras` file.
        mask: optional bool array passed as `mask=`.
        expected_num_trainable_weights: int.
        expected_output_mask: what `compute_mask` returns (None: the layer consumes the mask).
        expected_output_dtypes: function from a dtype policy name to the list of output dtypes;
            defaults to the policy's compute dtype for every output.
    """
    expected = [expected_output_shape] if isinstance(expected_output_shape[0], int) else list(expected_output_shape)

    # === Eager and symbolic shapes ===
    layer = layer_class(**init_kwargs)
    eager = _call(layer, input_data, mask)
    assert _shapes(eager) == [tuple(shape) for shape in expected]
    assert len(layer.trainable_weights) == expected_num_trainable_weights
    symbolic_inputs = _symbolic_inputs(input_data)
    symbolic_mask = None if mask is None else keras.Input(mask.shape[1:], dtype="bool")
    symbolic = _call(layer_class(**init_kwargs), symbolic_inputs, symbolic_mask)
    open_batch = [(None, *shape[1:]) for shape in expected]
    assert _shapes(symbolic) == open_batch
    input_shapes = _shapes(input_data) if isinstance(input_data, (list, tuple)) else _shapes(input_data)[0]
    assert [tuple(shape) for shape in _as_list_of_shapes(layer.compute_output_shape(input_shapes))] == expected

    # === Mask ===
    output_mask = layer.compute_mask(input_data, mask)
    if expected_output_mask is None:
        assert output_mask is None
    else:
        np.testing.assert_array_equal(np.asarray(output_mask), expected_output_mask)

    # === A model around it: training step, config round trip, save and reload ===
    model = _wrapped_model(layer_class, init_kwargs, input_data, mask)
    feed = _feed(input_data, mask)
    targets = np.zeros((len(_as_list(input_data)[0]), 1), "float32")
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(feed, targets, epochs=1, batch_size=len(targets), verbose=0)
    assert np.isfinite(history.history["loss"][0])

    config = layer.get_config()
    assert layer_class.from_config(config).get_config() == config

    path = tmp_path / f"{layer_class.__name__}.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_array_equal(reloaded.predict(feed, verbose=0), model.predict(feed, verbose=0))

    # === Dtype policies ===
    for policy in POLICIES:
        compute_dtype = keras.mixed_precision.DTypePolicy(policy).compute_dtype
        wanted = expected_output_dtypes(policy) if expected_output_dtypes else [compute_dtype] * len(expected)
        outputs = _call(layer_class(**init_kwargs, dtype=policy), input_data, mask)
        assert [keras.backend.standardize_dtype(value.dtype) for value in _as_list(outputs)] == wanted, policy


def _as_list_of_shapes(shape):
    # compute_output_shape returns one tuple, or a list of tuples for several outputs.
    return shape if shape and isinstance(shape[0], (list, tuple)) else [shape]


def _feed(input_data, mask):
    arrays = _as_list(input_data) + ([] if mask is None else [mask])
    return arrays if len(arrays) > 1 else arrays[0]


@keras.saving.register_keras_serializable(package="zoo_tests")
class CastToFloat(keras.layers.Layer):
    """Casts a bool output to float32, so a layer whose only output is a mask can feed a Dense."""

    def call(self, inputs):
        return keras.ops.cast(inputs, "float32")


def _wrapped_model(layer_class, init_kwargs, input_data, mask):
    """inputs -> the layer -> (its first float output, flattened) -> Dense(1): something to train and save."""
    inputs = _as_list(_symbolic_inputs(input_data))
    mask_input = None if mask is None else keras.Input(mask.shape[1:], dtype="bool")
    layer_inputs = inputs if isinstance(input_data, (list, tuple)) else inputs[0]
    outputs = _as_list(_call(layer_class(**init_kwargs), layer_inputs, mask_input))
    first_float = next((output for output in outputs if "float" in str(output.dtype)), None)
    if first_float is None:
        first_float = CastToFloat()(outputs[0])
    flat = keras.layers.Flatten()(first_float)
    prediction = keras.layers.Dense(1)(flat)
    return keras.Model(inputs + ([] if mask_input is None else [mask_input]), prediction)
