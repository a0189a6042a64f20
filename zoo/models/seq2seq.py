"""Seq2seq with returned states: the encoder's `[h, c]` start a decoder trained by teacher forcing.

Training feeds the decoder the true previous values (`decoder_inputs`); inference rebuilds an
encoder model and a one-step decoder model from the trained layers, found by name, and feeds
each prediction and its states back in (`autoregressive_forecast`).
"""

import dataclasses
import weakref

import keras

import zoo.layers  # Keras layers: looked up when a model is built, so importing a model imports no Keras
from zoo.errors import ZooError
from zoo.models.inputs import input_names, series_inputs
from zoo.models.recurrent import RecurrentOptions, find_recurrent_stack, input_features, recurrent_stack, run_recurrent_stack
from zoo.registry import register_model
from zoo.tasks import get_task
from zoo.validation import one_of

ENCODER, DECODER, PROJECTION, SEASONAL = "encoder", "decoder", "decoder_projection", "seasonal_naive"
# Inference graphs of trained models, dropped with their model.
_DECODING_MODELS = weakref.WeakKeyDictionary()


def inference_models(model):
    """Rebuilds the encoder and a one-step decoder from a trained seq2seq model's layers, by name.

    Args:
        model: a trained (or reloaded) `seq2seq` model.

    Returns:
        `(encoder, decoder)`. `encoder` maps the model's series inputs to a flat list of states
        (`[h, c]` per layer). `decoder` maps `[step (batch, 1, n_features), *states]` to
        `[prediction (batch, 1, n_features), *new_states]`.
    """
    encoder_layers = find_recurrent_stack(model, ENCODER)
    decoder_layers = find_recurrent_stack(model, DECODER)
    projection = model.get_layer(PROJECTION)

    # The encoder is the training graph itself, cut at the states it hands to the decoder, so
    # masking and static covariates work exactly as in training.
    encoder_inputs = {tensor.name: tensor for tensor in model.inputs if tensor.name != "decoder_inputs"}
    encoder_states = []
    for layer in encoder_layers:
        if isinstance(layer, keras.layers.Bidirectional):
            kinds = "hc" if isinstance(layer.forward_layer, keras.layers.LSTM) else "h"
            encoder_states += [model.get_layer(f"{layer.name}_state_{kind}").output for kind in kinds]
        else:
            encoder_states += list(layer.output[1:])
    encoder = keras.Model(encoder_inputs, encoder_states, name="seq2seq_encoder")

    return encoder, step_decoder(decoder_layers, projection)


def step_decoder(decoder_layers, projection, dropout=0.0):
    """A one-step decoder from the decoder's layers: `[step (batch, 1, n_features), *states]` to `[prediction, *new_states]`."""
    step = keras.Input((1, projection.units), name="decoder_step")
    states_per_layer = 2 if isinstance(decoder_layers[0], keras.layers.LSTM) else 1
    state_inputs = [
        keras.Input((layer.cell.units,), name=f"decoder_state_{index}_{kind}")
        for index, layer in enumerate(decoder_layers)
        for kind in ("h", "c")[:states_per_layer]
    ]
    grouped = [state_inputs[i : i + states_per_layer] for i in range(0, len(state_inputs), states_per_layer)]
    decoded = run_recurrent_stack(decoder_layers, step, initial_states=grouped, dropout=dropout, name=DECODER)
    new_states = [state for states in decoded["layer_states"] for state in states]
    return keras.Model([step, *state_inputs], [projection(decoded["output"]), *new_states], name="seq2seq_decoder_step")


def decoding_model(model, horizon):
    """Builds seq2seq inference as one graph: encoder, last valid value, and the whole decoding loop.

    Equal to running the one-step decoder of `inference_models` from Python (tests/models/test_seq2seq.py
    holds that loop as the oracle), but one compiled call per batch instead of one per horizon step.

    Args:
        model: a trained (or reloaded) `seq2seq` model.
        horizon: int. Steps to forecast.

    Returns:
        A `keras.Model` from the series inputs (`series`, and `mask`/`static` where the model has
        them) to `(batch, horizon, n_features)`, named "seq2seq_autoregressive".
    """
    encoder, decoder = inference_models(model)
    inputs = dict(zip(input_names(encoder), encoder.inputs))
    series = [inputs["series"], inputs["mask"]] if "mask" in inputs else inputs["series"]
    first_step = zoo.layers.LastValidStep(name="last_valid_step")(series)
    states = encoder.outputs
    offsets = []
    if SEASONAL in [layer.name for layer in model.layers]:  # the decoder corrects the seasonal naive forecast
        offsets = [zoo.layers.SeasonalNaive(horizon, model.get_layer(SEASONAL).season_length, name=SEASONAL)(series)]
    loop = zoo.layers.AutoregressiveLoop(decoder, horizon, add_offsets=bool(offsets), name="autoregressive_loop")
    return keras.Model(inputs, loop([first_step, *offsets, *states]), name="seq2seq_autoregressive")


def autoregressive_forecast(model, inputs, horizon, batch_size=256):
    """Forecasts `horizon` steps, each decoder step fed the previous prediction and states (one compiled loop).

    Args:
        model: a trained `seq2seq` model.
        inputs: dict with `series` (and `mask` for padded data, `static` with covariates);
            `decoder_inputs` is ignored.
        horizon: int.
        batch_size: int. Series encoded and decoded at once.

    Returns:
        Array `(n, horizon, n_features)`.
    """
    if "decoder_inputs" not in input_names(model):  # trained free-running: the model is its own decoding loop
        return model.predict({name: inputs[name] for name in input_names(model)}, batch_size=batch_size, verbose=0)
    # Built and traced once per trained model and horizon, then reused: building costs more than decoding.
    cached = _DECODING_MODELS.setdefault(model, {})
    if horizon not in cached:
        cached[horizon] = decoding_model(model, horizon)
    decoding = cached[horizon]
    names = input_names(decoding)
    return decoding.predict({name: inputs[name] for name in names}, batch_size=batch_size, verbose=0)


def serving_graph(model):
    """The whole autoregressive inference graph of a trained seq2seq model, for serving (no Python loop)."""
    if "decoder_inputs" not in input_names(model):  # trained free-running: already that graph
        return model
    return decoding_model(model, horizon=model.outputs[0].shape[1])


def check_values(*, seasonal_skip, decoder_training):
    """Raises a ZooError for a decoder option out of range; needs no Keras (`ModelInfo.check`)."""
    one_of("seasonal_skip", seasonal_skip, ["auto", True, False])
    one_of("decoder_training", decoder_training, ["auto", "teacher_forcing", "free_running"])


@register_model(
    heads=("forecast",), recurrent=True, check=check_values, test_options={"units": 4}, forecaster=autoregressive_forecast, serving_model=serving_graph
)
def seq2seq(spec, *, head="forecast", seasonal_skip="auto", decoder_training="auto", **recurrent):
    """Builds the teacher-forced training model.

    The encoder (`return_state=True`) returns per layer `[h, c]` (`[h]` for GRU); decoder layer i
    starts from encoder layer i's states. A bidirectional encoder concatenates forward and backward
    states, so the (unidirectional) decoder has `2 * units` units.

    Args:
        spec: DataSpec. Gives `timesteps`, `n_features` and `horizon`.
        head: must be "forecast"; seq2seq predicts the next `horizon` steps.
        seasonal_skip: bool or "auto". Whether the decoder's outputs are added to the seasonal naive
            forecast (each step's value one season earlier), so the decoder learns only corrections.
            auto: on when the data states a season of 2 steps or more (`data=forecast`).
        decoder_training: "teacher_forcing" (the decoder reads the true previous values; inference
            then feeds it its own), "free_running" (training runs the autoregressive loop itself, so
            it learns from its own predictions, as at inference) or "auto": free-running on windows of
            histories (`data=forecast`), where horizons are long, teacher forcing otherwise.
        **recurrent: the shared `RecurrentOptions`. `units` is the encoder's per direction;
            `num_layers` counts encoder and decoder layers each; `dropout` acts between stacked
            layers; `bidirectional` makes the encoder bidirectional.

    Masking: the encoder skips padded steps, so the states it hands over are those after each
    series' last valid step, and decoding starts from that step's value.

    Returns:
        A `keras.Model` named "seq2seq" mapping `{"series": (batch, timesteps, n_features),
        "decoder_inputs": (batch, horizon, n_features)}` to `(batch, horizon, n_features)`; trained
        free-running it has no `decoder_inputs` and is its own autoregressive decoding graph.
    """
    one_of("head", head, ["forecast"])
    check_values(seasonal_skip=seasonal_skip, decoder_training=decoder_training)
    get_task(head).check_data(spec)
    options = RecurrentOptions(**recurrent)
    if decoder_training == "auto":
        decoder_training = "free_running" if spec.from_histories else "teacher_forcing"
    if seasonal_skip == "auto":
        seasonal_skip = spec.season_length >= 2
    elif seasonal_skip and spec.season_length < 2:
        raise ZooError("model.seasonal_skip=true needs data with a season of 2 steps or more: use data=forecast with data.season_length.")
    # === Layers ===
    encoder_layers = recurrent_stack(options, return_sequences=False, name=ENCODER)
    # The decoder is unidirectional and reads the encoder's states, both directions concatenated.
    decoder_options = dataclasses.replace(
        options, units=options.units * (2 if options.bidirectional else 1), bidirectional=False
    )
    decoder_layers = recurrent_stack(decoder_options, return_sequences=True, name=DECODER)
    projection = keras.layers.Dense(spec.n_features, dtype="float32", name=PROJECTION)

    # === Functional Model ===
    inputs = series_inputs(spec)
    x, mask, initial_state = input_features(inputs, options)
    initial_states = None if initial_state is None else [initial_state] + [None] * (options.num_layers - 1)
    encoded = run_recurrent_stack(
        encoder_layers, x, mask=mask, initial_states=initial_states, dropout=options.dropout, name=ENCODER
    )
    series = [inputs["series"], inputs["mask"]] if "mask" in inputs else inputs["series"]
    seasonal = zoo.layers.SeasonalNaive(spec.horizon, spec.season_length, name=SEASONAL)(series) if seasonal_skip else None
    if decoder_training == "free_running":
        decoder = step_decoder(decoder_layers, projection, dropout=options.dropout)
        first_step = zoo.layers.LastValidStep(name="last_valid_step")(series)
        states = [state for layer_states in encoded["layer_states"] for state in layer_states]
        offsets = [] if seasonal is None else [seasonal]
        loop = zoo.layers.AutoregressiveLoop(decoder, spec.horizon, add_offsets=bool(offsets), name="autoregressive_loop")
        return keras.Model(inputs, loop([first_step, *offsets, *states]), name="seq2seq")
    inputs["decoder_inputs"] = keras.Input((spec.horizon, spec.n_features), name="decoder_inputs")
    decoded = run_recurrent_stack(
        decoder_layers, inputs["decoder_inputs"], initial_states=encoded["layer_states"], dropout=options.dropout, name=DECODER
    )
    forecast = projection(decoded["output"])
    if seasonal is not None:
        forecast = keras.layers.Add(name="seasonal_correction")([seasonal, forecast])
    return keras.Model(inputs, forecast, name="seq2seq")
