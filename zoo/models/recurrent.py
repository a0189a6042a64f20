"""The recurrent encoder the recurrent architectures share: options, static covariates, stacked LSTM or GRU layers."""

import dataclasses
import re

import keras

import zoo.layers  # Keras layers: looked up when a model is built, so importing a model imports no Keras
from zoo.errors import ZooError
from zoo.validation import boolean, fraction, one_of, positive_int

CELLS = ("lstm", "gru")
STATIC_MODES = ("concat", "initial_state")


@dataclasses.dataclass(frozen=True)
class RecurrentOptions:
    """The options every recurrent model shares, with one name each across the zoo (`configs/recurrent_options.yaml`).

    Builders take them as `**recurrent` and read them from here, so they are defined, checked and
    documented once.

    Args:
        cell: "lstm" or "gru". Defaults to "lstm".
        units: int. Units per direction. Defaults to 64.
        num_layers: int. Stacked recurrent layers. Defaults to 1.
        dropout: float. Dropout between stacked layers and before the head. Defaults to 0.
        bidirectional: bool. Wrap each layer in `Bidirectional`. Defaults to False.
        static_mode: "concat" (repeat static covariates along time, concatenate to every step) or
            "initial_state" (Dense layers map them to the first layer's initial state). Defaults to "concat".
    """

    cell: str = "lstm"
    units: int = 64
    num_layers: int = 1
    dropout: float = 0.0
    bidirectional: bool = False
    static_mode: str = "concat"

    def __post_init__(self):
        one_of("cell", self.cell, CELLS)
        positive_int("units", self.units)
        positive_int("num_layers", self.num_layers)
        fraction("dropout", self.dropout)
        boolean("bidirectional", self.bidirectional)
        one_of("static_mode", self.static_mode, STATIC_MODES)


def static_initial_state(static, *, cell, units, bidirectional):
    """Maps static covariates to the first recurrent layer's initial state (`static_mode=initial_state`).

    Returns:
        A list `[h, c]` (LSTM) or `[h]` (GRU), twice over for a bidirectional layer
        (forward then backward), each `(batch, units)`.
    """
    directions = ("forward", "backward") if bidirectional else ("forward",)
    kinds = ("h", "c") if cell == "lstm" else ("h",)
    return [
        # h lives in (-1, 1) like an LSTM output; c is unbounded.
        keras.layers.Dense(units, activation="tanh" if kind == "h" else None, name=f"static_to_{direction}_{kind}")(static)
        for direction in directions
        for kind in kinds
    ]


def input_features(inputs, options):
    """Prepares the series for the first recurrent layer: zeroes padding and brings in static covariates.

    Args:
        inputs: dict from `series_inputs`.
        options: RecurrentOptions. `static_mode` says how static covariates enter; `cell`, `units`
            and `bidirectional` shape the first layer's initial state for `initial_state`.

    Returns:
        `(x, mask, initial_state)`: the `(batch, timesteps, features)` tensor, the mask or None,
        and the first layer's initial state or None.
    """
    x, mask = inputs["series"], inputs.get("mask")
    if mask is not None:
        x = zoo.layers.MaskSteps(name="zero_padding")([x, mask])
    initial_state = None
    if "static" in inputs:
        if options.static_mode == "concat":
            x = zoo.layers.ConcatenateStatic(name="static_concat")([x, inputs["static"]])
        else:
            initial_state = static_initial_state(
                inputs["static"], cell=options.cell, units=options.units, bidirectional=options.bidirectional
            )
    return x, mask, initial_state


def recurrent_stack(options, *, return_sequences, name):
    """Creates stacked recurrent layers, named `{name}_{cell}_{i}` or `{name}_bidirectional_{i}`.

    Every layer returns its states (so seq2seq can hand them on) and all but the last return
    sequences. The layers keep Keras' cuDNN-eligible defaults: tanh, sigmoid, no recurrent dropout.

    Args:
        options: RecurrentOptions (`cell`, `units`, `num_layers`, `bidirectional` are used).
        return_sequences: bool. Whether the last layer returns the whole sequence.
        name: str. Prefix of the layer names.

    Returns:
        A list of `num_layers` layers.
    """
    layer_class = keras.layers.LSTM if options.cell == "lstm" else keras.layers.GRU
    layers = []
    for index in range(options.num_layers):
        layer = layer_class(
            options.units,
            return_sequences=return_sequences or index < options.num_layers - 1,
            return_state=True,
            name=f"{name}_{options.cell}_{index}",
        )
        if options.bidirectional:
            layer = keras.layers.Bidirectional(layer, name=f"{name}_bidirectional_{index}")
        layers.append(layer)
    return layers


def find_recurrent_stack(model, name):
    """Returns the layers `recurrent_stack(name=name)` made, looked up by name in a (reloaded) model."""
    pattern = re.compile(rf"{re.escape(name)}_(lstm|gru|bidirectional)_(\d+)$")
    found = sorted(
        (int(match.group(2)), layer) for layer in model.layers if (match := pattern.match(layer.name))
    )
    if not found:
        raise ZooError(f"Model {model.name!r} has no recurrent layers named {name}_*: it was not built by the zoo.")
    return [layer for _, layer in found]


def _merge_directions(layer, states):
    """Turns a layer's returned states into `[h]` or `[h, c]`, concatenating the two directions."""
    if not isinstance(layer, keras.layers.Bidirectional):
        return list(states)
    half = len(states) // 2
    return [
        keras.layers.Concatenate(name=f"{layer.name}_state_{kind}")([forward, backward])
        for kind, forward, backward in zip("hc", states[:half], states[half:])
    ]


def run_recurrent_stack(layers, x, *, mask=None, initial_states=None, dropout=0.0, name="encoder"):
    """Applies stacked recurrent layers to `x`.

    Args:
        layers: list from `recurrent_stack` or `find_recurrent_stack`.
        x: tensor `(batch, timesteps, features)`.
        mask: optional bool tensor `(batch, timesteps)`; padded steps are skipped and the
            returned states are those after each series' last valid step.
        initial_states: optional list, per layer, of `[h]` or `[h, c]`.
        dropout: float. Dropout between stacked layers (not after the last).
        name: str. Prefix of the dropout layers' names.

    Returns:
        Dict with `output` (the last layer's output: `(batch, timesteps, dim)` or `(batch, dim)`),
        `state_h`, `state_c` (None for GRU), and `layer_states`: per layer `[h]` or `[h, c]`,
        directions concatenated so `dim = units * directions`.
    """
    layer_states = []
    for index, layer in enumerate(layers):
        initial_state = None if initial_states is None else initial_states[index]
        x, *states = layer(x, mask=mask, initial_state=initial_state)
        layer_states.append(_merge_directions(layer, states))
        if dropout and index < len(layers) - 1:
            x = keras.layers.Dropout(dropout, name=f"{name}_dropout_{index}")(x)
    final_states = layer_states[-1]
    return {
        "output": x,
        "state_h": final_states[0],
        "state_c": final_states[1] if len(final_states) == 2 else None,
        "layer_states": layer_states,
    }


def recurrent_encoder(x, options, *, return_sequences=True, mask=None, initial_state=None, name="encoder"):
    """Creates a recurrent stack and applies it to `x` (see `recurrent_stack`, `run_recurrent_stack`).

    Args:
        x: tensor `(batch, timesteps, features)`.
        options: RecurrentOptions.
        return_sequences: bool. Whether the last layer returns the whole sequence.
        mask: optional bool tensor `(batch, timesteps)`.
        initial_state: optional initial state of the first layer (see `static_initial_state`).
        name: str. Prefix of the layer names.

    Returns:
        The dict of `run_recurrent_stack`.
    """
    layers = recurrent_stack(options, return_sequences=return_sequences, name=name)
    initial_states = None if initial_state is None else [initial_state] + [None] * (options.num_layers - 1)
    return run_recurrent_stack(layers, x, mask=mask, initial_states=initial_states, dropout=options.dropout, name=name)


def series_encoder(inputs, options, *, return_sequences=True):
    """The whole recurrent backbone from the model inputs: `input_features`, then `recurrent_encoder`.

    Args:
        inputs: dict from `series_inputs`.
        options: RecurrentOptions.
        return_sequences: bool. Whether the last layer returns the whole sequence.

    Returns:
        The dict of `run_recurrent_stack`, plus `mask` (the input mask or None).
    """
    x, mask, initial_state = input_features(inputs, options)
    outputs = recurrent_encoder(
        x, options, return_sequences=return_sequences, mask=mask, initial_state=initial_state
    )
    return {**outputs, "mask": mask}
