"""What the entry points share: turning a user error into one line, discarding runs that never started,
and letting a sweep go on past a failed trial."""

import logging
import os
import shutil
import sys
from pathlib import Path

from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode

from zoo.errors import ZooError
from zoo.runs.lock import FOUND_BEFORE
from zoo.training.resume import TrainingInterrupted

# What Hydra writes before the task starts; a directory holding nothing else never trained.
_HYDRA_START_FILES = {".hydra", ".lock", "train.log", "evaluate.log", "anatomy.log", "predict.log", "export.log"}


log = logging.getLogger(__name__)


def in_sweep():
    """Whether this process runs a trial of a sweep (`-m`)."""
    return HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN


def saved_sweep(sweep_dir):
    """The `hydra` node of `<sweep>/multirun.yaml` (what the sweep was started with), or None if unreadable."""
    from omegaconf import OmegaConf

    try:
        return OmegaConf.load(Path(sweep_dir) / "multirun.yaml").hydra
    except Exception:  # missing, or not a file Hydra wrote
        return None


def sweep_overrides(hydra):
    """The command-line overrides of a sweep's `hydra` node that sweep (a comma list, range, choice, interval ...)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    return [override for override in OverridesParser.create().parse_overrides(list(hydra.overrides.task)) if override.is_sweep_override()]


def sweep_size(hydra):
    """The trials a sweep runs: the sweeper's `n_trials` (Optuna), or the product of its command line's value lists
    (Hydra's basic sweeper); None without a saved sweep or for an unbounded one (an interval)."""
    if hydra is None:
        return None
    if hydra.sweeper.get("n_trials"):
        return int(hydra.sweeper.n_trials)
    size = 1
    for override in sweep_overrides(hydra):
        try:
            size *= len(list(override.sweep_string_iterator()))
        except Exception:  # an interval has no values to count
            return None
    return size


def start_trial(cfg):
    """Logs which trial of the sweep this process runs (`Sweep trial 2 of 4: model=attention`); the first trial of a
    training sweep also writes the sweep's HParams experiment (its table starts with what the sweep varies)."""
    hydra_config = HydraConfig.get()
    hydra = saved_sweep(hydra_config.sweep.dir)
    size = sweep_size(hydra)
    overrides = " ".join(hydra_config.overrides.task) or "defaults"
    log.info(f"Sweep trial {hydra_config.job.num + 1}{f' of {size}' if size else ''}: {overrides}")
    if hydra_config.job.num == 0 and hydra is not None and "trainer" in cfg:
        from zoo.tensorboard_logger import write_sweep_experiment

        try:
            write_sweep_experiment(hydra_config.sweep.dir, cfg, hydra)
        except Exception as error:  # the dashboard's column order is not worth a trial
            log.warning(f"The sweep's HParams experiment was not written ({error}); TensorBoard infers its columns.")


def _failed_trial(error):
    """Reports a failed sweep trial (stderr and its log) and returns None: no value, which the Optuna sweeper records as a failed trial."""
    hydra_config = HydraConfig.get()
    overrides = ",".join(sorted(hydra_config.overrides.task))
    line = f"Trial {hydra_config.job.num} ({overrides or 'defaults'}) failed: {str(error).rstrip('.')}; the sweep goes on."
    log.error(line, exc_info=not isinstance(error, (ZooError, OSError)))
    print(f"Error: {line}", file=sys.stderr)
    return None


def _discard_unstarted_run():
    """Removes what this attempt's start-up wrote (Hydra's files, the lock), and nothing it found there."""
    if not HydraConfig.initialized():
        return
    output_dir = Path(HydraConfig.get().runtime.output_dir)
    if not output_dir.is_dir() or os.path.abspath(output_dir) not in FOUND_BEFORE:
        return  # not a directory this process locked: nothing here is known to be its own
    before, made_parents = FOUND_BEFORE[os.path.abspath(output_dir)]
    names = {path.name for path in output_dir.iterdir()}
    if before is None and names <= _HYDRA_START_FILES:
        shutil.rmtree(output_dir)
        for parent in made_parents:  # the date folder, runs/ and a new paths.log_dir, made for this run alone
            if any(parent.iterdir()):
                break
            parent.rmdir()
        return
    for name in (names - (before or set())) & _HYDRA_START_FILES:
        path = output_dir / name
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()


def run_task(task, cfg, *, discard_unstarted_run=False):
    """Runs `task(cfg)`; a ZooError ends the program with its one-line message.

    In a sweep (`-m`), a trial that fails is reported and returns None, so the other trials run; its
    directory is kept with the error in its log. Interruptions still end the sweep.

    Args:
        task: function of the composed config.
        cfg: DictConfig.
        discard_unstarted_run: bool. On error, remove the Hydra output directory if it holds
            only what Hydra wrote at start-up, so no half-made run is left behind.

    Returns:
        What `task` returns.
    """
    # A resumed run's directory is the user's earlier run: never discarded, even if it holds little.
    discard_unstarted_run = discard_unstarted_run and not cfg.get("resume")
    if in_sweep():
        start_trial(cfg)
    try:
        return task(cfg)
    except TrainingInterrupted as stop:
        print(f"Interrupted: {stop}", file=sys.stderr)
        raise SystemExit(stop.exit_code) from None
    except KeyboardInterrupt:
        # Ctrl-C: one line, not Keras' and Hydra's tracebacks. Files are written atomically, so
        # everything already in the run directory is whole.
        if discard_unstarted_run:
            _discard_unstarted_run()
        print("Interrupted: stopped at your request; files already written are complete.", file=sys.stderr)
        raise SystemExit(130) from None
    except Exception as error:
        if in_sweep():
            return _failed_trial(error)
        if isinstance(error, ZooError):
            if discard_unstarted_run:
                _discard_unstarted_run()
            print(f"Error: {error}", file=sys.stderr)
            raise SystemExit(1) from None
        if isinstance(error, OSError):  # a write outside the zoo's own (logs, TensorBoard): a full or read-only disk
            where = f" ({error.filename})" if error.filename else ""
            print(f"Error: {error.strerror or error}{where}: free space there or choose a writable paths.log_dir.", file=sys.stderr)
            raise SystemExit(1) from None
        raise
