"""`python -m zoo.export run_dir=<run> format=saved_model|onnx [ckpt=best|last]`: the model for serving stacks.

Writes under `<run>/export/` through Keras' own `model.export`: a SavedModel with a
`serving_default` signature over the named inputs (`series`, and `mask`/`static` where the run
has them; batch and length left open where the model allows), or an ONNX file (tf2onnx). A model
whose registry entry gives a serving graph (`ModelInfo.serving_model`: an autoregressive
forecaster's encoder and compiled decoding loop) is exported as that graph, so serving needs no
Python loop.
"""

import logging
import os
import shutil
from pathlib import Path

import hydra
import keras
import numpy as np

from zoo.cli import run_task
from zoo.config import check_required
from zoo.errors import ZooError
from zoo.runs.loading import load_run
from zoo.validation import one_of

log = logging.getLogger(__name__)

FORMATS = {"saved_model": ("tf_saved_model", ""), "onnx": ("onnx", ".onnx")}


def export_models(model, serving_model):
    """Returns `{artifact name: model}` to export: the model, or the serving graph its registry entry gives."""
    parts = {"model": model if serving_model is None else serving_model(model)}
    for part in parts.values():
        # Keras exports only models that have been called since they were built or loaded.
        # Open lengths take the fixed length of a model whose series length is fixed (cnn_lstm), else 2.
        steps = next((t.shape[1] for t in part.inputs if len(t.shape) == 3 and t.shape[1]), 2)
        part(keras.tree.map_structure(lambda tensor: _example_input(tensor, steps), part.input))
    return parts


def _example_input(tensor, steps):
    """A batch of one example for a symbolic input; open lengths become `steps`."""
    return np.ones((1, *(size or steps for size in tensor.shape[1:])), dtype=tensor.dtype)


def export_one(model, path, keras_format):
    """Exports `model` to `path` atomically: a temporary name, then a rename over any older export."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.partial{path.suffix}")
    try:
        model.export(str(temporary), format=keras_format, verbose=False)
    except ImportError as error:
        missing = error.name or ("tensorflow" if "tensorflow" in str(error) else str(error))  # None when a module was blocked
        raise ZooError(f"Exporting to {path.suffix or 'SavedModel'} needs {missing}: pip install -e '.[export]'.") from error
    if path.is_dir():
        shutil.rmtree(path)
    os.replace(temporary, path)
    return path


def export_run(cfg):
    """Exports the run's checkpoint; returns the list of written paths."""
    check_required(cfg)
    one_of("format", cfg.format, FORMATS)
    logging.getLogger("tf2onnx").setLevel(logging.WARNING)  # its conversion steps are not news to a user
    run = load_run(cfg.run_dir, ckpt=cfg.ckpt, device="auto")
    keras_format, suffix = FORMATS[cfg.format]
    export_dir = run.run.export_dir
    export_dir.mkdir(exist_ok=True)
    stem = Path(cfg.ckpt).stem
    written = []
    for part, model in export_models(run.model, run.info.serving_model).items():
        name = stem if part == "model" else f"{stem}_{part}"
        written.append(export_one(model, export_dir / f"{name}{suffix or '_saved_model'}", keras_format))
    for path in written:
        log.info(f"Wrote {path}")
    return written


@hydra.main(version_base="1.3", config_path="../configs", config_name="export")
def main(cfg):
    run_task(export_run, cfg)


if __name__ == "__main__":
    main()
