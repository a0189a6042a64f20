"""Layers that carry a padding mask through non-recurrent parts of a model."""

import keras
import ml_dtypes
from keras import ops


@keras.saving.register_keras_serializable(package="zoo")
class MaskSteps(keras.layers.Layer):
    """Sets padded steps to zero, so whatever the padding held cannot reach a prediction.

    `ops.where` (not a multiplication) is used, so even NaN or inf in the padding vanish.

    Args:
        fill_value: float. What padded steps become. Defaults to 0. An infinite value becomes
            the dtype's extreme finite value: minus infinity before a max pooling makes it ignore them.

    Call arguments:
        inputs: `[values, mask]`: `(batch, timesteps, dim)` and bool `(batch, timesteps)`.

    Returns:
        `(batch, timesteps, dim)` with padded steps zero. The output carries no Keras mask;
        the mask is passed on explicitly where it is needed.

    Example:

    >>> values = keras.ops.ones((1, 3, 2))
    >>> mask = keras.ops.convert_to_tensor([[True, True, False]])
    >>> keras.ops.convert_to_numpy(MaskSteps()([values, mask]))[0, :, 0].tolist()
    [1.0, 1.0, 0.0]
    """

    def __init__(self, fill_value=0.0, **kwargs):
        super().__init__(**kwargs)
        self.fill_value = float(fill_value)

    def call(self, inputs):
        values, mask = inputs
        # Infinite fills become the dtype's extreme finite value: the same for a max pooling, and
        # exporters that build the fill from arithmetic (0 * inf) would otherwise get NaN.
        limits = ml_dtypes.finfo(keras.backend.standardize_dtype(values.dtype))
        fill_value = min(max(self.fill_value, float(limits.min)), float(limits.max))
        return ops.where(ops.expand_dims(mask, -1), values, ops.full_like(values, fill_value))

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        config = super().get_config()
        config.update({"fill_value": self.fill_value})
        return config


@keras.saving.register_keras_serializable(package="zoo")
class DownsampleMask(keras.layers.Layer):
    """Turns a step mask into a mask over windows of `window` steps: a window is valid if any step is.

    Used where a model shortens the time axis: cnn_lstm's sub-sequences and lstm_conv1d's pooling
    (whose "same" padding makes the last, partial window count).

    Args:
        window: int. Steps per window.

    Call arguments:
        step_mask: bool `(batch, timesteps)`.

    Returns:
        bool `(batch, ceil(timesteps / window))`.
    """

    def __init__(self, window, **kwargs):
        super().__init__(**kwargs)
        self.window = window

    def call(self, step_mask):
        # Max pooling with "same" padding: a window is valid if any step is, the last one may be partial.
        steps = ops.expand_dims(ops.cast(step_mask, "float32"), -1)
        pooled = ops.max_pool(steps, pool_size=self.window, strides=self.window, padding="same")
        return ops.squeeze(pooled, -1) > 0.5

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        steps = None if input_shape[1] is None else -(-input_shape[1] // self.window)
        return (input_shape[0], steps)

    def compute_output_spec(self, step_mask):
        return keras.KerasTensor(self.compute_output_shape(step_mask.shape), dtype="bool")

    def get_config(self):
        config = super().get_config()
        config.update({"window": self.window})
        return config


@keras.saving.register_keras_serializable(package="zoo")
class PadSteps(keras.layers.Layer):
    """Right-pads the time axis with `steps` zeros (False for a boolean mask).

    Used by cnn_lstm to reach a multiple of its sub-sequence count; the padded steps of a mask
    are False, so they count as padding wherever the mask is read.

    Args:
        steps: int. Steps appended to every series.

    Call arguments:
        inputs: `(batch, timesteps, ...)`, float or bool.

    Returns:
        `(batch, timesteps + steps, ...)` of the same dtype.
    """

    def __init__(self, steps, **kwargs):
        super().__init__(**kwargs)
        self.steps = steps

    def call(self, inputs):
        widths = [(0, 0), (0, self.steps)] + [(0, 0)] * (len(inputs.shape) - 2)
        if inputs.dtype == "bool":
            return ops.cast(ops.pad(ops.cast(inputs, "int32"), widths), "bool")
        return ops.pad(inputs, widths)

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        steps = None if input_shape[1] is None else input_shape[1] + self.steps
        return (input_shape[0], steps, *input_shape[2:])

    def compute_output_spec(self, inputs):
        return keras.KerasTensor(self.compute_output_shape(inputs.shape), dtype=inputs.dtype)

    def get_config(self):
        config = super().get_config()
        config.update({"steps": self.steps})
        return config
