"""The debug modes (a fast dev run, overfitting a few batches, a profiler trace) and the CSV logger, read back from the run."""

import csv
import logging

import pytest
from conftest import train_in_process
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.util import tensor_util

pytestmark = pytest.mark.integration


def test_a_fast_dev_run_trains_one_batch_of_each_split(tmp_path, caplog):
    with caplog.at_level(logging.INFO, logger="zoo.training.loop"):
        metrics = train_in_process(tmp_path, "debug=fdr")
    assert metrics["epochs_run"] == 1
    (sizes,) = [record.message.split("; ")[-1] for record in caplog.records if record.message.startswith("Data: ")]
    train, validation, test = map(int, sizes.removesuffix(" series.").split("/"))
    assert 0 < train <= 64 and 0 < validation <= 64 and 0 < test <= 64  # each split is one batch of 64


def test_overfitting_a_few_batches_drives_the_loss_down_and_the_csv_logger_keeps_every_epoch(tmp_path):
    metrics = train_in_process(tmp_path, "debug=overfit", "logger=[tensorboard,csv]")
    with open(tmp_path / "epochs.csv") as file:
        rows = list(csv.DictReader(file))
    assert [int(row["epoch"]) for row in rows] == list(range(100))
    losses = [float(row["loss"]) for row in rows]
    assert losses[-1] < 0.1 * losses[0], losses[::10]
    assert metrics["train"]["accuracy"] > 0.9  # the 32 series it saw, in inference mode
    # The same values TensorBoard holds for those epochs.
    accumulator = EventAccumulator(str(tmp_path / "tensorboard"), size_guidance={"tensors": 0})
    accumulator.Reload()
    logged = [float(tensor_util.make_ndarray(event.tensor_proto)) for event in accumulator.Tensors("loss/train")]
    assert logged == pytest.approx(losses, rel=1e-6)


def test_a_profile_run_traces_its_steps_into_tensorboard(tmp_path):
    train_in_process(tmp_path, "debug=profile")
    (trace,) = (tmp_path / "tensorboard" / "plugins" / "profile").glob("*/*.xplane.pb")  # one trace of steps 3 to 5
    assert trace.stat().st_size > 1000
