"""Additive attention pooling over the per-step outputs of a recurrent layer."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="zoo")
class AttentionPooling(keras.layers.Layer):
    """Scores every time step with one shared transformation and pools the steps by softmax weight.

    Each step's vector `x_t` is transformed by the same weights, `s_t = v . tanh(W x_t + b)`
    (one vectorised op, equivalent to `TimeDistributed(Dense)`), the scores are softmax-normalised
    over time, and the output is `sum_t a_t x_t`. Masked (padded) steps get weight exactly 0.

    Args:
        units: int. Size of the hidden scoring space. Defaults to 32.

    Call arguments:
        inputs: `(batch, timesteps, dim)`.
        mask: optional bool `(batch, timesteps)`; False steps are ignored.

    Returns:
        `[context, weights]`: `(batch, dim)` and `(batch, timesteps)` with rows summing to 1.

    Example:

    >>> pooled, weights = AttentionPooling(8)(keras.ops.ones((2, 5, 4)))
    >>> tuple(pooled.shape), tuple(weights.shape)
    ((2, 4), (2, 5))
    """

    def __init__(self, units=32, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.supports_masking = True

    def build(self, input_shape):
        dim = input_shape[-1]
        self.projection = self.add_weight(shape=(dim, self.units), initializer="glorot_uniform", name="projection")
        self.projection_bias = self.add_weight(shape=(self.units,), initializer="zeros", name="projection_bias")
        self.score_vector = self.add_weight(shape=(self.units,), initializer="glorot_uniform", name="score_vector")

    def call(self, inputs, mask=None):
        hidden = ops.tanh(ops.matmul(inputs, self.projection) + self.projection_bias)
        scores = ops.cast(ops.matmul(hidden, self.score_vector), "float32")
        if mask is not None:
            scores = ops.where(mask, scores, ops.full_like(scores, -1e9))
        weights = ops.softmax(scores, axis=-1)
        if mask is not None:
            # Exactly zero on padding, even if a row were fully masked.
            weights = ops.where(mask, weights, ops.zeros_like(weights))
        context = ops.sum(ops.expand_dims(ops.cast(weights, inputs.dtype), -1) * inputs, axis=1)
        return [context, weights]

    def compute_mask(self, inputs, mask=None):
        # The time axis is pooled away, so nothing downstream needs the mask.
        return None

    def compute_output_shape(self, input_shape):
        return [(input_shape[0], input_shape[-1]), (input_shape[0], input_shape[1])]

    def get_config(self):
        config = super().get_config()
        config.update({"units": self.units})
        return config
