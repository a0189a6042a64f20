"""`python -m zoo.benchmarks.shape_sets <folder>`: writes seeded multivariate, variable-length .ts sets
for checking the data-shaped defaults (`data.normalize=auto`, lstm_fcn's `dimension_shuffle=auto`)
with `python -m zoo.bench_real <folder>`.

Two sets of the same shape (12 channels, 8 to 30 steps, 9 classes, 270 training and 370 test
series), with the class in different places:
- `Levels`: each class has its own level per channel and a weak per-channel trend; the channels
  have their own units (scales from 0.1 to 10, offsets up to 5). Levels carry the class.
- `Shapes`: each class has its own waveform per channel; every series gets a random level and
  scale per channel. Levels are nuisance and only the shape carries the class.
"""

import argparse
from pathlib import Path

import numpy as np

N_CHANNELS = 12
N_CLASSES = 9
SHORTEST, LONGEST = 8, 30
SPLITS = {"TRAIN": 270, "TEST": 370}


def level_series(rng, prototypes, label, length):
    """One `Levels` series `(length, channels)`: its class's levels and trend, jittered, with noise."""
    levels, trends = prototypes
    time = np.linspace(0.0, 1.0, length)[:, None]
    jitter = rng.normal(0.0, 0.4, size=(1, N_CHANNELS))
    return levels[label] + jitter + trends[label] * time + rng.normal(0.0, 0.4, size=(length, N_CHANNELS))


def shape_series(rng, prototypes, label, length):
    """One `Shapes` series `(length, channels)`: its class's waveforms at a random level and scale."""
    frequencies, phases = prototypes
    time = np.arange(length)[:, None]
    wave = np.sin(2 * np.pi * frequencies[label] * time / 12.0 + phases[label])
    level = rng.normal(0.0, 2.0, size=(1, N_CHANNELS))
    scale = 10 ** rng.uniform(-0.5, 0.5, size=(1, N_CHANNELS))
    return level + scale * (wave + rng.normal(0.0, 0.4, size=(length, N_CHANNELS)))


def write_ts(path, name, series, labels):
    """Writes series (a list of `(length, channels)` arrays) and labels in the UEA .ts format."""
    lines = [
        f"@problemName {name}",
        "@timeStamps false",
        "@missing false",
        "@univariate false",
        f"@dimensions {N_CHANNELS}",
        "@equalLength false",
        f"@classLabel true {' '.join(str(k) for k in range(N_CLASSES))}",
        "@data",
    ]
    for values, label in zip(series, labels):
        channels = [",".join(f"{v:.4f}" for v in values[:, c]) for c in range(N_CHANNELS)]
        lines.append(":".join(channels) + f":{label}")
    path.write_text("\n".join(lines) + "\n")


def write_sets(folder, seed=0):
    """Writes `<folder>/<Set>/<Set>_TRAIN.ts` and `_TEST.ts` for both sets.

    Returns:
        The folders written.
    """
    rng = np.random.default_rng(seed)
    sets = {
        "Levels": (
            level_series,
            (
                rng.normal(0.0, 1.0, size=(N_CLASSES, 1, N_CHANNELS)) * 10 ** rng.uniform(-1, 1, size=(1, 1, N_CHANNELS))
                + rng.uniform(-5, 5, size=(1, 1, N_CHANNELS)),
                rng.normal(0.0, 0.5, size=(N_CLASSES, 1, N_CHANNELS)),
            ),
        ),
        "Shapes": (
            shape_series,
            (rng.uniform(0.5, 3.0, size=(N_CLASSES, 1, N_CHANNELS)), rng.uniform(0, 2 * np.pi, size=(N_CLASSES, 1, N_CHANNELS))),
        ),
    }
    written = []
    for name, (make, prototypes) in sets.items():
        target = Path(folder) / name
        target.mkdir(parents=True, exist_ok=True)
        for split, count in SPLITS.items():
            labels = rng.integers(0, N_CLASSES, size=count)
            lengths = rng.integers(SHORTEST, LONGEST + 1, size=count)
            series = [make(rng, prototypes, label, length) for label, length in zip(labels, lengths)]
            write_ts(target / f"{name}_{split}.ts", name, series, labels)
        written.append(target)
    return written


def argument_parser():
    """Returns the command line's parser (the docs' commands are checked against it)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", help="where the set folders go")
    parser.add_argument("--seed", type=int, default=0)
    return parser


def main(argv=None):
    args = argument_parser().parse_args(argv)
    for target in write_sets(args.folder, args.seed):
        print(target)


if __name__ == "__main__":
    main()
