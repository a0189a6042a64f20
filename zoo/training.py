"""`train(cfg)`: data, model, fit, checkpoints and final metrics, top to bottom."""

import json
import logging
import os
import sys
import time
from pathlib import Path

import keras
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from zoo.config import check_required, check_trainer, config_group, group_choice
from zoo.data import make_tf_dataset
from zoo.data.pipeline import input_names
from zoo.device import configure_device, describe_cudnn, seed_everything
from zoo.errors import ZooError
from zoo.scoring import evaluate_forecast, evaluate_regression
from zoo.models.heads import compile_arguments, monitor_mode
from zoo.registry import list_models
from zoo.tensorboard import write_run_summaries

log = logging.getLogger(__name__)

SPLITS = ("train", "validation", "test")


def build_dataset(data_cfg):
    """Instantiates the data config; errors name the `data` group."""
    # Outside a Hydra run the option is guessed from the target: zoo.data.ts_dataset -> ts.
    fallback = data_cfg.get("_target_", "?").rsplit(".", 1)[-1].removesuffix("_dataset")
    with config_group("data", group_choice("data", fallback)):
        return instantiate(data_cfg)


def build_model(model_cfg, spec):
    """Instantiates the model config for data described by `spec`; errors name the `model` group."""
    if model_cfg.name not in list_models():
        raise ZooError(f"Unknown model {model_cfg.name!r}: choose model=<name> with name in {list_models()}.")
    with config_group("model", model_cfg.name):
        return instantiate(model_cfg, spec=spec)


def build_optimizer(trainer_cfg):
    """Returns the configured Keras optimizer with gradient clipping."""
    optimizers = {
        "adam": keras.optimizers.Adam,
        "adamw": keras.optimizers.AdamW,
        "rmsprop": keras.optimizers.RMSprop,
        "sgd": keras.optimizers.SGD,
    }
    return optimizers[trainer_cfg.optimizer](learning_rate=trainer_cfg.learning_rate, clipnorm=trainer_cfg.clipnorm)


class EpochLog(keras.callbacks.Callback):
    """Logs one plain line per epoch (to the run's log file and the console)."""

    def __init__(self, epochs):
        super().__init__()
        self.epochs = epochs
        self._started = None

    def on_epoch_begin(self, epoch, logs=None):
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        values = " - ".join(f"{name} {value:.4g}" for name, value in (logs or {}).items())
        seconds = time.perf_counter() - self._started
        log.info(f"epoch {epoch + 1}/{self.epochs} - {values} - {seconds:.1f}s")


def checkpoint_callbacks(checkpoint_dir, monitor):
    """Returns callbacks that save the best model (by `monitor`) and the last model as `.keras` files."""
    return [
        keras.callbacks.ModelCheckpoint(
            checkpoint_dir / "best.keras", monitor=monitor, mode=monitor_mode(monitor), save_best_only=True
        ),
        keras.callbacks.ModelCheckpoint(checkpoint_dir / "last.keras"),
    ]


def evaluate_splits(model, dataset, task, batch_size, splits=SPLITS):
    """Evaluates `model` on each split.

    Returns:
        Dict from split name to `{metric: value}` as Keras reports them.
    """
    names = input_names(model)
    results = {}
    for split in splits:
        pipeline = make_tf_dataset(dataset.split(split), input_names=names, task=task, batch_size=batch_size)
        values = model.evaluate(pipeline, verbose=0, return_dict=True)
        results[split] = {name: float(value) for name, value in values.items()}
    return results


def write_json(path, payload):
    """Writes `payload` as JSON to `path` atomically, so a reader never sees half a file."""
    path = Path(path)
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")
    os.replace(temporary, path)


def train(cfg: DictConfig) -> float:
    """Trains the configured model and writes the run directory.

    Args:
        cfg: the composed `configs/train.yaml`.

    Returns:
        The monitored validation metric of the best checkpoint, for a Hydra sweeper.
    """
    # === Check the config before anything is built ===
    check_required(cfg)
    check_trainer(cfg.trainer)
    run_dir = Path(cfg.paths.output_dir)
    if (run_dir / "metrics.json").exists():
        raise ZooError(
            f"{run_dir} already holds a finished run (metrics.json); training there would overwrite it: "
            "choose another hydra.run.dir or delete that directory."
        )
    task = cfg.model.head
    monitor = cfg.monitor

    # === Device, precision and seeds (before any TensorFlow op) ===
    device = configure_device(cfg.trainer.device, cfg.trainer.precision)
    seed_everything(cfg.seed, deterministic=cfg.trainer.deterministic)

    # === Data and model ===
    dataset = build_dataset(cfg.data)
    model = build_model(cfg.model, dataset.spec)
    model.compile(
        optimizer=build_optimizer(cfg.trainer),
        steps_per_execution=cfg.trainer.steps_per_execution,
        jit_compile=cfg.trainer.jit_compile,
        **compile_arguments(task),
    )
    log.info(f"Run directory: {run_dir}")
    log.info(f"Data: {dataset.spec}; {len(dataset.train)}/{len(dataset.validation)}/{len(dataset.test)} series.")
    log.info(f"Training {model.name} on {device} with {cfg.trainer.precision} precision.")
    log.info(describe_cudnn(model, device))

    # === What the run directory keeps for evaluation ===
    (run_dir / "checkpoints").mkdir(parents=True, exist_ok=True)
    # Resolved, so evaluate.py can rebuild the data without Hydra's run-time interpolations.
    (run_dir / "config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))
    dataset.scaler.save(run_dir / "scaler.json")
    write_json(run_dir / "classes.json", dataset.class_names)
    summary_text = model_summary(model)
    (run_dir / "model_summary.txt").write_text(summary_text)

    # === Fit ===
    callbacks = checkpoint_callbacks(run_dir / "checkpoints", monitor)
    callbacks += [instantiate(callback) for callback in cfg.callbacks.values()]
    # Not recursive: the run config holds _target_ nodes the logger must log, not build.
    callbacks += [
        instantiate(logger, run_config=cfg, model_summary=summary_text, _recursive_=False)
        for logger in cfg.logger.values()
    ]
    callbacks.append(EpochLog(cfg.trainer.epochs))
    names = input_names(model)
    batch_size = cfg.trainer.batch_size
    history = model.fit(
        make_tf_dataset(dataset.train, input_names=names, task=task, batch_size=batch_size, shuffle=True, seed=cfg.seed),
        validation_data=make_tf_dataset(dataset.validation, input_names=names, task=task, batch_size=batch_size),
        epochs=cfg.trainer.epochs,
        shuffle=False,  # the tf.data pipeline already reshuffles every epoch
        callbacks=callbacks,
        # A progress bar on a terminal; EpochLog's one line per epoch when output goes to a file.
        verbose=1 if sys.stdout.isatty() else 0,
    )

    # === Final metrics of the best checkpoint, reloaded as evaluate.py will reload it ===
    best = keras.saving.load_model(run_dir / "checkpoints" / "best.keras")
    metrics = evaluate_splits(best, dataset, task, batch_size)
    monitored = history.history[monitor]
    pick = max if monitor_mode(monitor) == "max" else min
    best_epoch = pick(range(len(monitored)), key=monitored.__getitem__)
    result = {
        "model": cfg.model.name,
        "task": task,
        "monitor": monitor,
        "best_epoch": best_epoch + 1,
        "epochs_run": len(monitored),
        **metrics,
    }
    if task == "forecast":
        result["forecast"], _ = evaluate_forecast(best, dataset, "test", batch_size)
    if task == "regress":
        result["regression"], _ = evaluate_regression(best, dataset, "test", batch_size)
    write_json(run_dir / "metrics.json", result)
    if "tensorboard" in cfg.logger:
        final = {f"final/{split}_{name}": value for split in SPLITS for name, value in metrics[split].items()}
        write_run_summaries(cfg.logger.tensorboard.log_dir, scalars=final)
    log.info(f"Test metrics: {metrics['test']}")
    if "forecast" in result:
        forecast = result["forecast"]
        log.info(
            f"Test forecast in original units ({forecast['decoding']}): MAE {forecast['model']['mae']:.4f}, "
            f"naive MAE {forecast['naive']['mae']:.4f}"
        )
    return metrics["validation"][monitor.removeprefix("val_")]


def model_summary(model):
    """Returns `model.summary()` as plain text."""
    lines = []
    model.summary(print_fn=lambda line, line_break=True: lines.append(line), line_length=100)
    return "\n".join(lines) + "\n"


def saved_config(run_dir):
    """Loads the composed config a run was trained with from `<run_dir>/.hydra/config.yaml`."""
    return OmegaConf.load(Path(run_dir) / ".hydra" / "config.yaml")
