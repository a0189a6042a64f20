"""`python -m zoo.compare <sweep or runs dir> [...]`: one table of runs, hyperparameters and test metrics.

Finds every run directory (one holding `metrics.json` and `config.yaml`) under the given paths,
sorts runs by their monitored validation metric (best first), and writes `comparison.md` and
`comparison.csv` next to the runs (into the first path given).
"""

import argparse
import csv
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


def _display(run, base):
    try:
        return str(run.relative_to(base)) or "."
    except ValueError:
        return str(run)


def compare_runs(paths):
    """Collects one row per run.

    Returns:
        `(header, rows)`: rows sorted by the monitored validation metric, best first; only
        hyperparameters that differ between runs get a column (plus the model name).
    """
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
            _display(r["run"], Path(paths[0])),
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
    return parser


def main(argv=None):
    args = argument_parser().parse_args(argv)
    try:
        header, rows = compare_runs(args.paths)
    except ZooError as error:
        print(f"Error: {error}", file=sys.stderr)
        raise SystemExit(1) from None
    out_dir = Path(args.paths[0]) if Path(args.paths[0]).is_dir() else Path.cwd()
    table = markdown_table(header, rows)
    (out_dir / "comparison.md").write_text(table + "\n")
    with open(out_dir / "comparison.csv", "w", newline="") as handle:
        csv.writer(handle).writerows([header, *rows])
    print(table)
    print(f"\nWrote {out_dir / 'comparison.md'} and {out_dir / 'comparison.csv'}")


if __name__ == "__main__":
    main()
