"""TensorBoardLogger in-process: epoch and batch scalars, histograms, text, HParams, one run directory."""

import keras
import pytest
from conftest import compose_config
from model_checks import toy_batch, toy_dataset
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import plugin_data_pb2

from zoo import create_model
from zoo.errors import ZooError
from zoo.tasks import get_task
from zoo.tensorboard_logger import TensorBoardLogger, flat_hparams

pytestmark = pytest.mark.unit


def fit_with_logger(tmp_path, steps_per_execution=1, **options):
    keras.utils.set_random_seed(0)  # another test in this process may have left op determinism on, which needs a seed
    dataset = toy_dataset()
    model = create_model("last_state", dataset.spec, units=4)
    model.compile(optimizer="adam", steps_per_execution=steps_per_execution, **get_task("classify").compile_arguments())
    inputs, labels = toy_batch(model, dataset, "classify")
    run_config = compose_config(overrides=["trainer.learning_rate=2e-3"], output_dir=tmp_path / "run")  # train() fills auto first
    logger = TensorBoardLogger(tmp_path, run_config=run_config, model_summary="summary text", **options)
    model.fit(inputs, labels, epochs=2, batch_size=4, verbose=0, validation_split=0.25, callbacks=[logger])
    accumulator = EventAccumulator(str(tmp_path), size_guidance={"tensors": 0, "histograms": 0})
    accumulator.Reload()
    return accumulator


def test_epoch_scalars_text_and_hparams_in_one_directory(tmp_path):
    accumulator = fit_with_logger(tmp_path)
    tags = accumulator.Tags()["tensors"]
    assert {"loss/train", "loss/validation", "accuracy/train", "accuracy/validation", "learning_rate"} <= set(tags)
    assert {"config", "model_summary"} <= set(tags)
    assert not [t for t in tags if t.startswith("batch_")]  # update_freq=epoch
    assert [event.step for event in accumulator.Tensors("loss/train")] == [0, 1]
    assert not [path for path in tmp_path.iterdir() if path.is_dir()]
    metadata = accumulator.SummaryMetadata("_hparams_/session_start_info")
    start = plugin_data_pb2.HParamsPluginData.FromString(metadata.plugin_data.content).session_start_info
    assert start.hparams["model.name"].string_value == "last_state"
    assert start.hparams["trainer.learning_rate"].number_value == pytest.approx(2e-3)


def test_batch_scalars_when_update_freq_is_a_number(tmp_path):
    accumulator = fit_with_logger(tmp_path, update_freq=2)
    steps = [event.step for event in accumulator.Tensors("batch_loss/train")]
    # Keras keeps the first 75% of the rows for training (validation_split=0.25), batch 4, 2 epochs.
    fitted = int(len(toy_dataset().train) * 0.75)
    batches = 2 * -(-fitted // 4)
    assert steps == list(range(2, batches + 1, 2)) and len(steps) >= 2


def test_batch_scalars_count_steps_when_a_call_runs_several(tmp_path):
    # 3 steps per epoch, all in one call: every call passes a multiple of 2 and is logged at the step it ends on.
    accumulator = fit_with_logger(tmp_path, steps_per_execution=3, update_freq=2)
    assert [event.step for event in accumulator.Tensors("batch_loss/train")] == [3, 6]


def test_weight_histograms_when_enabled(tmp_path):
    accumulator = fit_with_logger(tmp_path, histogram_freq=1)
    histograms = [tag for tag in accumulator.Tags()["tensors"] if "kernel" in tag]
    assert any("encoder_lstm_0" in tag for tag in histograms)
    assert [event.step for event in accumulator.Tensors(histograms[0])] == [0, 1]


def test_bad_update_freq_is_named(tmp_path):
    with pytest.raises(ZooError, match="logger.tensorboard.update_freq, expected an integer >= 0, got 'batch'"):
        TensorBoardLogger(tmp_path, update_freq="batch")


def test_a_log_dir_that_cannot_be_written_is_refused_when_the_logger_is_built(tmp_path):
    (tmp_path / "a_file").write_text("not a directory")
    with pytest.raises(ZooError, match=r"Cannot write TensorBoard logs to .*a_file/tensorboard \(.*\): choose a writable logger"):
        TensorBoardLogger(tmp_path / "a_file" / "tensorboard")
    TensorBoardLogger(tmp_path / "new" / "tensorboard")
    assert [path.name for path in (tmp_path / "new" / "tensorboard").iterdir()] == []  # the write check leaves nothing


@pytest.mark.parametrize("steps", [[5, 3], [0, 2], "3", [1, 2, 3], [1.5, 2]])
def test_bad_profile_steps_are_named(tmp_path, steps):
    with pytest.raises(ZooError, match=r"logger.tensorboard.profile_steps, expected \[first, last\] training steps"):
        TensorBoardLogger(tmp_path, profile_steps=steps)


def test_hparams_are_flat_scalars():
    values = flat_hparams(compose_config(overrides=["model=attention"], output_dir="/tmp/unused"))
    assert values["model.attention_units"] == 32 and values["seed"] == 42
    assert all(isinstance(v, (bool, int, float, str)) for v in values.values())
    assert not any(key.endswith("_target_") for key in values)


def test_a_sweep_lists_what_it_varies_from_the_command_line_and_the_sweeper():
    from omegaconf import OmegaConf

    from zoo.tensorboard_logger import swept_keys

    hydra = OmegaConf.create({
        "overrides": {"task": ["model=last_state,attention", "debug=smoke", "trainer.learning_rate=range(1,3)", "+data.noise=0.1,0.2"]},
        "sweeper": {"params": {"trainer.batch_size": "choice(8, 16)", "model": "choice(fcn, lstm_fcn)"}},
    })
    assert swept_keys(hydra) == ["model.name", "trainer.learning_rate", "data.noise", "trainer.batch_size"]
