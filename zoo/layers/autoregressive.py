"""Seq2seq inference in one graph: the last valid input value, and the whole autoregressive loop as one layer."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="zoo")
class LastValidStep(keras.layers.Layer):
    """Picks each series' value at its last valid step: where decoding starts.

    Call arguments:
        inputs: `series` `(batch, timesteps, features)`, or `[series, mask]` with a bool mask
            `(batch, timesteps)` for right-padded series.

    Returns:
        `(batch, features)`.
    """

    def call(self, inputs):
        if isinstance(inputs, (list, tuple)):
            series, mask = inputs
            last = ops.sum(ops.cast(mask, "int32"), axis=1) - 1
        else:
            series = inputs
            last = ops.full((ops.shape(series)[0],), ops.shape(series)[1] - 1, dtype="int32")
        index = ops.reshape(ops.maximum(last, 0), (-1, 1, 1))
        return ops.squeeze(ops.take_along_axis(series, index, axis=1), axis=1)

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        series = input_shape[0] if isinstance(input_shape, (list, tuple)) and isinstance(input_shape[0], (list, tuple)) else input_shape
        return (series[0], series[-1])


@keras.saving.register_keras_serializable(package="zoo")
class AutoregressiveLoop(keras.layers.Layer):
    """Runs a one-step decoder `horizon` times in one compiled loop (`keras.ops.fori_loop`).

    Each step feeds the decoder its previous prediction and states, exactly as calling the
    one-step decoder from Python would, but the whole horizon is one graph: one call per batch.

    Args:
        decoder: a `keras.Model` mapping `[step (batch, 1, features), *states]` to
            `[prediction (batch, 1, features), *new_states]` (seq2seq's `inference_models`).
        horizon: int. Steps to predict.

    Call arguments:
        inputs: `[first_step, *states]`: the last observed value `(batch, features)` and the
            encoder's states.

    Returns:
        `(batch, horizon, features)`.
    """

    def __init__(self, decoder, horizon, **kwargs):
        super().__init__(**kwargs)
        self.decoder = decoder
        self.horizon = horizon

    def call(self, inputs):
        first_step, *states = inputs
        features = ops.shape(first_step)[-1]
        outputs = ops.zeros((ops.shape(first_step)[0], self.horizon, features), dtype=first_step.dtype)

        def one_step(t, carry):
            step, states, outputs = carry
            prediction, *states = self.decoder([step, *states])
            # Write step t without a dynamic slice: a one-hot over the horizon axis.
            position = ops.reshape(ops.one_hot(t, self.horizon, dtype=prediction.dtype), (1, self.horizon, 1))
            return prediction, list(states), outputs + position * ops.cast(prediction, outputs.dtype)

        _, _, outputs = ops.fori_loop(0, self.horizon, one_step, (ops.expand_dims(first_step, 1), list(states), outputs))
        return outputs

    def compute_output_shape(self, input_shape):
        first_step = input_shape[0]
        return (first_step[0], self.horizon, first_step[-1])

    def get_config(self):
        config = super().get_config()
        config.update({"decoder": keras.saving.serialize_keras_object(self.decoder), "horizon": self.horizon})
        return config

    @classmethod
    def from_config(cls, config):
        config["decoder"] = keras.saving.deserialize_keras_object(config["decoder"])
        return cls(**config)
