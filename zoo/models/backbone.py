"""The recurrent backbone every architecture shares: stacked LSTM or GRU layers with named outputs."""

import keras

from zoo.validation import boolean, fraction, one_of, positive_int

CELLS = ("lstm", "gru")
HEADS = ("classify", "forecast")


def check_recurrent_options(*, cell, units, num_layers, dropout, bidirectional, prefix=""):
    """Raises a ZooError for the first recurrent option out of range; `prefix` names its config group."""
    one_of(f"{prefix}cell", cell, CELLS)
    positive_int(f"{prefix}units", units)
    positive_int(f"{prefix}num_layers", num_layers)
    fraction(f"{prefix}dropout", dropout)
    boolean(f"{prefix}bidirectional", bidirectional)


def series_inputs(spec):
    """Returns the model's inputs: `series` `(batch, timesteps, n_features)` and, for padded data, `mask`.

    Returns:
        A dict from input name to `keras.Input`.
    """
    inputs = {"series": keras.Input((spec.timesteps, spec.n_features), name="series")}
    if spec.variable_length:
        inputs["mask"] = keras.Input((spec.timesteps,), dtype="bool", name="mask")
    return inputs


def recurrent_layer(cell, units, *, return_sequences, return_state, name):
    """Returns a cuDNN-eligible LSTM or GRU layer (Keras defaults: tanh, sigmoid, no recurrent dropout)."""
    layer_class = keras.layers.LSTM if cell == "lstm" else keras.layers.GRU
    return layer_class(units, return_sequences=return_sequences, return_state=return_state, name=name)


def merge_directions(states, cell, bidirectional, name):
    """Turns a layer's returned states into `[h]` or `[h, c]`, concatenating directions if bidirectional."""
    if not bidirectional:
        return list(states)
    per_direction = len(states) // 2
    forward, backward = states[:per_direction], states[per_direction:]
    kinds = ["h", "c"] if cell == "lstm" else ["h"]
    return [
        keras.layers.Concatenate(name=f"{name}_state_{kind}")([f, b])
        for kind, f, b in zip(kinds, forward, backward)
    ]


def recurrent_backbone(
    x,
    *,
    cell="lstm",
    units=64,
    num_layers=1,
    dropout=0.0,
    bidirectional=False,
    return_sequences=True,
    mask=None,
    initial_states=None,
    name="encoder",
):
    """Stacks recurrent layers over `x`; all but the last return sequences.

    Every layer returns its states so seq2seq can hand them to a decoder. Layers are named
    `{name}_{cell}_{i}` (wrapped as `{name}_bidirectional_{i}`), so inference code can find them.

    Args:
        x: tensor `(batch, timesteps, features)`.
        cell: "lstm" or "gru". Defaults to "lstm".
        units: int. Units per direction. Defaults to 64.
        num_layers: int. Stacked layers. Defaults to 1.
        dropout: float. Dropout between stacked layers. Defaults to 0.
        bidirectional: bool. Wrap each layer in `Bidirectional` (states are concatenated).
        return_sequences: bool. Whether the last layer returns the whole sequence.
        mask: optional bool tensor `(batch, timesteps)`; padded steps are skipped.
        initial_states: optional list, per layer, of `[h]` or `[h, c]` initial states.
        name: str. Prefix of the layer names.

    Returns:
        Dict with `sequence_output` `(batch, timesteps, units * directions)` or None,
        `last_output` `(batch, units * directions)` or None, `state_h`, `state_c` (None for GRU),
        and `layer_states`: per layer the list `[h]` or `[h, c]`.
    """
    check_recurrent_options(
        cell=cell, units=units, num_layers=num_layers, dropout=dropout, bidirectional=bidirectional
    )
    layer_states = []
    for index in range(num_layers):
        is_last = index == num_layers - 1
        layer = recurrent_layer(
            cell,
            units,
            return_sequences=return_sequences or not is_last,
            return_state=True,
            name=f"{name}_{cell}_{index}",
        )
        if bidirectional:
            layer = keras.layers.Bidirectional(layer, name=f"{name}_bidirectional_{index}")
        initial_state = None if initial_states is None else initial_states[index]
        output, *states = layer(x, mask=mask, initial_state=initial_state)
        layer_states.append(merge_directions(states, cell, bidirectional, name=f"{name}_{index}"))
        x = output
        if dropout and not is_last:
            x = keras.layers.Dropout(dropout, name=f"{name}_dropout_{index}")(x)
    final_states = layer_states[-1]
    return {
        "sequence_output": x if return_sequences else None,
        "last_output": None if return_sequences else x,
        "state_h": final_states[0],
        "state_c": final_states[1] if cell == "lstm" else None,
        "layer_states": layer_states,
    }
