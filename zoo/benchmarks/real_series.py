"""`python -m zoo.bench_real <folder>`: every classifier, default config, on real `.ts` sets, next to published accuracy.

For each `<name>_TRAIN.ts` / `<name>_TEST.ts` pair under the folder and each classifier, runs
`python train.py data=ts data.train_path=... data.test_path=... model=<model> seed=<seed>` in a
process of its own (nothing else set: this is what a user gets without tuning), then prints and
writes a Markdown table of test accuracy and seconds per run. `--seed 0 1 2` trains each cell once
per seed and reports the mean, the standard deviation and each seed's accuracy: on 50 test series
one series is 0.02, so single-seed differences of a few series are noise. Published figures come from
`published.csv` (`set,accuracy`) in the folder, else from a Markdown table in its README.md whose
header has a "set" column and a column with "published" in its name.
"""

import argparse
import csv
import json
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

from zoo.registry import list_models
from zoo.tasks.markdown import markdown_table

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def find_sets(folder):
    """Returns `{set name: (train path, test path)}` for every `*_TRAIN.ts` with a `*_TEST.ts` beside it."""
    sets = {}
    for train in sorted(Path(folder).rglob("*_TRAIN.ts")):
        test = train.with_name(train.name.replace("_TRAIN.ts", "_TEST.ts"))
        if test.is_file():
            sets[train.name.removesuffix("_TRAIN.ts")] = (train.resolve(), test.resolve())
    return sets


def read_published(folder):
    """Returns `{set name: published accuracy}` from the folder's `published.csv` or README.md table."""
    folder = Path(folder)
    if (folder / "published.csv").is_file():
        with open(folder / "published.csv", newline="") as handle:
            return {row["set"]: float(row["accuracy"]) for row in csv.DictReader(handle)}
    readme = folder / "README.md"
    if not readme.is_file():
        return {}
    published, columns = {}, None
    for line in readme.read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            columns = None
            continue
        cells = [cell.strip().strip("`") for cell in line.strip().strip("|").split("|")]
        if columns is None:
            lowered = [cell.lower() for cell in cells]
            if "set" in lowered and any("published" in cell for cell in lowered):
                columns = (lowered.index("set"), next(i for i, c in enumerate(lowered) if "published" in c))
            continue
        name_column, value_column = columns
        if len(cells) > value_column and re.fullmatch(r"\d*\.\d+|\d+", cells[value_column]):
            published[cells[name_column]] = float(cells[value_column])
    return published


def run_training(arguments, run_dir, timeout):
    """Runs `python train.py <arguments> hydra.run.dir=<run_dir>` in a subprocess (what a user would type).

    Returns:
        `(metrics.json as a dict or None, seconds, error line or None)`.
    """
    command = [sys.executable, str(PROJECT_ROOT / "train.py"), *arguments, f"hydra.run.dir={run_dir}"]
    started = time.perf_counter()
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=PROJECT_ROOT)
    except subprocess.TimeoutExpired:
        return None, time.perf_counter() - started, f"stopped after {timeout} s"
    seconds = time.perf_counter() - started
    metrics_path = Path(run_dir) / "metrics.json"
    if result.returncode or not metrics_path.is_file():
        lines = (result.stderr or result.stdout).strip().splitlines() or ["no output"]
        return None, seconds, lines[-1]
    return json.loads(metrics_path.read_text()), seconds, None


def run_one(model, train, test, run_dir, *, seed, timeout, overrides=(), ensemble=1):
    """Trains `model` with its default config (plus any `overrides`) in a subprocess.

    Args:
        ensemble: int. Members (`trainer.ensemble`); above 1 the members' accuracies come back too.

    Returns:
        `(test accuracy or None, seconds, epochs run or None, error line or None, members' test accuracies or None)`.
    """
    arguments = ["data=ts", f"data.train_path={train}", f"data.test_path={test}", f"model={model}", f"seed={seed}", *overrides]
    if ensemble > 1:
        arguments.append(f"trainer.ensemble={ensemble}")
    metrics, seconds, error = run_training(arguments, run_dir, timeout)
    if error:
        return None, seconds, None, error, None
    members = [scores["accuracy"] for scores in metrics["ensemble"]["test"]] if "ensemble" in metrics else None
    return metrics["test"]["accuracy"], seconds, metrics["epochs_run"], None, members


def progress_line(done, total, elapsed, what, log):
    """`Run 3 of 12: OSULeaf fcn seed 0 (log: <run>/train.log); 2 min 10 s so far, about 6 min 30 s left.`"""

    def minutes(seconds):
        return f"{int(seconds // 60)} min {int(seconds % 60)} s"

    left = f", about {minutes(elapsed / done * (total - done))} left" if done else ""
    return f"Run {done + 1} of {total}: {what} (log: {log}); {minutes(elapsed)} so far{left}."


def format_cell(results):
    """Formats one table cell from `[(accuracy or None, seconds, epochs or None, error or None[, members' accuracies])]`, one per seed.

    One seed: `0.720 (206 s, 286 ep, 0.7 s/ep)`. Several: `0.713 ± 0.012 (3 seeds: 0.720 0.720 0.700; 210 s per run)`,
    the sample standard deviation over the seeds that finished. A failed run shows as `failed (<seconds> s)`.
    An ensemble's cell adds its members' mean ± sd and each member's accuracy:
    `0.760 (206 s, 1430 ep over 5 members; members 0.724 ± 0.017: 0.700 0.720 ...)`.
    """
    finished = [result for result in results if result[3] is None]
    members = [accuracy for result in finished if len(result) > 4 and result[4] for accuracy in result[4]]
    if len(results) == 1:
        accuracy, seconds, epochs, error = results[0][:4]
        if error:
            return f"failed ({seconds:.0f} s)"
        if not members:
            return f"{accuracy:.3f} ({seconds:.0f} s, {epochs} ep, {seconds / epochs:.1f} s/ep)"
        return (
            f"{accuracy:.3f} ({seconds:.0f} s, {epochs} ep over {len(members)} members; members "
            f"{statistics.mean(members):.3f} ± {statistics.stdev(members):.3f}: {' '.join(f'{a:.3f}' for a in members)})"
        )
    if not finished:
        return f"failed ({len(results)} seeds)"
    accuracies = [result[0] for result in finished]
    spread = statistics.stdev(accuracies) if len(accuracies) > 1 else 0.0
    each = " ".join(f"{result[0]:.3f}" if result[3] is None else "failed" for result in results)
    seconds = statistics.mean(result[1] for result in results)
    of_members = f"; members {statistics.mean(members):.3f} ± {statistics.stdev(members):.3f}" if len(members) > 1 else ""
    return f"{statistics.mean(accuracies):.3f} ± {spread:.3f} ({len(results)} seeds: {each}; {seconds:.0f} s per run{of_members})"


def argument_parser():
    """Returns the command line's parser (the docs' commands are checked against it)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", help="a folder holding <set>_TRAIN.ts and <set>_TEST.ts pairs (any depth)")
    parser.add_argument("--models", nargs="*", default=list_models(head="classify"))
    parser.add_argument("--sets", nargs="*", help="only these set names, in this order")
    parser.add_argument("--seed", type=int, nargs="+", default=[0], help="one or more seeds; several give mean ± sd per cell")
    parser.add_argument("--ensemble", type=int, default=1, help="members per run (trainer.ensemble); the cell adds the members' accuracies")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds per model (per member of an ensemble) before a run is stopped and reported")
    parser.add_argument("--output", default="outputs/bench_real", help="where runs and bench_real.md go")
    parser.add_argument("overrides", nargs="*", help="Hydra overrides for every run (the published table uses none)")
    return parser


def main(argv=None):
    args = argument_parser().parse_args(argv)
    sets = find_sets(args.folder)
    if args.sets:  # in the order given
        sets = {name: sets[name] for name in args.sets if name in sets}
    if not sets:
        sys.exit(f"No <set>_TRAIN.ts with a matching <set>_TEST.ts under {args.folder}: point at a folder of .ts pairs.")
    published = read_published(args.folder)
    output = Path(args.output).resolve()
    header = ["set", "published", *args.models]
    rows, notes = [], []
    total, done, started = len(sets) * len(args.models) * len(args.seed), 0, time.perf_counter()
    for name, (train, test) in sets.items():
        row = [name, f"{published[name]:.3f}" if name in published else "-"]
        for model in args.models:
            results = []
            for seed in args.seed:
                run_dir = output / name / model / (f"seed_{seed}" if len(args.seed) > 1 else "")
                print(progress_line(done, total, time.perf_counter() - started, f"{name} {model} seed {seed}", run_dir / "train.log"), flush=True)
                done += 1
                results.append(
                    run_one(model, train, test, run_dir, seed=seed, timeout=args.timeout * args.ensemble, overrides=args.overrides, ensemble=args.ensemble)
                )
                if results[-1][3]:
                    notes.append(f"{name} / {model} / seed {seed}: {results[-1][3]}")
            row.append(format_cell(results))
            print(f"{name} {model}: {row[-1]}", flush=True)
        rows.append(row)
    table = markdown_table(header, rows)
    settings = f"overrides {' '.join(args.overrides)}" if args.overrides else "default config of each model"
    if args.ensemble > 1:
        settings += f", ensembles of {args.ensemble} (trainer.ensemble)"
    text = (
        f"Test accuracy (wall-clock seconds per run with start-up and scoring, epochs run, seconds per epoch), "
        f"{settings}, seed {' '.join(map(str, args.seed))}.\n\n"
        + table + "\n" + "".join(f"\n- {note}" for note in notes) + "\n"
    )  # fmt: skip
    output.mkdir(parents=True, exist_ok=True)
    (output / "bench_real.md").write_text(text)
    print("\n" + text)
    print(f"Written to {output / 'bench_real.md'}")


if __name__ == "__main__":
    main()
