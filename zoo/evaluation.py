"""`evaluate(cfg)`: reload a run's config and checkpoint, rebuild its test split, score it and write the report."""

import logging

from zoo.config import check_required
from zoo.data.pipeline import model_inputs
from zoo.inference import evaluate_splits
from zoo.models.inputs import input_names
from zoo.registry import model_info
from zoo.runs.loading import load_run
from zoo.tasks.figures import attention_figure
from zoo.training.ensemble_members import ensemble_members
from zoo.tasks.reports import get_report
from zoo.tensorboard_logger import write_run_summaries
from zoo.validation import positive_int

log = logging.getLogger(__name__)


def evaluate(cfg):
    """Scores a run's checkpoint on its test split; writes `eval/metrics.json`, `eval/report.md` and figures.

    The figures and headline metrics are also added to the run's TensorBoard run, under `eval/`.
    Any checkpoint but the best one writes to `eval_<name>/` (`eval_last/`) and its own tags instead.

    Args:
        cfg: the composed `configs/evaluate.yaml` (`run_dir`, `ckpt`, `batch_size`).

    Returns:
        The report dict written to `eval/metrics.json`.
    """
    check_required(cfg)
    if cfg.batch_size is not None:
        positive_int("batch_size", cfg.batch_size)
    trained = load_run(cfg.run_dir, ckpt=cfg.ckpt, device="run")
    dataset = trained.rebuild_dataset()
    run, model, task, path = trained.run, trained.model, trained.task, trained.checkpoint
    batch_size = cfg.batch_size or trained.config.trainer.batch_size
    eval_dir = run.evaluation_dir(path)
    report, sections, figures = score_test_split(run, model, dataset, task, path, batch_size, eval_dir)
    markdown = report_markdown(run, model, task, report, sections, figures, path, len(dataset.test))
    write_report(run, report, markdown, figures, task, eval_dir)
    return report


# === Steps ===


def score_test_split(run, model, dataset, task, path, batch_size, eval_dir):
    """Scores the test split: Keras' metrics, the task's scores in original units, and the figures.

    Returns:
        `(report, sections, figures)`: the dict for `eval/metrics.json`, Markdown sections, and a
        dict from figure name to PNG path.
    """
    eval_dir.mkdir(exist_ok=True)
    keras_metrics = evaluate_splits(model, dataset, task, batch_size, splits=("test",))["test"]
    head_report = get_report(task.name)
    scores, sections, figures = head_report.evaluate(model, dataset, run.read_classes(), batch_size, eval_dir)
    report = {"checkpoint": str(path), "model": model.name, "task": task.name, "test": keras_metrics, head_report.report_key: scores}
    attention_weights = model_info(model.name).attention_weights
    if attention_weights is not None and not ensemble_members(model):  # an ensemble's members each weigh steps their own way
        split = dataset.test
        weights = attention_weights(model).predict(model_inputs(split, input_names(model)), verbose=0)["attention_weights"]
        figures["attention_weights"] = attention_figure(
            split.series, split.lengths, weights, eval_dir / "attention_weights.png"
        )
    return report, sections, figures


def report_markdown(run, model, task, report, sections, figures, path, n_series):
    """Returns `eval/report.md`: a header with Keras' metrics, the task's sections, the figure list."""
    decoding = model_info(model.name).decoding
    members = ensemble_members(model)
    described = f"{model.name}, an ensemble of {members} members, outputs averaged" if members else model.name
    header = (
        f"# Evaluation of {described} ({task.name})\n\n"
        f"Run `{run.path}`, checkpoint `{path.name}`, {n_series} test series. "
        + ("Keras test metrics (teacher-forced): " if decoding == "autoregressive" else "Keras test metrics: ")
        + ", ".join(f"{k} {v:.4f}" for k, v in report["test"].items()) + "."
    )
    figure_list = ["Figures: " + ", ".join(f"`{p.name}`" for p in figures.values())] if figures else []
    return "\n\n".join([header, *sections, *figure_list]) + "\n"


def write_report(run, report, markdown, figures, task, eval_dir):
    """Writes `<eval_dir>/metrics.json` and `report.md`, prints the report, and adds it to TensorBoard under the folder's name."""
    head_report = get_report(task.name)
    run.write_json(eval_dir / "metrics.json", report)
    run.write_text(eval_dir / "report.md", markdown)
    tag = eval_dir.name
    print(markdown)
    if run.tensorboard.is_dir():
        write_run_summaries(
            run.tensorboard,
            scalars={
                **{f"{tag}/test_{name}": value for name, value in report["test"].items()},
                **head_report.summary_scalars(report[head_report.report_key], prefix=tag),
            },
            images={f"{tag}/{name}": figure for name, figure in figures.items()},
            texts={f"{tag}/report": markdown},
        )
    log.info(f"Wrote {eval_dir}/metrics.json, report.md and {len(figures)} figure(s).")
