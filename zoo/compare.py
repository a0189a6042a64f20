"""`python -m zoo.compare <sweep or runs dir> [...]`: one table of runs, hyperparameters and test metrics.

Finds every run directory (one holding `metrics.json` and `config.yaml`) under the given paths,
makes one table per task sorted best first by its headline test metric (accuracy to classify, the
forecast's MAE in original units, the test loss to regress), lists the trials that failed, and
writes `comparison.md` and `comparison.csv` next to the runs (the deepest folder holding them all
that is not itself a run) or into `--output`.
"""

import argparse
import csv
import os
import sys
from pathlib import Path

from zoo.errors import ZooError
from zoo.runs.directory import RunDirectory, load_config_file
from zoo.tasks import improvement_mode, monitored_value
from zoo.tasks.markdown import markdown_table
from zoo.tasks.reports import get_report
from zoo.tensorboard_logger import flat_hparams

# Columns of a table by default: the run, its model, the monitored value, the test scores, then as
# many varying hyperparameters as fit (`--all` shows every one).
MAX_COLUMNS = 12


def find_runs(paths):
    """Returns the sorted run directories under `paths`."""
    runs = set()
    for path in map(Path, paths):
        if not path.exists():
            raise ZooError(f"{path} does not exist: pass a run directory or a directory of runs (e.g. a sweep).")
        finished = (RunDirectory(found.parent) for found in path.rglob(RunDirectory(path).metrics.name))
        # An ensemble's members are compared through their ensemble, unless asked for by name.
        runs.update(
            run.path for run in finished if run.is_finished() and run.config.is_file() and (run.path == path or not run.is_member())
        )
    if not runs:
        raise ZooError(f"No finished runs (metrics.json + config.yaml) under {', '.join(map(str, paths))}.")
    return sorted(runs)


def failed_trials(paths):
    """Returns the sorted Hydra job directories under `paths` that never wrote `metrics.json` (failed or unfinished)."""
    jobs = {found.parent for path in map(Path, paths) for found in path.rglob(".hydra") if found.is_dir()}
    return sorted(job for job in jobs if not RunDirectory(job).is_finished())


def _is_run(path):
    return any((path / name).exists() for name in (".hydra", "config.yaml", "metrics.json"))


def output_directory(paths):
    """Returns the deepest directory holding every path that is not a run itself: next to the runs, never inside one."""
    folder = Path(os.path.commonpath([os.path.abspath(path) for path in paths]))
    while not folder.is_dir() or _is_run(folder):
        folder = folder.parent
    return folder


def _display(run, base):
    try:
        return str(Path(os.path.abspath(run)).relative_to(base)) or "."
    except ValueError:
        return str(run)


def collect_runs(paths):
    """Reads every finished run under `paths`: its path, task, hyperparameters, monitored value and headline test scores."""
    records = []
    for path in find_runs(paths):
        run = RunDirectory(path)
        metrics = run.read_json(run.metrics)
        evaluation = run.read_json(run.eval_metrics) if run.eval_metrics.is_file() else None
        records.append(
            {
                "run": path,
                "task": metrics["task"],
                "hparams": flat_hparams(load_config_file(run.config)),
                "monitor": metrics["monitor"],
                "monitored": monitored_value(metrics),
                "headline": get_report(metrics["task"]).headline(metrics, evaluation),
            }
        )
    return records


def _varying(records):
    keys = sorted({key for record in records for key in record["hparams"]})
    return [key for key in keys if key != "model.name" and len({str(record["hparams"].get(key)) for record in records}) > 1]


def _sorted_best_first(records, metric):
    """Runs by `metric` in its direction (accuracy up, losses and errors down); runs without it last."""
    sign = -1 if improvement_mode(metric) == "max" else 1
    return sorted(records, key=lambda record: (metric not in record["headline"], sign * record["headline"].get(metric, 0.0)))


def _table(records, base, hparams, metric_names, monitor_column=True):
    """A header and rows; the monitored value sits under the monitor's name where all runs share one (unless `monitor_column`)."""
    monitors = sorted({record["monitor"] for record in records})
    single_monitor = len(monitors) == 1 and not monitor_column
    header = ["run", "model.name", *hparams, *(monitors if single_monitor else ["monitor", "value"]), *metric_names]
    rows = [
        [
            _display(record["run"], base),
            record["hparams"]["model.name"],
            *(record["hparams"].get(key, "") for key in hparams),
            *([] if single_monitor else [record["monitor"]]),
            f"{record['monitored']:.4f}",
            *(f"{record['headline'][name]:.4f}" if name in record["headline"] else "" for name in metric_names),
        ]
        for record in records
    ]
    return header, rows


def task_tables(records, base, all_columns=False):
    """One table per task (classify, forecast, regress), each sorted best first by the task's headline test metric.

    Args:
        records: `collect_runs`'s result.
        base: runs are labelled by their path from this folder.
        all_columns: every hyperparameter that varies; by default at most `MAX_COLUMNS` columns.

    Returns:
        A list of `(task, headline metric, header, rows, hyperparameters left out)`.
    """
    tables = []
    for task in sorted({record["task"] for record in records}):
        group = [record for record in records if record["task"] == task]
        metric = get_report(task).headline_metric
        metric_names = [metric, *sorted({name for record in group for name in record["headline"]} - {metric})]
        varying = _varying(group)
        fixed = 2 + (1 if len({record["monitor"] for record in group}) == 1 else 2) + len(metric_names)
        shown = varying if all_columns else varying[: max(0, MAX_COLUMNS - fixed)]
        header, rows = _table(_sorted_best_first(group, metric), base, shown, metric_names, monitor_column=False)
        tables.append((task, metric, header, rows, len(varying) - len(shown)))
    return tables


def csv_table(records, base):
    """Every run of every task with every varying hyperparameter and score: the header and rows of comparison.csv."""
    metric_names = sorted({name for record in records for name in record["headline"]})
    header, rows = _table(records, base, _varying(records), metric_names)
    return ["task", *header], [[record["task"], *row] for record, row in zip(records, rows)]


def markdown_tables(tables):
    """The Markdown of `task_tables`' result: a heading line and a table per task."""
    parts = []
    for task, metric, header, rows, left_out in tables:
        note = f"; {left_out} more varying hyperparameters with --all" if left_out else ""
        parts.append(f"{task}: {len(rows)} runs, best {metric} first{note}\n\n{markdown_table(header, rows)}")
    return "\n\n".join(parts)


def argument_parser():
    """Returns the command line's parser (the docs' commands are checked against it)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", help="run directories or directories holding runs (sweeps)")
    parser.add_argument("--output", type=Path, help="folder for comparison.md and .csv (default: the deepest one holding every run)")
    parser.add_argument("--overwrite", action="store_true", help="replace comparison files written before")
    parser.add_argument("--all", action="store_true", help=f"every varying hyperparameter (default: at most {MAX_COLUMNS} columns)")
    return parser


def output_files(args):
    """Returns the paths of comparison.md and comparison.csv, refusing a run directory or, without --overwrite, an existing file."""
    folder = output_directory(args.paths) if args.output is None else args.output
    if _is_run(folder):
        raise ZooError(f"--output {folder} is a run directory, whose files comparisons must not mix with: choose another folder.")
    files = (folder / "comparison.md", folder / "comparison.csv")
    existing = [str(file) for file in files if file.exists()]
    if existing and not args.overwrite:
        raise ZooError(f"{' and '.join(existing)} exist already: pass --overwrite to replace them or --output <folder> to write elsewhere.")
    return files


def comparison(paths, all_columns=False):
    """Returns the Markdown of the runs under `paths` (a table per task, then the failed trials) and the CSV's header and rows."""
    base = output_directory(paths)
    records = collect_runs(paths)
    text = markdown_tables(task_tables(records, base, all_columns))
    failed = failed_trials(paths)
    if failed:
        text += f"\n\nFailed or unfinished (no metrics.json; each one's train.log says why): {', '.join(_display(job, base) for job in failed)}"
    return text, csv_table(records, base)


def sweep_summary(sweep):
    """The closing lines of a sweep: its tables, best first, and each task's best trial (none if no trial finished)."""
    try:
        records = collect_runs([sweep])
    except ZooError:
        return []
    tables = task_tables(records, Path(os.path.abspath(sweep)))
    best = [f"Best {task} trial by {metric}: {Path(sweep) / rows[0][0]}" for task, metric, _, rows, _ in tables]
    return [f"Trials of {sweep}:", "", markdown_tables(tables), "", *best]


def main(argv=None):
    args = argument_parser().parse_args(argv)
    try:
        markdown_file, csv_file = output_files(args)
        table, (header, rows) = comparison(args.paths, all_columns=args.all)
        markdown_file.parent.mkdir(parents=True, exist_ok=True)
        markdown_file.write_text(table + "\n")
        with open(csv_file, "w", newline="") as handle:
            csv.writer(handle).writerows([header, *rows])
    except ZooError as error:
        print(f"Error: {error}", file=sys.stderr)
        raise SystemExit(1) from None
    except OSError as error:
        print(f"Error: cannot write {error.filename} ({error.strerror}): choose a writable --output folder.", file=sys.stderr)
        raise SystemExit(1) from None
    print(table)
    print(f"\nWrote {markdown_file} and {csv_file}")


if __name__ == "__main__":
    main()
