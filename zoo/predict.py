"""`python -m zoo.predict run_dir=<run> input=<file .ts|.csv|.npz|.tsf> [output=<file.csv>] [ckpt=best|last]`.

Reads new series, applies the run's missing-value policy, scaling, padding, mask and static
covariates, and writes one CSV row per series: its id, then the predicted class and every class
probability, the forecast in original units, or the regressed value. A run trained on histories
(`data=forecast`) reads a history file of any layout it takes and forecasts past each history's end.
"""

import csv
import io
import logging
import sys
from pathlib import Path

import hydra
import numpy as np

from zoo.cli import run_task
from zoo.config import check_required
from zoo.data.csv_format import read_long_csv
from zoo.data.forecast_format import read_histories
from zoo.data.npz_format import read_npz
from zoo.data.raw import apply_missing_policy
from zoo.data.text_files import read_utf8
from zoo.data.ts_format import read_ts
from zoo.errors import ZooError
from zoo.runs.directory import write_text_atomically
from zoo.runs.loading import load_run
from zoo.validation import boolean, positive_int

log = logging.getLogger(__name__)

CSV_DEFAULTS = {"id_column": "series_id", "time_column": "time", "feature_columns": ["value"], "static_columns": []}


def read_histories_to_forecast(path, run_config):
    """Reads a history file with the run's columns (`data=forecast` runs). Returns Histories, missing values handled."""
    data = run_config.data
    read = read_histories(
        path, id_column=data.id_column, time_column=data.time_column,
        value_columns=data.value_columns if isinstance(data.value_columns, str) else list(data.value_columns),
    )
    read.raw = apply_missing_policy(read.raw, data.missing)
    return read


def read_series(path, run_config):
    """Reads a .ts, long .csv or .npz file of series to predict; labels and targets are optional.

    Returns:
        A RawSeries with no missing values left (the run's `data.missing` policy applied).
    """
    path = Path(path)
    if not path.is_file():
        raise ZooError(f"Input file {path} does not exist: pass input=<a .ts, .csv or .npz file>.")
    suffix = path.suffix.lower()
    if suffix == ".ts":
        raw = read_ts(path)
    elif suffix == ".csv":
        raw = read_long_csv(path, **_csv_columns(path, run_config.data))
    elif suffix == ".npz":
        with np.load(path, allow_pickle=False) as arrays:
            has_y = "y" in arrays.files
        raw = read_npz(path, y_type=run_config.data.get("y_type", "class") if has_y else "none")
    else:
        raise ZooError(f"Input file {path} is not .ts, .csv or .npz: convert it to one of those formats.")
    return apply_missing_policy(raw, run_config.data.get("missing", "interpolate"))


def _csv_columns(path, data_cfg):
    """The run's CSV column names (or data/csv.yaml's), keeping label and target columns only if the file has them."""
    columns = {key: data_cfg.get(key, default) for key, default in CSV_DEFAULTS.items()}
    columns = {key: list(value) if key.endswith("columns") else value for key, value in columns.items()}
    header = next(csv.reader(io.StringIO(read_utf8(path, "CSV"), newline="")), [])
    for key in ("label_column", "target_column"):
        name = data_cfg.get(key)
        columns[key] = name if name in header else None
    return columns


def check_labels(raw, run):
    """Refuses labels the run never saw (a classifier cannot predict them)."""
    if raw.labels is None or not run.classes:
        return
    unknown = sorted(set(raw.labels) - set(run.classes))
    if unknown:
        raise ZooError(
            f"{raw.source}: label {unknown[0]!r} is not one of the run's classes {run.classes}: "
            "remove those series or their labels."
        )


def prediction_table(raw, run, outputs, starts=None):
    """Returns the CSV text: an `id` column, then `forecast_start` where `starts` dates the first forecast step, then the task's columns."""
    header, values = run.report.columns(outputs, run.classes, run.feature_names)
    if run.context_length and run.n_features == 1:  # one channel: step_<h>, as a forecaster reads it
        header = [name.removesuffix(f"_{run.feature_names[0]}") for name in header]
    ids = raw.ids or [str(index) for index in range(len(raw.series))]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["id", *(["forecast_start"] if starts else []), *header])
    for index, (series_id, row) in enumerate(zip(ids, values)):
        writer.writerow([series_id, *([starts[index]] if starts else []), *(_cell(value) for value in row)])
    return buffer.getvalue()


def _cell(value):
    return f"{value:.6g}" if isinstance(value, (float, np.floating)) else str(value)


def check_output(output, run_dir, input_path, overwrite=False):
    """Refuses an `output=` that is the input file, one of the run's own files, or (unless `overwrite`) an existing file."""
    target, run = Path(output).resolve(), Path(run_dir).resolve()
    if target == Path(input_path).resolve():
        raise ZooError(f"output={output} is the input file, which predictions must not replace: choose another output.")
    if run in target.parents and (run / "predictions") not in target.parents:
        raise ZooError(
            f"output={output} lies among the run's own files, which predictions must not replace: "
            f"choose a path outside {run_dir} or under its predictions/."
        )
    if target.exists() and not overwrite:
        raise ZooError(f"output={output} exists already: pass overwrite=true to replace it, or choose another output.")


def predict_file(cfg):
    """Predicts every series of `cfg.input` with the run `cfg.run_dir`; writes and returns the CSV path."""
    check_required(cfg)
    positive_int("batch_size", cfg.batch_size)
    output = Path(cfg.output) if cfg.output else Path(cfg.run_dir) / "predictions" / f"{Path(cfg.input).name}.csv"
    check_output(output, cfg.run_dir, cfg.input, overwrite=boolean("overwrite", cfg.overwrite))
    run = load_run(cfg.run_dir, ckpt=cfg.ckpt, device="auto")
    starts = None
    if run.context_length:  # a forecaster of histories: forecast past each history's end, dated where the file is
        if not Path(cfg.input).is_file():
            raise ZooError(f"Input file {cfg.input} does not exist: pass input=<a history file the run's data=forecast reads>.")
        histories = read_histories_to_forecast(cfg.input, run.config)
        raw = histories.raw
        if histories.dated:
            starts = [histories.future_times(index, 1)[0] for index in range(len(raw.series))]
    else:
        raw = read_series(cfg.input, run.config)
    check_labels(raw, run)
    batches = -(-len(raw.series) // cfg.batch_size)
    log.info(f"Predicting {len(raw.series):,} series of {cfg.input} in {batches:,} batch{'es' if batches > 1 else ''} of {cfg.batch_size}.")
    # Keras' progress bar at a terminal only: piped output keeps no control characters.
    outputs = run.predict(raw.series, static=raw.static, batch_size=cfg.batch_size, verbose=1 if sys.stdout.isatty() else 0)
    output.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomically(output, prediction_table(raw, run, outputs, starts))
    if raw.labels is not None and "class" in outputs:
        accuracy = float(np.mean(outputs["class"] == np.asarray(raw.labels, dtype=object)))
        log.info(f"The file's labels agree with {accuracy:.4f} of the predictions.")
    log.info(f"Wrote {len(raw.series)} predictions to {output}")
    return output


@hydra.main(version_base="1.3", config_path="../configs", config_name="predict")
def main(cfg):
    run_task(predict_file, cfg)


if __name__ == "__main__":
    main()
