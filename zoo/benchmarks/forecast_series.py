"""`python -m zoo.bench_forecast <folder>`: every forecaster, default config, on real forecasting sets, next to published scores.

A set is a `<name>-train.csv` with a `<name>-test.csv` beside it (the M4 files' names; `_TRAIN`/`_TEST`
work too), or a `.tsf` file alone (its last horizon is the test). For each set and each model that
forecasts, runs `python train.py model=<model> data=forecast data.train_path=... data.test_path=...
data.horizon=H data.season_length=M seed=<seed>` in a process of its own (nothing else set: what a user
gets without tuning), then prints and writes a Markdown table of test sMAPE, MASE and OWA (the M4
competition's definitions) with seconds per run, followed by the published rows of the folder's README.

The horizon is `--horizon`, else each test file's series length. The season is `--season-length`,
else a "Seasonality N" line in the folder's README, else the data's own rule (`data.season_length=auto`).
Published rows are the README's Markdown table whose header holds sMAPE, MASE and OWA.
"""

import argparse
import re
import sys
import time
from pathlib import Path

from zoo.benchmarks.real_series import progress_line, run_training
from zoo.data.forecast_format import read_histories
from zoo.registry import list_models
from zoo.tasks.markdown import markdown_table

SCORES = ("smape", "mase", "owa")


def find_sets(folder):
    """Returns `{set name: (train path, test path or None)}` for every train/test CSV pair and every `.tsf` file."""
    sets = {}
    for train in sorted(Path(folder).rglob("*.csv")):
        for train_mark, test_mark in (("-train", "-test"), ("_TRAIN", "_TEST")):
            if train.stem.endswith(train_mark) and (test := train.with_name(train.name.replace(train_mark, test_mark))).is_file():
                sets[train.stem.removesuffix(train_mark)] = (train.resolve(), test.resolve())
    for tsf in sorted(Path(folder).rglob("*.tsf")):
        sets[tsf.stem] = (tsf.resolve(), None)
    return sets


def read_readme(folder):
    """Returns `(season length or None, published rows [[method, sMAPE, MASE, OWA], ...])` from the folder's README.md."""
    readme = Path(folder) / "README.md"
    if not readme.is_file():
        return None, []
    text = readme.read_text(encoding="utf-8")
    season = re.search(r"Seasonality (\d+)", text)
    rows, columns = [], None
    for line in text.splitlines():
        if not line.startswith("|"):
            columns = None
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        lowered = [cell.lower() for cell in cells]
        if columns is None and all(score in lowered for score in SCORES):
            columns = [0] + [lowered.index(score) for score in SCORES]
        elif columns is not None and not set(line) <= set("|-: "):
            rows.append([cells[index] for index in columns])
    return (int(season.group(1)) if season else None), rows


def horizon_of_test_file(test):
    """The steps each test series holds (the shortest), read from the test file."""
    return min(len(values) for values in read_histories(test).raw.series)


def run_one(model, train, test, run_dir, *, horizon, season_length, seed, timeout, overrides=()):
    """Trains `model` with its default config on one set in a subprocess.

    Returns:
        `(scores {smape, mase, owa, seasonal_naive} or None, seconds, error line or None)`.
    """
    arguments = [
        f"model={model}", "data=forecast", f"data.train_path={train}", *([f"data.test_path={test}"] if test else []),
        f"data.horizon={horizon}", *([f"data.season_length={season_length}"] if season_length else []), f"seed={seed}", *overrides,
    ]  # fmt: skip
    metrics, seconds, error = run_training(arguments, run_dir, timeout)
    if error:
        return None, seconds, error
    scores = metrics["forecast"]
    return {key: scores["model"][key] for key in SCORES} | {"seasonal_naive": scores["seasonal_naive"]}, seconds, None


def argument_parser():
    """Returns the command line's parser (the docs' commands are checked against it)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", help="a folder of <set>-train.csv/<set>-test.csv pairs or .tsf files")
    parser.add_argument("--models", nargs="*", default=list_models(head="forecast"))
    parser.add_argument("--horizon", type=int, help="steps to forecast (default: each test file's series length)")
    parser.add_argument("--season-length", type=int, help="the seasonal period (default: the README's 'Seasonality N', else auto)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=int, default=3600, help="seconds before a run is stopped and reported")
    parser.add_argument("--output", default="outputs/bench_forecast", help="where runs and bench_forecast.md go")
    parser.add_argument("overrides", nargs="*", help="Hydra overrides for every run (the published table uses none)")
    return parser


def main(argv=None):
    args = argument_parser().parse_args(argv)
    sets = find_sets(args.folder)
    if not sets:
        sys.exit(f"No <set>-train.csv with a <set>-test.csv, and no .tsf file, under {args.folder}: point at a folder of forecasting sets.")
    readme_season, published = read_readme(args.folder)
    season_length = args.season_length or readme_season
    output = Path(args.output).resolve()
    rows, notes = [], []
    total, done, started = len(sets) * len(args.models), 0, time.perf_counter()
    for name, (train, test) in sets.items():
        if args.horizon is None and test is None:
            notes.append(f"{name}: a .tsf set needs --horizon; skipped.")
            continue
        horizon = args.horizon or horizon_of_test_file(test)
        seasonal = None
        for model in args.models:
            run_dir = output / name / model
            print(progress_line(done, total, time.perf_counter() - started, f"{name} {model}", run_dir / "train.log"), flush=True)
            done += 1
            scores, seconds, error = run_one(
                model, train, test, run_dir, horizon=horizon, season_length=season_length, seed=args.seed,
                timeout=args.timeout, overrides=args.overrides,
            )  # fmt: skip
            if error:
                notes.append(f"{name} / {model}: {error}")
                rows.append([name, model, "failed", "", "", f"{seconds:.0f}"])
                continue
            seasonal = scores.pop("seasonal_naive")
            rows.append([name, model, *(f"{scores[key]:.3f}" for key in SCORES), f"{seconds:.0f}"])
            print(f"{name} {model}: sMAPE {scores['smape']:.3f}, MASE {scores['mase']:.3f}, OWA {scores['owa']:.3f} ({seconds:.0f} s)", flush=True)
        if seasonal:
            rows.append([name, "seasonal naive (same windows)", *(f"{seasonal[key]:.3f}" for key in SCORES), ""])
    table = markdown_table(["set", "model", "sMAPE", "MASE", "OWA", "seconds"], rows)
    settings = f"overrides {' '.join(args.overrides)}" if args.overrides else "default config of each model"
    text = (
        f"Test scores by the M4 competition's definitions, {settings}, seed {args.seed}, "
        f"horizon {args.horizon or 'of the test file'}, season {season_length or 'auto'}.\n\n" + table + "\n"
        + (("\nPublished (the folder's README):\n\n" + markdown_table(["method", "sMAPE", "MASE", "OWA"], published) + "\n") if published else "")
        + "".join(f"\n- {note}" for note in notes) + "\n"
    )  # fmt: skip
    output.mkdir(parents=True, exist_ok=True)
    (output / "bench_forecast.md").write_text(text)
    print("\n" + text)
    print(f"Written to {output / 'bench_forecast.md'}")


if __name__ == "__main__":
    main()
