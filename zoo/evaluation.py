"""`evaluate(cfg)`: reload a run's config and checkpoint, rebuild its test split, score it and write the report."""

import logging

import keras

from zoo.config import check_required, read_run_config
from zoo.data import Standardizer
from zoo.data.pipeline import input_names, model_inputs
from zoo.errors import ZooError
from zoo.inference import evaluate_splits
from zoo.registry import model_info
from zoo.runs.directory import RunDirectory, load_checkpoint
from zoo.tasks import get_task
from zoo.tasks.figures import attention_figure
from zoo.tasks.reports import get_report
from zoo.tensorboard_logger import write_run_summaries
from zoo.training.builders import build_dataset
from zoo.training.device import configure_device

log = logging.getLogger(__name__)


def evaluate(cfg):
    """Scores a run's checkpoint on its test split; writes `eval/metrics.json`, `eval/report.md` and figures.

    The figures and headline metrics are also added to the run's TensorBoard run.

    Args:
        cfg: the composed `configs/evaluate.yaml` (`run_dir`, `ckpt`, `batch_size`).

    Returns:
        The report dict written to `eval/metrics.json`.
    """
    check_required(cfg)
    run = RunDirectory(cfg.run_dir)
    run_cfg = read_run_config(run)
    path = run.checkpoint(cfg.ckpt)
    configure_device(run_cfg.trainer.device if run_cfg.trainer.device != "gpu" else "auto", run_cfg.trainer.precision)
    dataset = rebuild_dataset(run, run_cfg)
    model = load_checkpoint(path)
    check_compatible(model, run_cfg, dataset.spec, path)
    task = get_task(run_cfg.model.head)
    batch_size = cfg.batch_size or run_cfg.trainer.batch_size
    report, sections, figures = score_test_split(run, model, dataset, task, path, batch_size)
    markdown = report_markdown(run, model, task, report, sections, figures, path, len(dataset.test))
    write_report(run, report, markdown, figures, task)
    return report


# === Steps ===


def rebuild_dataset(run, run_cfg):
    """Rebuilds the run's data and checks it is the data the run trained on (same scaling statistics)."""
    dataset = build_dataset(run_cfg.data)
    if run.scaler.is_file() and not Standardizer.load(run.scaler).allclose(dataset.scaler):
        raise ZooError(
            f"The data rebuilt from {run.config} differs from the data the run trained on "
            "(scaling statistics changed): restore the original data files to evaluate this run."
        )
    return dataset


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
    head = get_task(run_cfg.model.head)
    expected = tuple(head.output(keras.Input((1,)), spec).shape[1:])  # the head alone, on a symbolic input
    produced = tuple(model.outputs[0].shape[1:])
    if produced != expected:
        raise ZooError(
            f"Checkpoint {path} outputs shape {produced} but model.head={head.name} on the run's data needs "
            f"{expected}: the run's config.yaml and checkpoint disagree; restore the config train.py wrote."
        )


def score_test_split(run, model, dataset, task, path, batch_size):
    """Scores the test split: Keras' metrics, the task's scores in original units, and the figures.

    Returns:
        `(report, sections, figures)`: the dict for `eval/metrics.json`, Markdown sections, and a
        dict from figure name to PNG path.
    """
    run.eval_dir.mkdir(exist_ok=True)
    keras_metrics = evaluate_splits(model, dataset, task, batch_size, splits=("test",))["test"]
    head_report = get_report(task.name)
    scores, sections, figures = head_report.evaluate(model, dataset, run.read_classes(), batch_size, run.eval_dir)
    report = {"checkpoint": str(path), "model": model.name, "task": task.name, "test": keras_metrics, head_report.report_key: scores}
    attention_weights = model_info(model.name).attention_weights
    if attention_weights is not None:
        split = dataset.test
        weights = attention_weights(model).predict(model_inputs(split, input_names(model)), verbose=0)["attention_weights"]
        figures["attention_weights"] = attention_figure(
            split.series, split.lengths, weights, run.eval_dir / "attention_weights.png"
        )
    return report, sections, figures


def report_markdown(run, model, task, report, sections, figures, path, n_series):
    """Returns `eval/report.md`: a header with Keras' metrics, the task's sections, the figure list."""
    decoding = model_info(model.name).decoding
    header = (
        f"# Evaluation of {model.name} ({task.name})\n\n"
        f"Run `{run.path}`, checkpoint `{path.name}`, {n_series} test series. "
        + ("Keras test metrics (teacher-forced): " if decoding == "autoregressive" else "Keras test metrics: ")
        + ", ".join(f"{k} {v:.4f}" for k, v in report["test"].items()) + "."
    )
    figure_list = ["Figures: " + ", ".join(f"`{p.name}`" for p in figures.values())] if figures else []
    return "\n\n".join([header, *sections, *figure_list]) + "\n"


def write_report(run, report, markdown, figures, task):
    """Writes `eval/metrics.json` and `eval/report.md`, prints the report, and adds it to TensorBoard."""
    run.write_json(run.eval_metrics, report)
    run.write_text(run.eval_report, markdown)
    print(markdown)
    if run.tensorboard.is_dir():
        write_run_summaries(
            run.tensorboard,
            scalars={
                **{f"eval/test_{name}": value for name, value in report["test"].items()},
                **get_report(task.name).summary_scalars(report[get_report(task.name).report_key]),
            },
            images={f"eval/{name}": figure for name, figure in figures.items()},
            texts={"eval/report": markdown},
        )
    log.info(f"Wrote {run.eval_dir}/metrics.json, report.md and {len(figures)} figure(s).")
