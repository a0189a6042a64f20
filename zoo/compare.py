"""`python -m zoo.compare <sweep or runs dir> [...]`: one table of runs, hyperparameters and test metrics.

Finds every run directory (one holding `metrics.json` and `config.yaml`) under the given paths,
sorts runs by their monitored validation metric (best first), lists the trials that failed, and
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


def find_runs(paths):
    """Returns the sorted run directories under `paths`."""
    runs = set()
    for path in map(Path, paths):
        if not path.exists():
            raise ZooError(f"{path} does not exist: pass a run directory or a directory of runs (e.g. a sweep).")
        finished = (RunDirectory(found.parent) for found in path.rglob(RunDirectory(path).metrics.name))
        runs.update(run.path for run in finished if run.is_finished() and run.config.is_file())
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
        return str(run.relative_to(base)) or "."
    except ValueError:
        return str(run)


def compare_runs(paths):
    """Collects one row per run, labelled by its path from `output_directory(paths)`.

    Returns:
        `(header, rows)`: rows sorted by the monitored validation metric, best first; only
        hyperparameters that differ between runs get a column (plus the model name).
    """
    base = output_directory(paths)
    records = []
    for path in find_runs(paths):
        run = RunDirectory(path)
        metrics = run.read_json(run.metrics)
        evaluation = run.read_json(run.eval_metrics) if run.eval_metrics.is_file() else None
        monitor = metrics["monitor"]
        records.append(
            {
                "run": path,
                "hparams": flat_hparams(load_config_file(run.config)),
                "monitor": monitor,
                "monitored": monitored_value(metrics),
                "headline": get_report(metrics["task"]).headline(metrics, evaluation),
            }
        )
    keys = sorted({key for r in records for key in r["hparams"]})
    varying = [k for k in keys if len({str(r["hparams"].get(k)) for r in records}) > 1 and k != "model.name"]
    records.sort(key=lambda r: (r["monitor"], -r["monitored"] if improvement_mode(r["monitor"]) == "max" else r["monitored"]))
    metric_names = sorted({name for r in records for name in r["headline"]})
    header = ["run", "model.name", *varying, "monitor", "value", *metric_names]
    rows = [
        [
            _display(r["run"], base),
            r["hparams"]["model.name"],
            *(r["hparams"].get(k, "") for k in varying),
            r["monitor"],
            f"{r['monitored']:.4f}",
            *(f"{r['headline'][m]:.4f}" if m in r["headline"] else "" for m in metric_names),
        ]
        for r in records
    ]
    return header, rows


def argument_parser():
    """Returns the command line's parser (the docs' commands are checked against it)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", help="run directories or directories holding runs (sweeps)")
    parser.add_argument("--output", type=Path, help="folder for comparison.md and .csv (default: the deepest one holding every run)")
    parser.add_argument("--overwrite", action="store_true", help="replace comparison files written before")
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


def main(argv=None):
    args = argument_parser().parse_args(argv)
    try:
        markdown_file, csv_file = output_files(args)
        header, rows = compare_runs(args.paths)
        table = markdown_table(header, rows)
        failed = failed_trials(args.paths)
        if failed:
            names = ", ".join(_display(job, output_directory(args.paths)) for job in failed)
            table += f"\n\nFailed or unfinished (no metrics.json; each one's train.log says why): {names}"
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
