"""`python -m zoo.anatomy model=<name>`: a model's anatomy: per-layer output shapes, returned states, gate weights, cuDNN eligibility."""

import hydra
import keras

from zoo.cli import run_task
from zoo.training.builders import build_dataset, build_model
from zoo.training.device import cudnn_problems

GATES = {"LSTM": 4, "GRU": 3}


def _shapes(layer):
    outputs = layer.output
    if isinstance(outputs, (list, tuple)):
        return "[" + ", ".join(str(tuple(o.shape)) for o in outputs) + "]"
    if isinstance(outputs, dict):
        return "{" + ", ".join(f"{k}: {tuple(v.shape)}" for k, v in outputs.items()) + "}"
    return str(tuple(outputs.shape))


def _recurrent_lines(layer, indent="    "):
    """Weight shapes and cuDNN eligibility of an LSTM/GRU (both directions of a Bidirectional)."""
    if isinstance(layer, keras.layers.Bidirectional):
        return _recurrent_lines(layer.forward_layer, indent + "forward ") + _recurrent_lines(
            layer.backward_layer, indent + "backward "
        )
    if isinstance(layer, keras.layers.TimeDistributed):
        return _recurrent_lines(layer.layer, indent)
    if not isinstance(layer, (keras.layers.LSTM, keras.layers.GRU)):
        return []
    cell = layer.cell
    kind = type(layer).__name__
    gates = GATES[kind]
    problems = cudnn_problems(layer)
    eligible = "yes" if not problems else "no (" + ", ".join(problems) + ")"
    returns = "sequences" if layer.return_sequences else "last output"
    if layer.return_state:
        returns += " + states [h, c]" if kind == "LSTM" else " + state [h]"
    return [
        f"{indent}{kind} units={cell.units} returns {returns}",
        f"{indent}kernel {tuple(cell.kernel.shape)} = (F, {gates}U)  recurrent_kernel {tuple(cell.recurrent_kernel.shape)}"
        f" = (U, {gates}U)  bias {tuple(cell.bias.shape)}  cuDNN-eligible: {eligible}",
    ]


def describe_model(model):
    """Returns a table of `model`'s layers: output shapes (with returned states), parameters, recurrent weights.

    Args:
        model: a built functional `keras.Model`.

    Returns:
        str.
    """
    rows = [f"Model {model.name!r}: {model.count_params():,} parameters", ""]
    rows.append(f"{'layer':<34} {'type':<22} {'params':>9}  output shape(s)")
    for layer in model.layers:
        rows.append(f"{layer.name:<34} {type(layer).__name__:<22} {layer.count_params():>9,}  {_shapes(layer)}")
        rows.extend(_recurrent_lines(layer))
    return "\n".join(rows)


def print_anatomy(cfg):
    """Builds the configured model for the configured data and prints `describe_model`."""
    dataset = build_dataset(cfg.data)
    model = build_model(cfg.model, dataset.spec)
    print(f"Data: {dataset.spec}")
    print(describe_model(model))


@hydra.main(version_base="1.3", config_path="../configs", config_name="anatomy")
def main(cfg):
    run_task(print_anatomy, cfg)


if __name__ == "__main__":
    main()
