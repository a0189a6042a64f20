"""The block a finished training prints last: why it stopped, its best epoch, its test scores, where it is and what to run next."""

import shlex

from zoo.runs.directory import as_typed


def epochs_phrase(count):
    return f"{count} epoch{'' if count == 1 else 's'}"


def stop_reason(epochs_run, epochs, early_stopping):
    """Why training ended after `epochs_run` of `epochs` epochs.

    Args:
        epochs_run: int. Epochs trained, resumed ones included.
        epochs: int. The run's budget (`trainer.epochs`).
        early_stopping: the run's `callbacks.early_stopping` config, or None where it is off.
    """
    if epochs_run >= epochs:
        return f"the budget of {epochs_phrase(epochs)} ran out"
    if early_stopping is not None:
        return (
            f"early stopping at epoch {epochs_run} of {epochs}: {early_stopping.monitor} had not improved "
            f"for {epochs_phrase(early_stopping.patience)}"
        )
    return f"a callback stopped it at epoch {epochs_run} of {epochs}"


# Inference mode scoring the training split this much worse than training mode did points at batch-norm statistics or a train-only layer, not noise.
INFERENCE_LOSS_RATIO = 2.0


def inference_mode_warning(metrics, history):
    """Returns a warning line when the best checkpoint's training loss in inference mode is far above its epoch's training-mode loss, else None.

    Args:
        metrics: the dict `metrics.json` holds (`best_epoch`, `train`).
        history: the logs of every epoch (a list of dicts holding `loss`).
    """
    training_mode = history[metrics["best_epoch"] - 1].get("loss")
    inference_mode = metrics["train"].get("loss")
    if training_mode is None or inference_mode is None or not inference_mode > INFERENCE_LOSS_RATIO * training_mode + 0.05:
        return None
    return (
        f"The best checkpoint's loss on the training split is {inference_mode:.4g} in inference mode against "
        f"{training_mode:.4g} in training mode at epoch {metrics['best_epoch']}; layers that act differently in training "
        "(batch normalization's moving statistics, dropout) leave the saved model worse than training showed."
    )


def closing_summary(metrics, history, cfg, run_dir):
    """Returns the summary's lines.

    Args:
        metrics: the dict `metrics.json` holds (`best_epoch`, `epochs_run`, `monitor`, `test`).
        history: the logs of every epoch (a list of dicts holding the monitored metric).
        cfg: the run's config (`trainer.epochs`, `callbacks`, `logger`).
        run_dir: the run directory.
    """
    best_epoch, monitor = metrics["best_epoch"], metrics["monitor"]
    typed = as_typed(run_dir)
    test = ", ".join(f"{name} {value:.4g}" for name, value in sorted(metrics["test"].items()))
    lines = [
        f"Training ended: {stop_reason(metrics['epochs_run'], cfg.trainer.epochs, cfg.callbacks.get('early_stopping'))}.",
        f"Best epoch: {best_epoch}, {monitor} {history[best_epoch - 1][monitor]:.4g} (checkpoints/best.keras).",
        f"Test scores of the best checkpoint: {test}.",
        f"Run directory: {typed}",
        f"Next: python evaluate.py {shlex.quote(f'run_dir={typed}')}",
    ]
    if "tensorboard" in cfg.logger:
        lines.append(f"      tensorboard --logdir {shlex.quote(typed)}")
    if "mlflow" in cfg.logger:
        from zoo.mlflow_logger import ui_command

        command = ui_command(cfg.logger.mlflow.tracking_uri)
        lines.append(f"      {command}" if command else f"      MLflow: experiment {cfg.logger.mlflow.experiment_name} at {cfg.logger.mlflow.tracking_uri}")
    return lines
