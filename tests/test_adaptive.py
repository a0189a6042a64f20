"""The rules that adapt training to the data (zoo.training.adaptive): batch size, learning rate, epochs, patience, validation, monitor."""

import pytest
from conftest import compose_config
from model_checks import toy_dataset
from omegaconf import open_dict

from zoo import ZooError
from zoo.config import check_trainer
from zoo.training.adaptive import (
    adapt_to_data,
    batch_size_for,
    check_steps_per_execution,
    epochs_for,
    learning_rate_for,
    patience_for,
    steps_per_execution_for,
    validation_fraction_for,
)

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "n_train, expected",
    [(2800, 64), (640, 64), (200, 20), (170, 17), (100, 10), (50, 8), (5, 5), (1, 1)],
)
def test_batch_size_is_a_tenth_of_the_training_series_within_8_and_64(n_train, expected):
    assert batch_size_for(n_train) == expected


@pytest.mark.parametrize("batch_size, expected", [(64, 3e-3), (32, 2.12e-3), (20, 1.68e-3), (16, 1.5e-3), (8, 1.06e-3)])
def test_learning_rate_follows_the_square_root_of_the_batch(batch_size, expected):
    assert learning_rate_for(batch_size) == expected


def test_epochs_spend_the_step_budget():
    # 2,800 series in batches of 64: 44 steps per epoch, so 2,000 steps take 46 epochs.
    assert epochs_for(2000, 2800, 64) == 46
    # 50 series in batches of 8: 7 steps per epoch, so the same budget is 286 passes over the data.
    assert epochs_for(2000, 50, 8) == 286
    assert epochs_for(1, 50, 8) == 1


@pytest.mark.parametrize(
    "steps_per_epoch, backend, expected",
    [(44, "tensorflow", 11), (110, "jax", 11), (7, "tensorflow", 7), (16, "tensorflow", 16), (64, "tensorflow", 16),
     (47, "tensorflow", 1), (1, "tensorflow", 1), (44, "torch", 1)],
)
def test_steps_per_execution_is_the_largest_divisor_of_an_epoch_up_to_16(steps_per_epoch, backend, expected):
    assert steps_per_execution_for(steps_per_epoch, backend) == expected


@pytest.mark.parametrize(
    "value, message",
    [
        ("8", r"trainer.steps_per_execution=8 does not divide the 11 steps of an epoch, so Keras would run an epoch's last call "
              r"into the next epoch's batches: set it to one of \[1, 11\] or auto."),
        ("auto", None),
        ("11", None),
    ],
)
def test_steps_per_execution_must_divide_the_epoch(value, message):
    cfg = compose_train(f"trainer.steps_per_execution={value}")
    dataset = toy_dataset(n_samples=1000)  # 700 training series: 11 steps of 64
    with open_dict(cfg):
        if message:
            with pytest.raises(ZooError, match=message):
                adapt_to_data(cfg, dataset)
        else:
            lines = adapt_to_data(cfg, dataset)
            assert cfg.trainer.steps_per_execution == 11
            assert any(line.startswith("trainer.steps_per_execution=11 (the largest divisor of 11") for line in lines) == (value == "auto")


def test_torch_and_mirrored_run_one_step_per_call():
    with pytest.raises(ZooError, match="Keras runs one step per call on the torch backend: set trainer.steps_per_execution=1 or auto"):
        check_steps_per_execution(2, 44, "torch")
    with pytest.raises(ZooError, match="fails under trainer.strategy=mirrored .* set trainer.steps_per_execution=1 or auto"):
        check_steps_per_execution(4, 44, "tensorflow", "mirrored")
    assert steps_per_execution_for(44, "tensorflow", "mirrored") == 1


def test_patience_is_a_share_of_the_epochs_with_a_floor():
    assert patience_for(46, 0.1, 8) == 8
    assert patience_for(286, 0.1, 8) == 29
    assert patience_for(286, 0.05, 2) == 14
    assert patience_for(10, 0.05, 2) == 2


@pytest.mark.parametrize(
    "n_series, n_classes, expected",
    [(3400, 5, 0.15), (200, 6, 0.0), (400, 6, 0.15), (50, 10, 0.0), (67, 0, 0.15), (60, 0, 0.0)],
)
def test_validation_split_needs_ten_series_per_class(n_series, n_classes, expected):
    assert validation_fraction_for(n_series, n_classes) == expected


def test_a_number_given_for_the_validation_share_is_kept():
    assert validation_fraction_for(50, 10, 0.3) == 0.3


def compose_train(*overrides):
    return compose_config("train", overrides)


def test_auto_values_are_filled_from_a_large_dataset():
    cfg = compose_train()
    dataset = toy_dataset(n_samples=1000)  # 700 training series, 150 validation
    with open_dict(cfg):
        adapt_to_data(cfg, dataset)
    assert cfg.trainer.batch_size == 64
    assert cfg.trainer.learning_rate == 3e-3  # the synthetic default's batch keeps the rate it was tuned with
    assert cfg.trainer.epochs == epochs_for(cfg.trainer.steps, 700, 64) == 182
    assert cfg.callbacks.early_stopping.patience == 18
    assert cfg.callbacks.reduce_lr_on_plateau.patience == 9
    # A validation split exists, so the monitors stay on it.
    assert cfg.monitor == "val_accuracy"
    assert cfg.callbacks.reduce_lr_on_plateau.monitor == "val_loss"


def test_without_a_validation_split_the_training_loss_picks_the_best_checkpoint():
    cfg = compose_train("trainer.epochs=50", "trainer.batch_size=16")
    dataset = toy_dataset(n_samples=40, val_fraction=0.0)
    assert len(dataset.validation) == 0
    with open_dict(cfg):
        lines = adapt_to_data(cfg, dataset)
    assert (cfg.trainer.epochs, cfg.trainer.batch_size) == (50, 16)  # numbers given are kept
    assert cfg.trainer.learning_rate == 1.5e-3  # the rule follows the batch given
    # Early stopping on the training loss waits the whole budget; the schedule keeps its share.
    assert cfg.callbacks.early_stopping.patience == 50
    assert cfg.callbacks.reduce_lr_on_plateau.patience == 2
    assert cfg.monitor == "loss"
    assert cfg.callbacks.early_stopping.monitor == "loss"
    assert cfg.callbacks.early_stopping.mode == "min"  # the interpolated mode follows the monitor
    assert cfg.callbacks.reduce_lr_on_plateau.monitor == "loss"
    assert any("no validation split" in line for line in lines)


def test_auto_is_refused_where_a_number_is_needed():
    cfg = compose_train("trainer.steps=auto")
    with pytest.raises(ZooError, match="trainer.steps, expected a positive integer, got 'auto'"):
        check_trainer(cfg.trainer)


def test_a_learning_rate_given_is_kept_and_reaches_the_optimizer():
    cfg = compose_train("trainer.learning_rate=5e-4")
    with open_dict(cfg):
        adapt_to_data(cfg, toy_dataset(n_samples=40, val_fraction=0.0))
    assert cfg.trainer.learning_rate == 5e-4 and cfg.trainer.optimizer.learning_rate == 5e-4


def test_a_patience_given_without_a_validation_split_is_kept():
    cfg = compose_train("trainer.epochs=50", "callbacks.early_stopping.patience=5")
    with open_dict(cfg):
        adapt_to_data(cfg, toy_dataset(n_samples=40, val_fraction=0.0))
    assert cfg.callbacks.early_stopping.patience == 5
