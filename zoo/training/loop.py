"""`train(cfg)`: a short sequence of named steps, each a function of its own (check, prepare, build, fit, score, write)."""

import atexit
import logging
import shutil
import sys
import tempfile

import keras
from omegaconf import DictConfig, OmegaConf

from zoo.cli import in_sweep
from zoo.config import sweeper_direction
from zoo.data import make_batches, make_training_dataset
from zoo.errors import ZooError
from zoo.inference import SPLITS, evaluate_splits
from zoo.models.inputs import input_names
from zoo.runs.directory import (
    RunDirectory,
    load_checkpoint,
    load_config_file,
    resume_command,
)
from zoo.runs.saved_config import another_config_refusal, differing_keys
from zoo.tasks import best_index, monitored_value
from zoo.tasks.reports import get_report
from zoo.training.adaptive import (
    adapt_to_data,
    check_sweeper_direction,
    steps_per_epoch_for,
)
from zoo.training.builders import (
    build_callbacks,
    build_dataset,
    build_loggers,
    build_model,
    build_optimizer,
    check_optimizer_values,
    log_final_scores,
)
from zoo.training.callbacks import (
    BestAndLastCheckpoint,
    EpochLog,
    EpochProgressBar,
    RecalibrateBatchNorm,
    StopOnNonFiniteLoss,
    batch_norms,
)
from zoo.training.compile import compile_model, resolve_jit_compile
from zoo.training.device import backend_name, configure_device, describe_cudnn, seed_everything
from zoo.training.distribution import (
    leave_distribution,
    place,
    prepare_devices,
    weights_digest,
)
from zoo.training.ensemble_members import check_ensemble, ensemble_size
from zoo.training.resume import TrainingBackup
from zoo.training.run_config import check_config, config_to_run, relocated, with_absolute_data_paths
from zoo.training.summary import closing_summary, inference_mode_warning

log = logging.getLogger(__name__)


def train(cfg: DictConfig, *, ensemble_dir=None) -> float:
    """Trains the configured model (or, with `trainer.ensemble=N`, N members) and writes the run directory.

    Args:
        cfg: the composed `configs/train.yaml`.
        ensemble_dir: the ensemble's run directory when `cfg` is one of its members (its resume command names the ensemble).

    Returns:
        The monitored validation metric of the best checkpoint, for a Hydra sweeper (None on the
        processes after the first of a `data_parallel` run, which score nothing).
    """
    cfg = config_to_run(cfg)
    task = check_config(cfg)
    check_ensemble(cfg)
    run = open_run_directory(cfg)
    if run.is_finished():  # only in a re-run sweep (zoo.runs.lock.sweep_refusal)
        return skip_finished_trial(run)
    if ensemble_size(cfg.trainer) > 1:
        from zoo.training.ensemble import train_ensemble  # imported here: it trains each member with train()

        return train_ensemble(cfg, task, run)
    device = set_up_device(cfg)
    dataset = build_dataset(cfg.data)
    adapt_to_data(cfg, dataset)
    check_sweeper_direction(sweeper_direction(), cfg.monitor)
    placement = place(cfg.trainer)
    check_optimizer_values(cfg.trainer)  # after place(): multi-worker TensorFlow takes no op before its strategy
    if not placement.is_chief:
        run = scratch_run_directory(cfg, placement)
    backup = open_backup(run, cfg, placement, resume_dir=ensemble_dir or run.path)
    with placement.scope():
        model = build_and_compile_model(cfg, dataset.spec, task)
    summary = model_summary(model)
    callbacks = build_run_callbacks(cfg, run, dataset, summary, backup, model)  # a bad option stops before any file is written
    log_start(run, dataset, model, device, cfg, backup)
    if not backup.resuming:
        write_run_files(run, cfg, dataset, summary)
    history = fit(model, dataset, task, cfg, callbacks, backup, placement)
    leave_distribution()
    log.info(f"Final weights digest of process {placement.process_id}: {weights_digest(model)}")
    if not placement.is_chief:
        log.info(f"Process {placement.process_id} done; process 0 wrote the run directory.")
        return None
    metrics = score_best_checkpoint(run, dataset, task, cfg, history)
    write_results(run, cfg, task, metrics)
    backup.discard()
    if warning := inference_mode_warning(metrics, history):
        log.warning(warning)
    for line in closing_summary(metrics, history, cfg, run.path):
        log.info(line)
    return monitored_value(metrics)


# === Steps ===


def open_run_directory(cfg):
    """Returns the run's RunDirectory, refusing one that holds a finished run outside a sweep."""
    run = RunDirectory(cfg.paths.output_dir)
    if run.is_finished() and not in_sweep():
        raise ZooError(
            f"{run.path} already holds a finished run (metrics.json); training there would overwrite it: "
            "choose another hydra.run.dir or delete that directory."
        )
    return run


def skip_finished_trial(run):
    """Returns the monitored value of a sweep trial that finished in an earlier run of the same sweep, training nothing."""
    log.info(f"This trial finished in an earlier run of the sweep ({run.metrics}); skipped, its scores kept.")
    return monitored_value(run.read_json(run.metrics))


def set_up_device(cfg):
    """Starts from a clean Keras state, splits and joins devices for the strategy, chooses device and
    precision, then seeds everything (before any TensorFlow op).

    The clean state keeps the trials of a sweep that share a process (Hydra's basic launcher, a
    reused joblib worker) apart: no layer names, precision policy or distribution carry over.

    Returns:
        "GPU" or "CPU".
    """
    keras.backend.clear_session()
    prepare_devices(cfg.trainer)
    device = configure_device(cfg.trainer.device, cfg.trainer.precision, deterministic=cfg.trainer.deterministic)
    cfg.trainer.jit_compile = resolve_jit_compile(cfg.trainer.jit_compile)
    seed_everything(cfg.seed, deterministic=cfg.trainer.deterministic)
    return device


def scratch_run_directory(cfg, placement):
    """Returns a temporary RunDirectory for a process after the first of a `data_parallel` run, and points `paths.output_dir` there.

    Every process runs the same callbacks, since reading a model replicated over several
    processes (to save a checkpoint) takes all of them; process 0 writes the run, the others
    write here. It is removed when the process exits, whether training finished or failed.
    """
    path = tempfile.mkdtemp(prefix=f"zoo_process_{placement.process_id}_")
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    cfg.paths.output_dir = path
    return RunDirectory(path)


def check_same_config(run, cfg):
    """Refuses a config other than the one an unfinished run in `run` was started with (the exact
    command again, or `resume=<run_dir>`, is accepted)."""
    if run.config.is_file():
        saved = OmegaConf.to_container(relocated(load_config_file(run.config), run.path))
        differing = differing_keys(OmegaConf.to_container(with_absolute_data_paths(cfg)), saved)
        if differing:
            raise ZooError(another_config_refusal(run.path, differing))


def open_backup(run, cfg, placement, resume_dir):
    """Returns the run's TrainingBackup, loaded if an interrupted run left one.

    A run directory that already holds a config (an unfinished run) takes only the same config.
    A run of several processes starts afresh.

    Args:
        resume_dir: the directory the resume command names (the run's, or its ensemble's).
    """
    run.remove_partial_files()  # left by a process killed while writing; this run holds the directory's lock
    check_same_config(run, cfg)
    backup = TrainingBackup(
        run.backup_state,
        every_steps=cfg.trainer.get("backup_every_steps", 0),
        resume_command=resume_command(resume_dir),
    )
    backup.load()
    if backup.resuming and placement.num_processes > 1:
        raise ZooError(
            f"{run.path} holds an interrupted run, and a run of {placement.num_processes} processes cannot resume yet "
            "(the other processes do not read process 0's backup): start it in a new hydra.run.dir."
        )
    return backup


def build_and_compile_model(cfg, spec, task):
    """Builds the model for data described by `spec` and compiles it for `task`."""
    return compile_for(build_model(cfg.model, spec), cfg, spec, task)


def compile_for(model, cfg, spec, task):
    """Compiles `model` with the run's optimizer and the task's loss and metrics; returns it."""
    compile_model(
        model,
        jit_compile=cfg.trainer.jit_compile,
        optimizer=build_optimizer(cfg.trainer),
        steps_per_execution=cfg.trainer.steps_per_execution,
        **task.compile_arguments(spec),
    )
    return model


def log_start(run, dataset, model, device, cfg, backup):
    """Logs where the run goes, what data it reads, where it trains, and where it resumes."""
    log.info(f"Run directory: {run.path}")
    if backup.resuming:
        log.info(f"Resuming from {backup.path}: epoch {backup.epoch + 1}, step {backup.step}.")
    log.info(f"Data: {dataset.spec}; {len(dataset.train)}/{len(dataset.validation)}/{len(dataset.test)} series.")
    log.info(f"Training {model.name} on {device} ({backend_name()} backend) with {cfg.trainer.precision} precision.")
    log.info(describe_cudnn(model, device))


def build_run_callbacks(cfg, run, dataset, summary, backup, model):
    """Builds every callback of the run, in the order `fit` calls them (`model` decides whether batch norm is recalibrated).

    The backup comes after the callbacks whose state it keeps and before the loggers, so a logged
    epoch is always a backed-up one.

    Returns:
        The list of Keras callbacks.
    """
    kept = [StopOnNonFiniteLoss(), BestAndLastCheckpoint(run, cfg.monitor), *build_callbacks(cfg)]
    if cfg.trainer.strategy == "auto" and batch_norms(model):  # one device: the statistics of every training series
        kept.insert(0, RecalibrateBatchNorm(dataset.train, cfg.trainer.batch_size))
    loggers = build_loggers(cfg, run_config=cfg, model_summary=summary)
    progress_bar = EpochProgressBar()  # drawn only at a terminal (fit's verbose)
    epoch_log = EpochLog(cfg.trainer.epochs, progress_bar)
    backup.prepare(kept + loggers + [epoch_log], steps_per_epoch=steps_per_epoch_for(len(dataset.train), cfg.trainer.batch_size))
    return kept + [backup] + loggers + [progress_bar, epoch_log]


def write_run_files(run, cfg, dataset, summary):
    """Writes what evaluation needs before training starts: config, scaler, class names, model summary."""
    run.create()
    # Resolved, so evaluate.py can rebuild the data without Hydra's run-time interpolations, and
    # with absolute data paths, so the run evaluates from any directory.
    run.write_config(with_absolute_data_paths(cfg))
    run.write_json(run.scaler, dataset.scaler.to_dict())
    run.write_json(run.classes, dataset.class_names)
    run.write_text(run.model_summary, summary)


def fit(model, dataset, task, cfg, callbacks, backup, placement):
    """Fits `model` with the run's callbacks (checkpoints, configured callbacks, backup, loggers, one log line per epoch).

    A run resumed within an epoch first finishes that epoch (the batches it had not reached), then
    fits the remaining epochs. Each process feeds its part of every batch (`Placement.local_batches`).

    Returns:
        The logs of every epoch, resumed ones included (a list of dicts).
    """
    names = input_names(model)
    batch_size = cfg.trainer.batch_size
    validation = None
    for name, split in (("training", dataset.train), ("validation", dataset.validation)):
        dropped = len(split) % batch_size % placement.num_devices  # Placement.local_batches evens out the last batch
        if dropped:
            log.warning(f"The last {name} batch leaves out {dropped} series each epoch, so {placement.num_devices} devices share it evenly.")
    if len(dataset.validation):
        validation = placement.local_batches(make_batches(dataset.validation, input_names=names, task=task, batch_size=batch_size))

    def fit_epochs(first_epoch, epochs, first_step=0):
        train, steps = make_training_dataset(
            dataset.train, input_names=names, task=task, batch_size=batch_size, seed=cfg.seed,
            epochs=epochs, first_epoch=first_epoch, first_step=first_step,
        )
        model.fit(
            placement.local_batches(train),
            validation_data=validation,
            epochs=epochs,
            initial_epoch=first_epoch,
            steps_per_epoch=steps - first_step,
            shuffle=False,  # the pipeline orders each epoch itself (zoo.data.pipeline.epoch_order)
            callbacks=callbacks,
            # A progress bar on a terminal; EpochLog's one line per epoch when output goes to a file.
            verbose=1 if sys.stdout.isatty() else 0,
        )

    epochs = cfg.trainer.epochs
    if backup.step and not backup.stopped:
        fit_epochs(backup.epoch, backup.epoch + 1, first_step=backup.step)
    if backup.epoch < epochs and not backup.stopped:
        fit_epochs(backup.epoch, epochs)
    return backup.history


def score_best_checkpoint(run, dataset, task, cfg, history):
    """Reloads the best checkpoint as evaluate.py will, and scores it on every split.

    Args:
        history: the logs of every epoch (`fit`'s result).

    Returns:
        The dict `metrics.json` holds.
    """
    best = load_checkpoint(run.best_checkpoint)
    batch_size = cfg.trainer.batch_size
    monitored = [logs[cfg.monitor] for logs in history]
    return {
        "model": cfg.model.name,
        "task": task.name,
        "backend": backend_name(),
        "monitor": cfg.monitor,
        "best_epoch": best_index(monitored, cfg.monitor) + 1,
        "epochs_run": len(monitored),
        **evaluate_splits(best, dataset, task, batch_size),
        **get_report(task.name).final_scores(best, dataset, batch_size),
    }


def write_results(run, cfg, task, metrics):
    """Writes `metrics.json` (which marks the run finished) and the final scores to the loggers."""
    run.write_json(run.metrics, metrics)
    log_final_scores(cfg, {f"final/{split}_{name}": value for split in SPLITS for name, value in metrics[split].items()})
    line = get_report(task.name).log_line(metrics)
    if line:
        log.info(line)


# === Helpers ===


def model_summary(model):
    """Returns `model.summary()` as plain text."""
    lines = []
    model.summary(print_fn=lambda line, line_break=True: lines.append(line), line_length=100)
    return "\n".join(lines) + "\n"
