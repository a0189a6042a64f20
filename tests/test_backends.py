"""JAX as a second backend: every model, head, mask and static mode trains on it, `.keras` files cross
backends with the same predictions, and a run records the backend it trained on."""

import json
import os
import shutil
import subprocess
import sys
import zipfile

import keras
import numpy as np
import pytest
import yaml
from backend_checks import cases, dataset, predict
from conftest import ROOT, run_cli, train_in_process
from model_checks import toy_batch
from omegaconf import OmegaConf
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from zoo import ZooError, create_model, list_models, load_run, model_info
from zoo.inference import evaluate_splits
from zoo.tensorboard_logger import flat_hparams
from zoo.training.compile import resolve_jit_compile
from zoo.training.device import check_backend

pytestmark = pytest.mark.slow

JAX = {"KERAS_BACKEND": "jax"}
# XLA's quickest compilation: the checks' toy models compile far longer than they run (docs/test-suite.md).
QUICK_COMPILATION = {"XLA_FLAGS": "--xla_backend_optimization_level=0 --xla_llvm_disable_expensive_passes=true"}


@pytest.fixture(scope="session")  # made once per test process, however its tests are ordered
def swapped(tmp_path_factory):
    """Saves every case built here (TensorFlow), then runs tests/backend_checks.py on JAX, which
    predicts with them and trains, checks and saves its own.

    Returns:
        (folder, this backend's predictions of its own models by case).
    """
    folder = tmp_path_factory.mktemp("backends")
    (folder / "from_other").mkdir()
    mine = {}
    for case, name, head, options in cases():
        data = dataset(head)
        keras.utils.set_random_seed(0)
        model = create_model(name, data.spec, head=head, **options)
        inputs, _ = toy_batch(model, data, head)
        model.save(folder / "from_other" / f"{case}.keras")
        np.savez(folder / "from_other" / f"{case}_inputs.npz", **inputs)
        mine[case] = predict(model, name, inputs)
    completed = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "backend_checks.py"), str(folder)],
        cwd=ROOT, capture_output=True, text=True, env={**os.environ, **JAX, **QUICK_COMPILATION}, timeout=900,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return folder, mine, completed.stdout


def test_every_model_head_mask_and_static_mode_trains_on_jax(swapped):
    _, _, printed = swapped
    masked = {case: head == model_info(name).default_head for case, name, head, _ in cases()}
    assert printed.splitlines() == [f"{case}: trained{' and masked correctly' if masked[case] else ''} on jax" for case in masked]
    assert sum(masked.values()) >= len(list_models())  # every model's default head, and every initial-state case
    assert {case.split("-")[1] for case, *_ in cases()} == {"classify", "forecast", "regress", "initial_state"}
    assert {name for _, name, *_ in cases()} == set(list_models())


def test_tensorflow_models_predict_the_same_on_jax(swapped):
    folder, mine, _ = swapped
    for case, expected in mine.items():
        np.testing.assert_allclose(np.load(folder / "from_other" / f"{case}_here.npy"), expected, atol=1e-5, err_msg=case)


def test_jax_models_predict_the_same_on_tensorflow(swapped):
    folder = swapped[0] / "from_here"
    for case, name, *_ in cases():
        # Predicting needs no optimizer, and JAX's jit_compile=True would only warn on TensorFlow.
        model = keras.saving.load_model(folder / f"{case}.keras", compile=False)
        inputs = dict(np.load(folder / f"{case}_inputs.npz"))
        np.testing.assert_allclose(predict(model, name, inputs), np.load(folder / f"{case}_predictions.npy"), atol=1e-5, err_msg=case)


BLOCKED = "tests/without_tensorflow.py"  # runs a command as if TensorFlow were not installed
TINY = ["data=ts", "data.train_path=data/examples/tiny_TRAIN.ts", "data.test_path=data/examples/tiny_TEST.ts"]


@pytest.fixture(scope="session")  # made once per test process, however its tests are ordered
def jax_run(tmp_path_factory):
    """`KERAS_BACKEND=jax python train.py debug=smoke` on the tiny .ts files, where TensorFlow is not
    installed, into a known directory. Tests that write into a run work on their own copy."""
    run_dir = tmp_path_factory.mktemp("jax_run") / "run"
    completed = run_cli(BLOCKED, "train.py", *TINY, "debug=smoke", f"hydra.run.dir={run_dir}", env=JAX)
    (run_dir.parent / "stderr.txt").write_text(completed.stderr)  # beside the run, which stays as train.py left it
    return run_dir


def test_a_jax_run_records_its_backend_in_config_metrics_and_hparams(jax_run):
    stderr = (jax_run.parent / "stderr.txt").read_text()
    assert "cuInit" not in stderr and "oneDNN" not in stderr and "Unable to initialize backend" not in stderr
    config = OmegaConf.load(jax_run / "config.yaml")
    assert config.trainer.backend == "jax"
    assert config.trainer.jit_compile is True  # auto: XLA, JAX's compiled path
    assert json.loads((jax_run / "metrics.json").read_text())["backend"] == "jax"
    assert flat_hparams(config)["trainer.backend"] == "jax"
    assert "Training last_state on CPU (jax backend)" in (jax_run / "train.log").read_text()


def test_jax_trains_evaluates_and_predicts_with_tensorflow_missing(jax_run, tmp_path):
    run, predictions = tmp_path / "run", tmp_path / "predictions.csv"
    shutil.copytree(jax_run, run)  # trained where TensorFlow was missing (the fixture)
    run_cli(BLOCKED, "evaluate.py", f"run_dir={run}", env=JAX)
    run_cli(BLOCKED, "-mzoo.predict", f"run_dir={run}", "input=data/examples/tiny_TEST.ts", f"output={predictions}", env=JAX)
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["backend"] == "jax"
    assert json.loads((run / "eval" / "metrics.json").read_text())["test"]["accuracy"] == pytest.approx(metrics["test"]["accuracy"], abs=1e-6)
    assert len(predictions.read_text().splitlines()) == 1 + 34
    refused = run_cli(BLOCKED, "-mzoo.export", f"run_dir={run}", "format=saved_model", env=JAX, check=False)
    assert refused.returncode == 1 and refused.stderr.strip().splitlines()[-1] == "Error: Exporting to SavedModel needs tensorflow: pip install -e '.[export]'."
    assert "Unable to initialize backend" not in refused.stderr + refused.stdout
    # TensorBoard's own reader finds what the run and its evaluation wrote without TensorFlow.
    accumulator = EventAccumulator(str(run / "tensorboard"), size_guidance={"tensors": 0, "images": 0})
    accumulator.Reload()
    tags = accumulator.Tags()
    assert {"loss/train", "accuracy/validation", "learning_rate", "config", "model_summary", "eval/report",
            "final/test_accuracy", "_hparams_/session_start_info", "custom_scalars__config__"} <= set(tags["tensors"])  # fmt: skip
    images = [event for event in accumulator.Tensors("eval/confusion_matrix")]
    assert images and images[0].tensor_proto.string_val[2][:8] == b"\x89PNG\r\n\x1a\n"
    assert tf_scalar(accumulator, "final/test_accuracy") == pytest.approx(metrics["test"]["accuracy"], abs=1e-6)


def tf_scalar(accumulator, tag):
    """The value of a scalar summary as TensorBoard's reader returns it."""
    from tensorboard.util import tensor_util

    return float(tensor_util.make_ndarray(accumulator.Tensors(tag)[-1].tensor_proto))


def test_evaluate_on_tensorflow_reproduces_a_jax_run(jax_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(jax_run, run)
    trained = json.loads((run / "metrics.json").read_text())
    run_cli("evaluate.py", f"run_dir={run}")  # the default backend, TensorFlow
    evaluated = json.loads((run / "eval" / "metrics.json").read_text())
    for name, value in trained["test"].items():
        assert evaluated["test"][name] == pytest.approx(value, abs=1e-5), name


@pytest.mark.integration
def test_a_config_cannot_switch_the_backend(tmp_path):
    with pytest.raises(ZooError) as error:
        train_in_process(tmp_path, "+trainer.backend=jax", "debug=smoke")
    assert str(error.value) == (
        "trainer.backend=jax but Keras runs on tensorflow: the backend is chosen before Python starts, "
        "so run KERAS_BACKEND=jax python train.py ... instead of setting trainer.backend."
    )
    check_backend("tensorflow")


def test_resuming_a_jax_run_on_tensorflow_names_the_backend(jax_run, tmp_path):
    unfinished = tmp_path / "unfinished"
    shutil.copytree(jax_run, unfinished)
    (unfinished / "metrics.json").unlink()
    assert yaml.safe_load((unfinished / "config.yaml").read_text())["trainer"]["backend"] == "jax"
    completed = run_cli("train.py", f"resume={unfinished}", check=False)
    assert completed.returncode == 1
    assert "Keras runs on tensorflow" in completed.stderr and "KERAS_BACKEND=jax" in completed.stderr


@pytest.mark.unit
def test_jit_compile_auto_is_off_on_tensorflow_and_explicit_values_stay():
    assert resolve_jit_compile("auto") is False
    assert resolve_jit_compile(True) is True and resolve_jit_compile(False) is False


def test_a_checkpoint_compiled_on_a_backend_missing_here_loads_and_evaluates(smoke_run, tmp_path):
    # A run trained on torch saves torch's own Adam class, which a TensorFlow-only machine cannot import.
    foreign = tmp_path / "run"
    shutil.copytree(smoke_run, foreign, ignore=shutil.ignore_patterns("eval*", "tensorboard"))
    checkpoint = foreign / "checkpoints" / "best.keras"
    with zipfile.ZipFile(smoke_run / "checkpoints" / "best.keras") as source, zipfile.ZipFile(checkpoint, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "config.json":
                config = json.loads(data)
                config["compile_config"]["optimizer"]["module"] = "keras.src.backend.torch.optimizers.torch_adam"
                data = json.dumps(config).encode()
            target.writestr(item, data)
    with pytest.raises(TypeError, match="keras.src.backend.torch.optimizers.torch_adam cannot be imported"):
        keras.saving.load_model(checkpoint)
    reloaded = load_run(foreign)
    assert not reloaded.model.compiled
    dataset = reloaded.rebuild_dataset()
    original = load_run(smoke_run)
    for ours, theirs in zip(reloaded.model.get_weights(), original.model.get_weights()):
        np.testing.assert_array_equal(ours, theirs)
    scores = evaluate_splits(reloaded.model, dataset, reloaded.task, 64, splits=("test",))["test"]
    assert scores == pytest.approx(json.loads((smoke_run / "metrics.json").read_text())["test"], abs=1e-6)
