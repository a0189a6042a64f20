"""The closing summary's reasons for stopping and its shell-quoted next commands."""

import pytest
from conftest import compose_config

from zoo.training.summary import closing_summary, inference_mode_warning, stop_reason

pytestmark = pytest.mark.unit


def test_the_reason_names_the_budget_early_stopping_or_a_callback():
    early_stopping = compose_config(overrides=["callbacks.early_stopping.patience=8"]).callbacks.early_stopping
    assert stop_reason(46, 46, early_stopping) == "the budget of 46 epochs ran out"
    assert stop_reason(33, 46, early_stopping) == "early stopping at epoch 33 of 46: val_accuracy had not improved for 8 epochs"
    assert stop_reason(3, 46, None) == "a callback stopped it at epoch 3 of 46"
    assert stop_reason(1, 1, None) == "the budget of 1 epoch ran out"


def test_the_summary_quotes_paths_and_leaves_out_tensorboard_without_its_logger(tmp_path):
    cfg = compose_config(overrides=["trainer.epochs=10", "logger=none"])
    run_dir = tmp_path / "my run"
    metrics = {"best_epoch": 2, "epochs_run": 10, "monitor": "val_loss", "test": {"loss": 0.123456, "accuracy": 0.9}}
    history = [{"val_loss": 0.5}, {"val_loss": 0.25}, {"val_loss": 0.3}]
    lines = closing_summary(metrics, history, cfg, run_dir)
    assert lines == [
        "Training ended: the budget of 10 epochs ran out.",
        "Best epoch: 2, val_loss 0.25 (checkpoints/best.keras).",
        "Test scores of the best checkpoint: accuracy 0.9, loss 0.1235.",
        f"Run directory: {run_dir}",
        f"Next: python evaluate.py 'run_dir={run_dir}'",
    ]


def test_a_checkpoint_far_worse_in_inference_mode_than_in_training_is_flagged():
    history = [{"loss": 1.2}, {"loss": 0.08}, {"loss": 0.07}]
    collapsed = {"best_epoch": 2, "train": {"loss": 2.3, "accuracy": 0.1}}  # batch norm's stale statistics: chance in inference mode
    assert inference_mode_warning(collapsed, history) == (
        "The best checkpoint's loss on the training split is 2.3 in inference mode against 0.08 in training mode at epoch 2; "
        "layers that act differently in training (batch normalization's moving statistics, dropout) leave the saved model "
        "worse than training showed."
    )
    assert inference_mode_warning({"best_epoch": 2, "train": {"loss": 0.06}}, history) is None  # dropout off: usually lower
    assert inference_mode_warning({"best_epoch": 2, "train": {"loss": 0.2}}, history) is None  # within twice the loss plus 0.05
