"""`trainer.ensemble=N`, its parts: N members trained with seeds `seed, seed+1, ...` on the same data, in
`members/<k>/` of one run, and served as one Keras model that averages their outputs.

Each member is a complete run of its own (config, checkpoints, TensorBoard, metrics.json), so
`evaluate.py run_dir=<run>/members/<k>` scores it alone. The run's `checkpoints/best.keras` is the
averaging model over the members' best checkpoints (`last.keras` over their last), named like its
members, so evaluate, predict, export and compare treat the ensemble as one model.
"""

import logging

import keras
import numpy as np
from omegaconf import OmegaConf

from zoo.errors import ZooError
from zoo.registry import model_info
from zoo.runs.directory import load_checkpoint, save_model_atomically
from zoo.training.run_config import relocated
from zoo.validation import positive_int

log = logging.getLogger(__name__)

AVERAGE_LAYER = "ensemble_average"


def ensemble_size(trainer):
    """Returns `trainer.ensemble` (1 for runs saved before the option), checked."""
    size = trainer.get("ensemble", 1)
    positive_int("trainer.ensemble", size)
    return size


def check_ensemble(cfg):
    """Refuses an ensemble the zoo cannot average: a model that forecasts from its own outputs, or several processes."""
    if ensemble_size(cfg.trainer) == 1:
        return
    if model_info(cfg.model.name).forecaster is not None:
        raise ZooError(
            f"trainer.ensemble={cfg.trainer.ensemble} with model={cfg.model.name}, whose forecast feeds its own outputs "
            "back step by step, so members cannot be averaged in one graph: use trainer.ensemble=1 or another model."
        )
    if cfg.trainer.strategy != "auto":
        raise ZooError(
            f"trainer.ensemble={cfg.trainer.ensemble} trains its members one after another on one device: "
            "set trainer.strategy=auto."
        )


def member_config(cfg, index, run):
    """Returns member `index`'s config: the ensemble's, resolved, with seed `seed + index`, one
    member, and every path under the run moved to `members/<index>/`. The data keeps the run's
    seed, so every member trains on the same splits and scaling."""
    resolved = OmegaConf.create(OmegaConf.to_container(cfg, resolve=True))
    member = relocated(resolved, run.member(index).path)
    member.seed = int(cfg.seed) + index
    member.trainer.ensemble = 1
    return member


def average_models(members, name):
    """Returns one model named `name` whose output is the mean of the `members`' outputs.

    Args:
        members: Keras models with the same inputs (names and shapes) and output shape.
        name: the ensemble's name: its members' registry key, so the zoo's loaders know it.
    """
    inputs = {tensor.name: keras.Input(tensor.shape[1:], dtype=tensor.dtype, name=tensor.name) for tensor in members[0].inputs}
    outputs = []
    for index, member in enumerate(members):
        member.name = f"member_{index}"  # nested models must be named apart; each is still its registry model
        outputs.append(member({tensor.name: inputs[tensor.name] for tensor in member.inputs}))
    average = keras.layers.Average(name=AVERAGE_LAYER, dtype="float32")(outputs)
    return keras.Model(inputs, average, name=name)


def ensemble_members(model):
    """Returns how many members `model` averages (an `average_models` model), or 0 for a single model."""
    average = next((layer for layer in model.layers if layer.name == AVERAGE_LAYER), None)
    return 0 if average is None else len(average.input)


def write_ensemble_checkpoints(run, size, name, compile_ensemble):
    """Saves the averaging models of the members' best and last checkpoints in `run/checkpoints/`.

    Args:
        run: the ensemble's RunDirectory.
        size: int. Members.
        name: the model's registry key.
        compile_ensemble: function compiling a model for the run's task (evaluate needs its loss and metrics).
    """
    run.create()
    for which in ("best", "last"):
        members = [load_checkpoint(run.member(index).checkpoint(which)) for index in range(size)]
        ensemble = average_models(members, name)
        compile_ensemble(ensemble)
        ensemble.optimizer.build(ensemble.trainable_variables)  # saved whole, so loading it warns of no missing slots
        save_model_atomically(ensemble, run.best_checkpoint if which == "best" else run.last_checkpoint)


def member_results(run, size):
    """Returns each member's `metrics.json` and a summary line of their test scores."""
    results = [run.member(index).read_json(run.member(index).metrics) for index in range(size)]
    lines = []
    for name in sorted(results[0]["test"]):
        values = np.array([result["test"][name] for result in results])
        lines.append(f"{name} {values.mean():.4g} ± {values.std():.2g} ({' '.join(f'{v:.4g}' for v in values)})")
    return results, "; ".join(lines)
