"""trainer.strategy: mirrored (TensorFlow) and data_parallel (JAX, over two processes) train the same
model as one device at the same global batch and seed; only process 0 writes the run."""

import json
import os
import re
import socket
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import CONFIG_DIR, ROOT, run_cli
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from zoo import ZooError
from zoo.data.pipeline import SplitBatches
from zoo.runs.lock import keep_apart
from zoo.runs.lock import process_rank
from zoo.training.distribution import Placement, check_strategy

pytestmark = pytest.mark.unit

# 200 series split 140/30/30; batches of 32 end with 12, so two devices share every batch evenly.
SMALL = ["debug=smoke", "data.max_series=200", "trainer.epochs=2"]
JAX = {"KERAS_BACKEND": "jax"}


def free_port():
    with socket.socket() as probe:
        probe.bind(("localhost", 0))
        return probe.getsockname()[1]


def assert_same_runs(actual_dir, expected_dir):
    """metrics.json numbers and last.keras weights equal to 1e-5."""
    actual = json.loads((actual_dir / "metrics.json").read_text())
    expected = json.loads((expected_dir / "metrics.json").read_text())
    for split in ("train", "validation", "test"):
        assert actual[split] == pytest.approx(expected[split], abs=1e-5), split
    assert actual["best_epoch"] == expected["best_epoch"] and actual["epochs_run"] == expected["epochs_run"] == 2
    weights = [keras.saving.load_model(d / "checkpoints" / "last.keras").get_weights() for d in (actual_dir, expected_dir)]
    for got, want in zip(*weights):
        np.testing.assert_allclose(got, want, atol=1e-5)


def digest_lines(log_text):
    return re.findall(r"Final weights digest of process (\d): (\w+)", log_text)


@pytest.mark.slow
def test_mirrored_over_two_logical_cpus_equals_one_device(tmp_path):
    run_cli("train.py", *SMALL, f"hydra.run.dir={tmp_path / 'one'}")
    run_cli("train.py", *SMALL, "trainer.strategy=mirrored", "trainer.logical_cpus=2", f"hydra.run.dir={tmp_path / 'mirrored'}")
    assert "trainer.strategy=mirrored: 2 devices in 1 processes" in (tmp_path / "mirrored" / "train.log").read_text()
    assert OmegaConf.load(tmp_path / "mirrored" / "config.yaml").trainer.strategy == "mirrored"
    assert_same_runs(tmp_path / "mirrored", tmp_path / "one")


@pytest.mark.slow
def test_data_parallel_over_two_processes_equals_one_device_and_only_process_0_writes(tmp_path):
    run_cli("train.py", *SMALL, f"hydra.run.dir={tmp_path / 'one'}", env=JAX)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    shared = tmp_path / "two"
    cluster = ["trainer.strategy=data_parallel", f"trainer.cluster.coordinator_address=localhost:{free_port()}", "trainer.cluster.num_processes=2"]
    processes = [
        subprocess.Popen(
            [sys.executable, str(ROOT / "train.py"), *SMALL, *cluster, f"trainer.cluster.process_id={rank}", f"hydra.run.dir={shared}"],
            cwd=ROOT, env={**os.environ, **JAX, "TMPDIR": str(scratch)}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        for rank in (0, 1)
    ]
    outputs = [process.communicate(timeout=600)[0] for process in processes]
    assert [process.returncode for process in processes] == [0, 0], "\n".join(outputs)
    assert_same_runs(shared, tmp_path / "one")
    # Every process ends with the same weights, and they are the single device's weights to 1e-5 (above).
    first, second = digest_lines((shared / "train.log").read_text()), digest_lines((shared / "process_1" / "train.log").read_text())
    assert [rank for rank, _ in first + second] == ["0", "1"] and first[0][1] == second[0][1]
    # Process 1 kept only its log and Hydra's record; its scratch copy of the run is gone.
    assert sorted(path.name for path in (shared / "process_1").iterdir()) == [".hydra", "train.log"]
    assert list(scratch.iterdir()) == []
    assert "trainer.strategy=data_parallel: 2 devices in 2 processes; this is process 1" in (shared / "process_1" / "train.log").read_text()


@pytest.mark.parametrize(
    "strategy, backend, message",
    [
        ("mirrored", "jax", "trainer.strategy=mirrored runs on the tensorflow backend, and Keras runs on jax: run KERAS_BACKEND=tensorflow python train.py ... trainer.strategy=mirrored."),
        ("data_parallel", "tensorflow", "trainer.strategy=data_parallel runs on the jax backend, and Keras runs on tensorflow: run KERAS_BACKEND=jax python train.py ... trainer.strategy=data_parallel."),
        ("horovod", "tensorflow", "Received an invalid value for trainer.strategy"),
    ],
)
def test_a_strategy_of_the_other_backend_is_named(strategy, backend, message):
    trainer = OmegaConf.create({"strategy": strategy, "logical_cpus": 0, "cluster": {"coordinator_address": None, "num_processes": None, "process_id": None}})
    with pytest.raises(ZooError) as error:
        check_strategy(trainer, backend)
    assert str(error.value).startswith(message)


def test_cluster_values_need_data_parallel():
    trainer = OmegaConf.create({"strategy": "auto", "logical_cpus": 0, "cluster": {"coordinator_address": "host:1234", "num_processes": 2, "process_id": 0}})
    with pytest.raises(ZooError, match="trainer.cluster joins several processes only with trainer.strategy=data_parallel"):
        check_strategy(trainer, "jax")


def test_a_batch_that_does_not_split_over_the_devices_is_refused():
    with pytest.raises(ZooError) as error:
        Placement("mirrored", num_devices=4).check_batch_size(30)
    assert str(error.value) == (
        "trainer.batch_size=30 does not split over the 4 devices of trainer.strategy=mirrored: "
        "set trainer.batch_size to a multiple of 4."
    )


def test_each_process_reads_its_rows_of_every_global_batch():
    rows = np.arange(7)
    batches = tf.data.Dataset.from_tensor_slices(({"series": rows}, rows * 10)).batch(4)  # batches of 4 and 3
    second = Placement("data_parallel", process_id=1, num_processes=2, num_devices=2).local_batches(batches)
    got = [(inputs["series"].tolist(), targets.tolist()) for inputs, targets in second.as_numpy_iterator()]
    # Rows 2-3 of the first batch; of the last (3 rows, 2 usable on 2 devices) row 5.
    assert got == [([2, 3], [20, 30]), ([5], [50])]
    assert Placement().local_batches(batches) is batches
    # The NumPy batches of the other backends (a generator for training, a PyDataset for evaluation) alike.
    numpy_batches = [({"series": rows[:4]}, rows[:4] * 10), ({"series": rows[4:]}, rows[4:] * 10)]
    placement = Placement("data_parallel", process_id=1, num_processes=2, num_devices=2)
    from_generator = [(inputs["series"].tolist(), targets.tolist()) for inputs, targets in placement.local_batches(iter(numpy_batches))]
    evaluation = placement.local_batches(SplitBatches(({"series": rows}, rows * 10), batch_size=4))
    from_pydataset = [(evaluation[i][0]["series"].tolist(), evaluation[i][1].tolist()) for i in range(len(evaluation))]
    assert from_generator == from_pydataset == got


def test_processes_after_the_first_keep_their_files_below_the_run(monkeypatch):
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = compose(config_name="train", overrides=["trainer.strategy=data_parallel"], return_hydra_config=True)
    keep_apart(cfg, "process_1")
    assert cfg.hydra.output_subdir == "process_1/.hydra"
    handler = OmegaConf.to_container(cfg.hydra.job_logging.handlers.file)  # unresolved: Hydra resolves it when logging starts
    assert handler["filename"] == "${hydra.runtime.output_dir}/process_1/${hydra.job.name}.log"
    assert process_rank("data_parallel", 1) == 1 and process_rank("auto", 3) == 0
    monkeypatch.setenv("SLURM_PROCID", "2")
    assert process_rank("data_parallel", None) == 2
