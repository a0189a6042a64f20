"""Static covariates: features of a whole series (sensor id, metadata) that do not change over time."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="zoo")
class ConcatenateStatic(keras.layers.Layer):
    """Repeats a static vector along time and concatenates it to every step (`static_mode=concat`).

    Works for any number of steps (the repeat follows the series' length), so it needs no mask.

    Call arguments:
        inputs: `[series, static]`: `(batch, timesteps, features)` and `(batch, n_static)`.

    Returns:
        `(batch, timesteps, features + n_static)`.
    """

    def call(self, inputs):
        series, static = inputs
        repeated = ops.zeros_like(series[..., :1]) + ops.expand_dims(ops.cast(static, series.dtype), 1)
        return ops.concatenate([series, repeated], axis=-1)

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        series, static = input_shape
        features = None if series[-1] is None or static[-1] is None else series[-1] + static[-1]
        return (*series[:-1], features)
