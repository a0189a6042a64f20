"""`python -m zoo.gpu_check <folder>`: what the zoo does on this machine's GPU, in one command of a few minutes.

Writes `<folder>/gpu_check.md` and `gpu_check.json`: the device and library versions; for each
Keras backend installed, a short training of every model on the GPU, whether each recurrent layer
meets cuDNN's conditions, `last_state`'s training and inference throughput at batch 64, 256 and
1024 (float32 and mixed_bfloat16, right-padded with masks and of equal lengths) and the peak GPU
memory; PyTorch's `nn.LSTM` at the same sizes where torch is installed; the default synthetic
run's test accuracy and wall time. Without a GPU it runs the same steps at tiny sizes (its test
does), with the GPU rows marked absent. Each backend runs in a process of its own (Keras picks
its backend once); none needs TensorFlow unless it is the TensorFlow backend.
"""

import argparse
import importlib.metadata
import importlib.util
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
BACKENDS = ("tensorflow", "jax", "torch")
PACKAGES = ("keras", "tensorflow", "jax", "jaxlib", "torch", "tensorboard", "numpy", "hydra-core", "omegaconf")
# What a bare CUDA machine with JAX, PyTorch and TensorBoard lacks to run the zoo (`make gpu-wheels` fetches them).
GPU_WHEELS = ("keras", "namex", "optree", "hydra-core", "omegaconf")
# (batch sizes, optimizer steps timed per model and per throughput point, series length) on a GPU and on a CPU.
SIZES = {"gpu": ((64, 256, 1024), 20, 64), "cpu": ((8,), 2, 16)}


def gpu_name():
    """The GPU's name and memory as nvidia-smi reports them, or None without one."""
    if shutil.which("nvidia-smi") is None:
        return None
    completed = subprocess.run(["nvidia-smi", "--query-gpu=name,memory.total", "--format=csv,noheader"], capture_output=True, text=True)
    return completed.stdout.strip().splitlines()[0] if completed.returncode == 0 and completed.stdout.strip() else None


def versions():
    """Installed versions of the libraries the zoo may use (None where missing)."""
    found = {}
    for package in PACKAGES:
        try:
            found[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            found[package] = None
    return found


# === One backend, in its own process ===


def peak_memory_mb(device):
    """Peak memory of this process's accelerator (GPU) or resident memory (CPU), in MB."""
    import keras

    if device == "GPU" and keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2**20
    if device == "GPU" and keras.backend.backend() == "jax":
        import jax

        return (jax.devices()[0].memory_stats() or {}).get("peak_bytes_in_use", 0) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def series_per_second(model, dataset, task, batch_size, steps, train):
    """Training (or inference) series per second over `steps` batches after two untimed ones."""
    from zoo.data.pipeline import model_inputs
    from zoo.models.inputs import input_names

    inputs = model_inputs(dataset.train, input_names(model))
    targets = task.targets(dataset.train)
    rows = slice(0, batch_size * (steps + 2))
    inputs = {name: value[rows] for name, value in inputs.items()}
    if train:
        model.fit(inputs, targets[rows], batch_size=batch_size, epochs=1, verbose=0, steps_per_epoch=2)
        started = time.perf_counter()
        model.fit(inputs, targets[rows], batch_size=batch_size, epochs=1, verbose=0, steps_per_epoch=steps)
    else:
        model.predict({name: value[: 2 * batch_size] for name, value in inputs.items()}, batch_size=batch_size, verbose=0)
        started = time.perf_counter()
        model.predict(inputs, batch_size=batch_size, verbose=0, steps=steps)
    return steps * batch_size / (time.perf_counter() - started)


def check_backend(size, models):
    """Trains each of `models` briefly and times `last_state` on the running backend; returns a JSON-ready dict."""
    import keras

    from zoo import create_model, get_task, list_models, model_info
    from zoo.data import synthetic_dataset
    from zoo.training.compile import compile_model, resolve_jit_compile
    from zoo.training.device import configure_device, cudnn_problems, recurrent_layers

    device = configure_device("auto", "float32")
    batches, steps, length = SIZES["gpu" if device == "GPU" else "cpu"]
    n_samples = int(max(batches) * (steps + 2) / 0.7) + 2
    equal = synthetic_dataset(n_samples=n_samples, length=length, n_static=0, seed=0)
    padded = synthetic_dataset(n_samples=n_samples, length=length, min_length=length // 2, seed=0)
    jit = resolve_jit_compile("auto")
    result = {"backend": keras.backend.backend(), "device": device, "jit_compile": jit, "models": {}, "last_state": []}
    for name in models or list_models():
        info = model_info(name)
        task = get_task(info.default_head)
        options = {**info.test_options} if size == "tiny" else {}
        started = time.perf_counter()
        try:
            model = create_model(name, padded.spec, head=info.default_head, **options)
            compile_model(model, jit_compile=jit, optimizer=keras.optimizers.Adam(1e-3), **task.compile_arguments(padded.spec))
            seconds_per_step = batches[0] / series_per_second(model, padded, task, batches[0], steps, train=True)
            cudnn = {layer.name: cudnn_problems(layer) or "meets cuDNN's conditions" for layer in recurrent_layers(model)}
            result["models"][name] = {"seconds_per_step": seconds_per_step, "recurrent_layers": cudnn, "error": None}
        except Exception as error:  # a model that fails here is the finding; the check goes on
            result["models"][name] = {"error": f"{type(error).__name__}: {str(error).splitlines()[0][:300]}"}
        result["models"][name]["seconds"] = time.perf_counter() - started
    task = get_task("classify")
    for precision in ("float32", "mixed_bfloat16"):
        keras.mixed_precision.set_global_policy(precision)
        for data_name, data in (("equal lengths", equal), ("padded with masks", padded)):
            for batch_size in batches:
                model = create_model("last_state", data.spec)
                compile_model(model, jit_compile=jit, optimizer=keras.optimizers.Adam(1e-3), **task.compile_arguments(data.spec))
                result["last_state"].append({
                    "precision": precision, "data": data_name, "batch_size": batch_size,
                    "train_series_per_second": series_per_second(model, data, task, batch_size, steps, train=True),
                    "inference_series_per_second": series_per_second(model, data, task, batch_size, steps, train=False),
                })  # fmt: skip
    keras.mixed_precision.set_global_policy("float32")
    result["peak_memory_mb"] = peak_memory_mb(device)
    return result


# === The whole check ===


def run_backend(backend, folder, size, models):
    """Runs `check_backend` under `KERAS_BACKEND=backend` in a subprocess; returns its dict or an error dict."""
    output = folder / f"backend_{backend}.json"
    command = [sys.executable, "-m", "zoo.gpu_check", str(folder), "--backend-worker", backend, "--size", size, "--models", *models]
    started = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "KERAS_BACKEND": backend}, cwd=PROJECT_ROOT)
    if completed.returncode or not output.is_file():
        lines = (completed.stderr or completed.stdout).strip().splitlines() or ["no output"]
        return {"backend": backend, "error": lines[-1], "seconds": time.perf_counter() - started}
    return {**json.loads(output.read_text()), "seconds": time.perf_counter() - started}


def run_torch_peer(device, size):
    """PyTorch's nn.LSTM at the check's batch sizes (`zoo/benchmarks/torch_peer.py`), or None without torch."""
    if importlib.util.find_spec("torch") is None:
        return None
    batches, steps, length = SIZES[size]
    rows = []
    for batch_size in batches:
        command = [sys.executable, str(PROJECT_ROOT / "zoo" / "benchmarks" / "torch_peer.py"), "--batch-size", str(batch_size),
                   "--steps", str(steps), "--length", str(length), "--device", "cuda" if device else "cpu"]  # fmt: skip
        completed = subprocess.run(command, capture_output=True, text=True)
        rows.append({"batch_size": batch_size, **(json.loads(completed.stdout.splitlines()[-1]) if completed.returncode == 0 else {"error": completed.stderr.strip()[-300:]})})
    return rows


def run_default_training(folder, gpu):
    """`python train.py` (on a CPU: `debug=smoke`) into `<folder>/default_run`; returns its test scores and wall time."""
    run_dir = folder / "default_run"
    command = [sys.executable, str(PROJECT_ROOT / "train.py"), f"hydra.run.dir={run_dir}", *([] if gpu else ["debug=smoke"])]
    started = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, cwd=PROJECT_ROOT)
    seconds = time.perf_counter() - started
    if completed.returncode:
        return {"command": " ".join(command[1:]), "error": (completed.stderr.strip().splitlines() or ["no output"])[-1], "seconds": seconds}
    metrics = json.loads((run_dir / "metrics.json").read_text())
    return {"command": " ".join(command[1:]), "test": metrics["test"], "epochs_run": metrics["epochs_run"], "seconds": seconds}


def markdown(report):
    """The report as Markdown."""
    gpu = report["gpu"] or "absent (no GPU: tiny sizes, every GPU row below ran on the CPU)"
    lines = [f"# GPU check, {report['date']}", "", f"GPU: {gpu}. Python {report['python']}, {report['platform']}.", ""]
    lines += ["| library | version |", "|---|---|"] + [f"| {name} | {version or 'absent'} |" for name, version in report["versions"].items()]
    for result in report["backends"]:
        lines += ["", f"## Keras on {result['backend']}", ""]
        if "error" in result and "models" not in result:
            lines.append(f"Not run: {result['error']}")
            continue
        lines.append(f"Device {result['device']}, XLA {result['jit_compile']}, peak memory {result['peak_memory_mb']:.0f} MB, {result['seconds']:.0f} s.")
        if result["backend"] == "jax":
            lines.append("On JAX, Keras routes unmasked LSTMs and GRUs to cuDNN; masked (padded) inputs take the generic loop: compare the two data rows below.")
        lines += ["", "| model | s per step | recurrent layers | error |", "|---|---|---|---|"]
        for name, row in result["models"].items():
            layers = "; ".join(f"{layer}: {', '.join(problems) if isinstance(problems, list) else problems}" for layer, problems in (row.get("recurrent_layers") or {}).items())
            step = f"{row['seconds_per_step']:.4f}" if row.get("seconds_per_step") else "-"
            lines.append(f"| {name} | {step} | {layers or '-'} | {row['error'] or ''} |")
        lines += ["", "| last_state | data | batch | train series/s | inference series/s |", "|---|---|---|---|---|"]
        lines += [f"| {row['precision']} | {row['data']} | {row['batch_size']} | {row['train_series_per_second']:,.0f} | {row['inference_series_per_second']:,.0f} |" for row in result["last_state"]]
    lines += ["", "## PyTorch nn.LSTM (the same sizes)", ""]
    if report["torch_peer"] is None:
        lines.append("torch is not installed here.")
    else:
        lines += ["| batch | train series/s | inference series/s | device |", "|---|---|---|---|"]
        lines += [f"| {row['batch_size']} | {row.get('series_per_second', 0):,.0f} | {row.get('inference_series_per_second', 0):,.0f} | {row.get('device', row.get('error'))} |" for row in report["torch_peer"]]
    default = report["default_run"]
    lines += ["", "## The default run", "", f"`{default['command']}`: " + (f"failed: {default['error']}" if "error" in default else f"test {default['test']}, {default['epochs_run']} epochs, {default['seconds']:.0f} s."), ""]
    return "\n".join(lines)


def argument_parser():
    """Returns the command line's parser (the docs' commands are checked against it)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", help="where gpu_check.md and gpu_check.json go")
    parser.add_argument("--pins", action="store_true", help="print the wheels a bare CUDA machine needs, pinned to this environment's versions")
    parser.add_argument("--models", nargs="*", default=[], help="only these models (default: every one)")
    parser.add_argument("--backend-worker", help=argparse.SUPPRESS)
    parser.add_argument("--size", default=None, help=argparse.SUPPRESS)
    return parser


def main(argv=None):
    parser = argument_parser()
    args = parser.parse_args(argv)
    if args.pins:
        print(" ".join(f"{name}=={importlib.metadata.version(name)}" for name in GPU_WHEELS))
        return
    if not args.folder:
        parser.error("give the folder the report goes to: python -m zoo.gpu_check <folder>")
    folder = Path(args.folder).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    if args.backend_worker:
        result = check_backend(args.size, args.models)
        (folder / f"backend_{args.backend_worker}.json").write_text(json.dumps(result, indent=2))
        return
    gpu = gpu_name()
    size = "gpu" if gpu else "cpu"
    started = time.perf_counter()
    report = {"date": time.strftime("%Y-%m-%d %H:%M"), "gpu": gpu, "python": platform.python_version(), "platform": platform.platform(), "versions": versions()}
    report["backends"] = []
    for backend in BACKENDS:
        if importlib.util.find_spec(backend) is None:
            report["backends"].append({"backend": backend, "error": f"{backend} is not installed"})
        else:
            print(f"Checking Keras on {backend} ...", flush=True)
            report["backends"].append(run_backend(backend, folder, "tiny" if size == "cpu" else "full", args.models))
    print("PyTorch's nn.LSTM ...", flush=True)
    report["torch_peer"] = run_torch_peer(bool(gpu), size)
    print("The default run ...", flush=True)
    report["default_run"] = run_default_training(folder, bool(gpu))
    report["seconds"] = time.perf_counter() - started
    (folder / "gpu_check.json").write_text(json.dumps(report, indent=2))
    (folder / "gpu_check.md").write_text(markdown(report))
    print(markdown(report))
    print(f"Written to {folder / 'gpu_check.md'} and gpu_check.json ({report['seconds']:.0f} s).")


if __name__ == "__main__":
    main()
