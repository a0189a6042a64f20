"""`python -m zoo.bench`: training and inference speed, parameters and peak memory of every model.

Prints one table; figures depend on the machine, so nothing here asserts a target. Measures, per
model on the default synthetic data shape (64 steps, 3 features, batch 64): parameters, training
throughput (series/s over timed epochs after a warm-up epoch), inference throughput, and peak
resident memory (each model runs in a process of its own). Then it times the default
`python train.py` end to end.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import keras
import tensorflow as tf

from zoo.data import make_tf_dataset, make_training_dataset, synthetic_dataset
from zoo.data.pipeline import input_names
from zoo.device import configure_device, seed_everything
from zoo.markdown import markdown_table
from zoo.prediction import predict
from zoo.registry import create_model, list_models, model_info
from zoo.run_directory import RunDirectory
from zoo.tasks import get_task


def peak_memory_mb():
    """Peak resident set size of this process so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def benchmark_model(name, dataset, *, epochs, batch_size):
    """Trains `name` for `epochs` timed epochs (after one warm-up) and times inference on the test split.

    Returns:
        Dict of figures for one table row.
    """
    info = model_info(name)
    task = get_task(info.default_head)
    model = create_model(name, dataset.spec, head=task.name)
    model.compile(optimizer="adam", **task.compile_arguments())
    names = input_names(model)
    train, steps = make_training_dataset(
        dataset.train, input_names=names, task=task, batch_size=batch_size, seed=0, epochs=epochs + 1
    )
    model.fit(train, epochs=1, steps_per_epoch=steps, verbose=0)  # warm-up: tracing and graph building
    started = time.perf_counter()
    model.fit(train, epochs=epochs + 1, initial_epoch=1, steps_per_epoch=steps, verbose=0)
    train_seconds = time.perf_counter() - started
    test = make_tf_dataset(dataset.test, input_names=names, task=task, batch_size=batch_size)

    def infer():
        if info.forecaster is not None:
            return predict(model, dataset.test, batch_size)
        return model.predict(test, verbose=0)

    infer()  # warm-up: tracing
    started = time.perf_counter()
    infer()
    infer_seconds = time.perf_counter() - started
    return {
        "model": name,
        "params": f"{model.count_params():,}",
        "train series/s": f"{epochs * len(dataset.train) / train_seconds:,.0f}",
        "s/epoch": f"{train_seconds / epochs:.2f}",
        "inference series/s": f"{len(dataset.test) / infer_seconds:,.0f}" + (f" ({info.decoding})" if info.forecaster else ""),
        "peak RSS MB": f"{peak_memory_mb():,.0f}",  # measured in a process of its own
    }


def _run_isolated(name, args):
    """Benchmarks one model in a fresh process, so its peak memory is its own."""
    command = [sys.executable, "-m", "zoo.bench", "--one", name, "--epochs", str(args.epochs),
               "--batch-size", str(args.batch_size), "--n-samples", str(args.n_samples)]
    completed = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(completed.stdout.strip().splitlines()[-1])


def time_default_run():
    """Times `python train.py` (the default model and data) end to end, start-up included."""
    with tempfile.TemporaryDirectory() as run_dir:
        started = time.perf_counter()
        subprocess.run([sys.executable, "train.py", f"hydra.run.dir={run_dir}"], check=True, capture_output=True)
        seconds = time.perf_counter() - started
        run = RunDirectory(run_dir)
        metrics = run.read_json(run.metrics)
    return seconds, metrics


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=list_models())
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--n-samples", type=int, default=4000)
    parser.add_argument("--skip-default-run", action="store_true", help="do not time python train.py")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    device = configure_device("auto")
    seed_everything(0)
    if args.one:
        dataset = synthetic_dataset(n_samples=args.n_samples, seed=0)
        print(json.dumps(benchmark_model(args.one, dataset, epochs=args.epochs, batch_size=args.batch_size)))
        return
    print(f"Device: {device}; Keras {keras.__version__}; TensorFlow {tf.__version__}; {os.cpu_count()} CPU cores")
    print(f"Synthetic data: {args.n_samples} series x 64 steps x 3 features, batch {args.batch_size}, {args.epochs} timed epochs\n")
    rows = [_run_isolated(name, args) for name in args.models]
    header = list(rows[0])
    print(markdown_table(header, [[row[key] for key in header] for row in rows]))
    if not args.skip_default_run:
        seconds, metrics = time_default_run()
        print(
            f"\npython train.py (default model and data, end to end): {seconds:.1f} s, "
            f"{metrics['epochs_run']} epochs, test accuracy {metrics['test']['accuracy']:.4f}"
        )


if __name__ == "__main__":
    main()
