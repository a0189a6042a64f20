"""`python -m zoo.bench`: training and inference speed, parameters and peak memory of every model.

Prints tables; figures depend on the machine, so nothing here asserts a target. First the default
model against bare Keras and PyTorch (`--compare` for only that: the zoo's model and pipeline, the
same with XLA, `python train.py` with every callback, bare Keras, PyTorch) and the start-up time; then, per
model on the default synthetic data shape (64 steps, 3 features, batch 64): parameters, training
throughput (series/s over timed epochs after a warm-up epoch), inference throughput, and peak
resident memory (each model runs in a process of its own); then it times the default
`python train.py` end to end, and measures how training scales with sequence length and batch
(`--scaling` for only that).
"""

import argparse
import importlib.metadata
import json
import math
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import keras

from zoo.benchmarks.cost import cost_breakdown
from zoo.data import make_batches, make_training_dataset, synthetic_dataset
from zoo.inference import predict
from zoo.models.inputs import input_names
from zoo.registry import create_model, list_models, model_info
from zoo.runs.directory import RunDirectory
from zoo.tasks import get_task
from zoo.tasks.markdown import markdown_table
from zoo.training.adaptive import steps_per_execution_for
from zoo.training.compile import compile_model
from zoo.training.device import configure_device, seed_everything


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
    test = make_batches(dataset.test, input_names=names, task=task, batch_size=batch_size)

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
        "peak RSS MB": f"{peak_memory_mb():,.0f}",  # each model runs in a process of its own
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


# === Peers: the same model in bare Keras and in PyTorch ===

TORCH_SCRIPT = Path(__file__).with_name("torch_peer.py")
PROJECT_ROOT = Path(__file__).resolve().parents[2]
TORCH_HINT = (
    "PyTorch not found: install its CPU wheel in another environment "
    "(python -m venv /tmp/torch && /tmp/torch/bin/pip install torch numpy --index-url "
    "https://download.pytorch.org/whl/cpu) and pass --torch-python /tmp/torch/bin/python"
)


def default_model_throughput(stack, batch_size, steps, warmup=5, length=64, cpu_seconds=None):
    """Training series/s of the default model (last_state, 64 units, Adam 3e-3, clipnorm 1) on series of 3 features.

    This machine sometimes runs the same steps at the same CPU time in up to twice the wall time
    (docs/benchmarks.md), so `cpu_seconds` (a list) also gets the process's CPU time of the timed steps.

    Args:
        stack: "zoo" (the zoo's model, compile, steps_per_execution rule and tf.data pipeline, as train.py runs them), "zoo_xla"
            (the same with `trainer.jit_compile=true`) or "keras" (the same layers as a bare
            `keras.Sequential` fed NumPy arrays, Keras' defaults).
        batch_size: int.
        steps: int. Timed optimizer steps, after `warmup` untimed ones.
        length: int. Steps per series.
    """
    keras.utils.set_random_seed(0)
    dataset = synthetic_dataset(n_samples=int(batch_size * (steps + warmup) / 0.7) + 1, length=length, seed=0)
    task = get_task("classify")
    optimizer = keras.optimizers.Adam(learning_rate=3e-3, clipnorm=1.0)
    if stack in ("zoo", "zoo_xla"):
        model = create_model("last_state", dataset.spec)
        spe = steps_per_execution_for(steps, keras.backend.backend())  # train.py's rule, over the timed steps
        compile_model(model, jit_compile=stack == "zoo_xla", optimizer=optimizer, steps_per_execution=spe, **task.compile_arguments())
        train, _ = make_training_dataset(
            dataset.train, input_names=input_names(model), task=task, batch_size=batch_size, seed=0, epochs=1
        )
        model.fit(train.take(warmup), epochs=1, steps_per_epoch=warmup, verbose=0, shuffle=False)
        timed = train.skip(warmup).take(steps)
        started, cpu_started = time.perf_counter(), time.process_time()
        model.fit(timed, epochs=1, steps_per_epoch=steps, verbose=0, shuffle=False)
    else:
        model = keras.Sequential([
            keras.Input((dataset.spec.timesteps, dataset.spec.n_features)),
            keras.layers.LSTM(64),
            keras.layers.Dense(dataset.spec.n_classes, activation="softmax"),
        ])
        model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        x, y = dataset.train.series, dataset.train.labels
        model.fit(x[: warmup * batch_size], y[: warmup * batch_size], batch_size=batch_size, epochs=1, verbose=0)
        x, y = x[warmup * batch_size : (warmup + steps) * batch_size], y[warmup * batch_size : (warmup + steps) * batch_size]
        started, cpu_started = time.perf_counter(), time.process_time()
        model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0, shuffle=True)
    seconds = time.perf_counter() - started
    if cpu_seconds is not None:
        cpu_seconds.append(time.process_time() - cpu_started)
    return steps * batch_size / seconds


def train_py_throughput(batch_size, steps, epochs=3, overrides=()):
    """Training series/s of `python train.py` itself (the default model and callbacks, TensorBoard, backups), on
    data of `steps` batches per epoch: the training series over the time between consecutive epoch lines
    of its train.log after the first epoch (so each interval holds one epoch's steps, validation and callbacks)."""
    n_samples = math.ceil(batch_size * steps / 0.7) + 1  # 70 % of the synthetic series train
    with tempfile.TemporaryDirectory() as run_dir:
        command = [sys.executable, str(PROJECT_ROOT / "train.py"), f"data.n_samples={n_samples}", f"trainer.batch_size={batch_size}",
                   f"trainer.epochs={epochs}", "seed=0", *overrides, f"hydra.run.dir={run_dir}"]  # fmt: skip
        subprocess.run(command, check=True, capture_output=True, cwd=PROJECT_ROOT)
        n_train = _training_series(run_dir)
        stamps = [_log_time(line) for line in (Path(run_dir) / "train.log").read_text().splitlines() if EPOCH_LINE.search(line)]
    intervals = [later - earlier for earlier, later in zip(stamps, stamps[1:])]
    return n_train / (sum(intervals) / len(intervals))


EPOCH_LINE = re.compile(r"\] - epoch \d+/\d+ - ")


def _log_time(line):
    """Seconds since the epoch of a train.log line's `[YYYY-MM-DD HH:MM:SS,mmm]` stamp."""
    return time.mktime(time.strptime(line[1:20], "%Y-%m-%d %H:%M:%S")) + int(line[21:24]) / 1000


def _training_series(run_dir):
    """The number of training series a run's log reports (`Data: ...; <train>/<validation>/<test> series.`)."""
    line = next(line for line in (Path(run_dir) / "train.log").read_text().splitlines() if "] - Data: " in line)
    return int(re.search(r"; (\d+)/\d+/\d+ series\.", line).group(1))


def torch_throughput(torch_python, batch_size, steps):
    """PyTorch's series/s from `zoo/benchmarks/torch_peer.py` run by `torch_python`, or None if torch is missing there."""
    command = [torch_python, str(TORCH_SCRIPT), "--batch-size", str(batch_size), "--steps", str(steps)]
    try:
        completed = subprocess.run(command, capture_output=True, text=True)
    except OSError:  # no such interpreter
        return None
    if completed.returncode != 0:
        return None
    return json.loads(completed.stdout.strip().splitlines()[-1])["series_per_second"]


def compare_with_peers(batch_sizes, steps, rounds, torch_python):
    """Measures zoo, bare Keras and PyTorch in alternating rounds and prints each figure and the ratios."""
    rows, cpu_rows = [], []
    for batch_size in batch_sizes:
        figures = {"zoo": [], "zoo_xla": [], "train_py": [], "keras": [], "torch": []}
        cpu = {"zoo": [], "keras": []}
        for _ in range(rounds):  # alternating, so a slow moment of the machine hits every stack
            for stack in ("zoo", "zoo_xla", "keras"):
                figures[stack].append(default_model_throughput(stack, batch_size, steps, cpu_seconds=cpu.get(stack)))
            figures["train_py"].append(train_py_throughput(batch_size, steps))
            torch_series_per_second = torch_throughput(torch_python, batch_size, steps)
            if torch_series_per_second is not None:
                figures["torch"].append(torch_series_per_second)
        mean = {stack: sum(values) / len(values) if values else None for stack, values in figures.items()}
        rows.append([
            str(batch_size),
            *(", ".join(f"{value:,.0f}" for value in figures[stack]) or "not installed" for stack in figures),
            f"{mean['zoo'] / mean['keras']:.2f}",
            f"{mean['train_py'] / mean['keras']:.2f}",
            f"{mean['zoo'] / mean['torch']:.2f}" if mean["torch"] else "-",
            f"{mean['zoo_xla'] / mean['torch']:.2f}" if mean["torch"] else "-",
        ])
        per_thousand = {stack: [1e6 * value / (steps * batch_size) for value in values] for stack, values in cpu.items()}
        cpu_rows.append([
            str(batch_size),
            *(", ".join(f"{value:,.0f}" for value in per_thousand[stack]) for stack in ("zoo", "keras")),
            f"{sum(per_thousand['keras']) / sum(per_thousand['zoo']):.2f}",
        ])
    header = ["batch", "zoo series/s", "zoo, XLA series/s", "train.py series/s", "bare Keras series/s", "PyTorch series/s",
              "zoo / Keras", "train.py / Keras", "zoo / PyTorch", "zoo, XLA / PyTorch"]
    print(markdown_table(header, rows))
    print("\nCPU time of the same timed steps, ms per 1,000 series (all of the process's threads; lower is better):\n")
    print(markdown_table(["batch", "zoo CPU ms", "bare Keras CPU ms", "zoo / Keras (Keras CPU over zoo CPU)"], cpu_rows))
    if not any(row[5] != "not installed" for row in rows):
        print(f"\n{TORCH_HINT}")


def time_to_first_step():
    """Seconds from launching `python train.py debug=smoke` to its first finished training step, and of `import zoo`."""
    started = time.time()
    subprocess.run([sys.executable, "-c", "import zoo"], check=True, capture_output=True)
    import_seconds = time.time() - started
    with tempfile.TemporaryDirectory() as run_dir:
        started = time.time()
        subprocess.run([sys.executable, "train.py", "debug=smoke", f"hydra.run.dir={run_dir}"], check=True, capture_output=True)
        for line in (Path(run_dir) / "train.log").read_text().splitlines():
            if "First training step done" in line:
                return _log_time(line) - started, import_seconds
    return None, import_seconds


# === Scaling with sequence length and batch ===

SCALING_LENGTHS = (64, 256, 1024, 2048)
SCALING_BATCHES = (16, 64, 256, 1024)


def scaling_point(length, batch_size, steps=10, warmup=2):
    """Training series/s of the zoo's default model on series of `length` steps at `batch_size`, and this process's peak RSS."""
    series_per_second = default_model_throughput("zoo", batch_size, steps, warmup=warmup, length=length)
    return {"length": length, "batch": batch_size, "series_per_second": series_per_second, "peak_rss_mb": peak_memory_mb()}


def measure_scaling():
    """Prints series/s and peak memory over sequence lengths (batch 64) and batches (length 64), each point in its own process."""
    points = [(length, 64) for length in SCALING_LENGTHS] + [(64, batch) for batch in SCALING_BATCHES if batch != 64]
    rows = []
    for length, batch_size in points:
        command = [sys.executable, "-m", "zoo.bench", "--one-scaling", str(length), str(batch_size)]
        completed = subprocess.run(command, capture_output=True, text=True, check=True)
        point = json.loads(completed.stdout.strip().splitlines()[-1])
        rows.append([str(length), str(batch_size), f"{point['series_per_second']:,.0f}",
                     f"{point['series_per_second'] * length:,.0f}", f"{point['peak_rss_mb']:,.0f}"])
    print(markdown_table(["length", "batch", "series/s", "steps/s (series x length)", "peak RSS MB"], rows))


def argument_parser():
    """Returns the command line's parser (the docs' commands are checked against it)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=list_models())
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--n-samples", type=int, default=4000)
    parser.add_argument("--skip-default-run", action="store_true", help="do not time python train.py")
    parser.add_argument("--compare", action="store_true", help="only the comparison with bare Keras and PyTorch")
    parser.add_argument("--compare-batch-sizes", type=int, nargs="*", default=[64, 256])
    parser.add_argument("--compare-steps", type=int, default=60)
    parser.add_argument("--compare-rounds", type=int, default=2)
    parser.add_argument("--breakdown", action="store_true", help="only where the default model's training time goes, layer by layer")
    parser.add_argument("--torch-python", default=sys.executable, help="a Python that can import torch")
    parser.add_argument("--scaling", action="store_true", help="only the scaling with sequence length and batch")
    parser.add_argument("--skip-peers", action="store_true", help="no comparison with bare Keras and PyTorch, no start-up time")
    parser.add_argument("--skip-scaling", action="store_true", help="no scaling with sequence length and batch")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--one-scaling", type=int, nargs=2, help=argparse.SUPPRESS)
    return parser


def main(argv=None):
    args = argument_parser().parse_args(argv)
    device = configure_device("auto")
    seed_everything(0)
    if args.one_scaling:
        print(json.dumps(scaling_point(*args.one_scaling)))
        return
    if args.scaling:
        measure_scaling()
        return
    if args.one:
        dataset = synthetic_dataset(n_samples=args.n_samples, seed=0)
        print(json.dumps(benchmark_model(args.one, dataset, epochs=args.epochs, batch_size=args.batch_size)))
        return
    print(f"Device: {device}; Keras {keras.__version__}; TensorFlow {importlib.metadata.version('tensorflow')}; {os.cpu_count()} CPU cores")
    if args.breakdown:
        print("\nWhere the default model's training time goes (zoo.benchmarks.cost), alternating rounds:\n")
        cost_breakdown(args.compare_batch_sizes, args.compare_steps, args.compare_rounds)
        return
    if not args.skip_peers:
        print("\nThe default model (last_state) against peers, training throughput, alternating rounds:\n")
        compare_with_peers(args.compare_batch_sizes, args.compare_steps, args.compare_rounds, args.torch_python)
        first_step, import_seconds = time_to_first_step()
        print(f"\nStart-up: import zoo {import_seconds:.1f} s; python train.py debug=smoke to its first training step "
              f"{first_step:.1f} s" if first_step is not None else "\nStart-up: unknown (the smoke run logged no first step)")
    if args.compare:
        return
    print(f"\nSynthetic data: {args.n_samples} series x 64 steps x 3 features, batch {args.batch_size}, {args.epochs} timed epochs\n")
    rows = [_run_isolated(name, args) for name in args.models]
    header = list(rows[0])
    print(markdown_table(header, [[row[key] for key in header] for row in rows]))
    if not args.skip_default_run:
        seconds, metrics = time_default_run()
        print(
            f"\npython train.py (default model and data, end to end): {seconds:.1f} s, "
            f"{metrics['epochs_run']} epochs, test accuracy {metrics['test']['accuracy']:.4f}"
        )
    if not args.skip_scaling:
        print("\nScaling of the default model with sequence length (batch 64) and batch (length 64), 10 timed steps:\n")
        measure_scaling()


if __name__ == "__main__":
    main()
