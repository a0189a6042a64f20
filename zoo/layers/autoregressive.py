"""Seq2seq inference in one graph: the last valid input value, the seasonal naive forecast, and the whole autoregressive loop as one layer."""

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
class SeasonalNaive(keras.layers.Layer):
    """Repeats each series' last `season_length` valid steps over the horizon: the seasonal naive forecast.

    A forecaster that adds it to its own output learns only what the last season does not tell.

    Args:
        horizon: int. Steps to forecast.
        season_length: int. The period; a series with fewer valid steps repeats what it has.

    Call arguments:
        inputs: `series` `(batch, timesteps, features)`, or `[series, mask]` with a bool mask
            `(batch, timesteps)` for right-padded series.

    Returns:
        `(batch, horizon, features)`: step h is the value `season_length` steps before it.
    """

    def __init__(self, horizon, season_length, **kwargs):
        super().__init__(**kwargs)
        self.horizon = horizon
        self.season_length = season_length

    def call(self, inputs):
        if isinstance(inputs, (list, tuple)):
            series, mask = inputs
            lengths = ops.sum(ops.cast(mask, "int32"), axis=1)
        else:
            series = inputs
            lengths = ops.full((ops.shape(series)[0],), ops.shape(series)[1], dtype="int32")
        season = ops.maximum(ops.minimum(lengths, self.season_length), 1)[:, None]
        steps = ops.arange(self.horizon, dtype="int32")[None, :]
        positions = ops.maximum(lengths[:, None] - season + steps % season, 0)
        return ops.take_along_axis(series, ops.expand_dims(positions, -1), axis=1)

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        series = input_shape[0] if isinstance(input_shape, (list, tuple)) and isinstance(input_shape[0], (list, tuple)) else input_shape
        return (series[0], self.horizon, series[-1])

    def get_config(self):
        config = super().get_config()
        config.update({"horizon": self.horizon, "season_length": self.season_length})
        return config


@keras.saving.register_keras_serializable(package="zoo")
class AutoregressiveLoop(keras.layers.Layer):
    """Runs a one-step decoder `horizon` times in one compiled loop (`keras.ops.fori_loop`).

    Each step feeds the decoder its previous prediction and states, exactly as calling the
    one-step decoder from Python would, but the whole horizon is one graph: one call per batch.

    Args:
        decoder: a `keras.Model` mapping `[step (batch, 1, features), *states]` to
            `[prediction (batch, 1, features), *new_states]` (seq2seq's `inference_models`).
        horizon: int. Steps to predict.
        add_offsets: bool. Whether inputs carry offsets `(batch, horizon, features)` added to each
            step's prediction before it is fed back (a seasonal naive forecast the decoder corrects).

    Call arguments:
        inputs: `[first_step, *states]` (`[first_step, offsets, *states]` with `add_offsets`): the
            last observed value `(batch, features)` and the encoder's states.

    Returns:
        `(batch, horizon, features)`.
    """

    def __init__(self, decoder, horizon, add_offsets=False, **kwargs):
        super().__init__(**kwargs)
        self.decoder = decoder
        self.horizon = horizon
        self.add_offsets = add_offsets

    def call(self, inputs):
        first_step, *states = inputs
        offsets = states.pop(0) if self.add_offsets else None
        features = ops.shape(first_step)[-1]
        outputs = ops.zeros((ops.shape(first_step)[0], self.horizon, features), dtype=first_step.dtype)

        def one_step(t, carry):
            step, states, outputs = carry
            prediction, *states = self.decoder([step, *states])
            # Read and write step t without a dynamic slice: a one-hot over the horizon axis.
            position = ops.reshape(ops.one_hot(t, self.horizon, dtype=prediction.dtype), (1, self.horizon, 1))
            if offsets is not None:
                prediction = prediction + ops.sum(ops.cast(offsets, prediction.dtype) * position, axis=1, keepdims=True)
            return prediction, list(states), outputs + position * ops.cast(prediction, outputs.dtype)

        _, _, outputs = ops.fori_loop(0, self.horizon, one_step, (ops.expand_dims(first_step, 1), list(states), outputs))
        return outputs

    def compute_output_shape(self, input_shape):
        first_step = input_shape[0]
        return (first_step[0], self.horizon, first_step[-1])

    def get_config(self):
        config = super().get_config()
        config.update(
            {"decoder": keras.saving.serialize_keras_object(self.decoder), "horizon": self.horizon, "add_offsets": self.add_offsets}
        )
        return config

    @classmethod
    def from_config(cls, config):
        config["decoder"] = keras.saving.deserialize_keras_object(config["decoder"])
        return cls(**config)
