"""`evaluate(cfg)`: reload a run's config and checkpoint, rebuild its test split and score it."""

import logging
from pathlib import Path

import keras
from omegaconf import OmegaConf

from zoo.config import check_required
from zoo.data import Standardizer
from zoo.device import configure_device
from zoo.errors import ZooError
from zoo.data.pipeline import input_names, model_inputs
from zoo.figures import attention_figure, confusion_matrix_figure, forecast_figure
from zoo.scoring import evaluate_forecast, evaluate_regression
from zoo.models.attention import attention_weights_model
from zoo.reports import (
    classification_markdown,
    classification_report,
    forecast_markdown,
    naive_forecast,
    regression_markdown,
)
from zoo.tensorboard import write_run_summaries
from zoo.training import build_dataset, evaluate_splits, write_json

log = logging.getLogger(__name__)

RUN_CONFIG = "config.yaml"


def load_run_config(run_dir):
    """Returns the resolved config a training run saved, after checking the directory is a run.

    Args:
        run_dir: path of a training run directory.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ZooError(f"Run directory {run_dir} does not exist: pass run_dir=<a directory under outputs/runs>.")
    config_path = run_dir / RUN_CONFIG
    if not config_path.is_file():
        raise ZooError(
            f"{run_dir} holds no {RUN_CONFIG}, so it is not a training run directory: "
            "pass the directory that python train.py created."
        )
    return OmegaConf.load(config_path)


def checkpoint_path(run_dir, ckpt):
    """Resolves `ckpt` ("best", "last" or a file path) to an existing `.keras` file."""
    if ckpt in ("best", "last"):
        path = Path(run_dir) / "checkpoints" / f"{ckpt}.keras"
        if not path.is_file():
            raise ZooError(
                f"{run_dir} holds no {ckpt} checkpoint ({path}): the run stopped before its first epoch ended; "
                "train it again or pass ckpt=<a .keras file>."
            )
        return path
    path = Path(ckpt)
    if not path.is_file():
        raise ZooError(f"Checkpoint file {path} does not exist: pass ckpt=best, ckpt=last or the path of a .keras file.")
    return path


def load_checkpoint(path):
    """Loads a `.keras` file, turning an unreadable file into a one-line error."""
    try:
        return keras.saving.load_model(path)
    except Exception as error:  # Keras raises many types for a corrupt or foreign file
        raise ZooError(
            f"Checkpoint {path} could not be loaded as a Keras model ({type(error).__name__}): "
            "pass a .keras file written by train.py."
        ) from error


def check_compatible(model, run_cfg, spec, path):
    """Raises a ZooError if the checkpoint's model was not built for this run's config and data."""
    if model.name != run_cfg.model.name:
        raise ZooError(
            f"Checkpoint {path} holds a {model.name!r} model but the run was trained with model={run_cfg.model.name}: "
            "pass a checkpoint from this run."
        )
    inputs = {tensor.name: tuple(tensor.shape[1:]) for tensor in model.inputs}
    if inputs["series"][-1] != spec.n_features:
        raise ZooError(
            f"Checkpoint {path} expects {inputs['series'][-1]} features per step but the run's data has "
            f"{spec.n_features}: pass a checkpoint trained with this run's data config."
        )
    if inputs["series"][0] not in (None, spec.timesteps) or ("mask" in inputs) != spec.variable_length:
        raise ZooError(
            f"Checkpoint {path} was built for series of another length or padding than the run's data: "
            "pass a checkpoint trained with this run's data config."
        )
    static = inputs.get("static", (0,))[0]
    if static != spec.n_static:
        raise ZooError(
            f"Checkpoint {path} expects {static} static covariates but the run's data has {spec.n_static}: "
            "pass a checkpoint trained with this run's data config."
        )


def evaluate(cfg):
    """Scores a run's checkpoint on its test split; writes `eval/metrics.json`, `eval/report.md` and figures.

    The figures and headline metrics are also added to the run's TensorBoard run.

    Args:
        cfg: the composed `configs/evaluate.yaml` (`run_dir`, `ckpt`, `batch_size`).

    Returns:
        The report dict written to `eval/metrics.json`.
    """
    check_required(cfg)
    run_dir = Path(cfg.run_dir)
    run_cfg = load_run_config(run_dir)
    path = checkpoint_path(run_dir, cfg.ckpt)
    configure_device(run_cfg.trainer.device if run_cfg.trainer.device != "gpu" else "auto", run_cfg.trainer.precision)

    dataset = build_dataset(run_cfg.data)
    saved_scaler = run_dir / "scaler.json"
    if saved_scaler.is_file():
        if not Standardizer.load(saved_scaler).allclose(dataset.scaler):
            raise ZooError(
                f"The data rebuilt from {run_dir / RUN_CONFIG} differs from the data the run trained on "
                "(scaling statistics changed): restore the original data files to evaluate this run."
            )
    model = load_checkpoint(path)
    check_compatible(model, run_cfg, dataset.spec, path)

    task = run_cfg.model.head
    batch_size = cfg.batch_size or run_cfg.trainer.batch_size
    keras_metrics = evaluate_splits(model, dataset, task, batch_size, splits=("test",))["test"]
    eval_dir = run_dir / "eval"
    eval_dir.mkdir(exist_ok=True)
    report = {"checkpoint": str(path), "model": model.name, "task": task, "test": keras_metrics}
    split = dataset.test
    names = input_names(model)
    figures = {}
    if task == "classify":
        probabilities = model.predict(model_inputs(split, names), batch_size=batch_size, verbose=0)
        report["classification"] = classification_report(split.labels, probabilities.argmax(axis=1), dataset.class_names)
        sections = [classification_markdown(report["classification"])]
        figures["confusion_matrix"] = confusion_matrix_figure(
            report["classification"]["confusion_matrix"], dataset.class_names, eval_dir / "confusion_matrix.png"
        )
    elif task == "regress":
        report["regression"], _ = evaluate_regression(model, dataset, "test", batch_size)
        sections = ["Units: original.", regression_markdown(report["regression"])]
    else:
        report["forecast"], predictions = evaluate_forecast(model, dataset, "test", batch_size)
        sections = [f"Decoding: {report['forecast']['decoding']}. Units: original.", forecast_markdown(report["forecast"])]
        history = dataset.scaler.inverse_transform(split.series)
        figures["forecasts"] = forecast_figure(
            history,
            split.lengths,
            dataset.scaler.inverse_transform(split.future),
            predictions,
            naive_forecast(history, split.lengths, split.future.shape[1]),
            eval_dir / "forecasts.png",
        )
    if any(layer.name == "attention_pooling" for layer in model.layers):
        weights = attention_weights_model(model).predict(model_inputs(split, names), verbose=0)["attention_weights"]
        figures["attention_weights"] = attention_figure(split.series, split.lengths, weights, eval_dir / "attention_weights.png")

    header = (
        f"# Evaluation of {model.name} ({task})\n\n"
        f"Run `{run_dir}`, checkpoint `{path.name}`, {len(split)} test series. "
        + ("Keras test metrics (teacher-forced): " if "decoder_inputs" in names else "Keras test metrics: ")
        + ", ".join(f"{k} {v:.4f}" for k, v in keras_metrics.items()) + "."
    )
    figure_list = ["Figures: " + ", ".join(f"`{p.name}`" for p in figures.values())] if figures else []
    markdown = "\n\n".join([header, *sections, *figure_list]) + "\n"
    write_json(eval_dir / "metrics.json", report)
    (eval_dir / "report.md").write_text(markdown)
    print(markdown)
    if (run_dir / "tensorboard").is_dir():
        write_run_summaries(
            run_dir / "tensorboard",
            scalars=summary_scalars(report),
            images={f"eval/{name}": figure for name, figure in figures.items()},
            texts={"eval/report": markdown},
        )
    log.info(f"Wrote {eval_dir}/metrics.json, report.md and {len(figures)} figure(s).")
    return report


def summary_scalars(report):
    """The headline numbers of an evaluation report, as TensorBoard scalar tags `eval/...`."""
    scalars = {f"eval/test_{name}": value for name, value in report["test"].items()}
    if "classification" in report:
        scalars["eval/test_macro_f1"] = report["classification"]["macro_f1"]
    if "regression" in report:
        scalars["eval/model_mae"] = report["regression"]["model"]["mae"]
        scalars["eval/model_rmse"] = report["regression"]["model"]["rmse"]
    if "forecast" in report:
        for method in ("model", "naive", "seasonal_naive"):
            for key in ("mae", "rmse", "smape", "mase"):
                scalars[f"eval/{method}_{key}"] = report["forecast"][method][key]
    return scalars
