"""What the entry points share: turning a user error into one line and discarding runs that never started."""

import shutil
import sys
from pathlib import Path

from hydra.core.hydra_config import HydraConfig

from zoo.errors import ZooError
from zoo.resume import TrainingInterrupted

# What Hydra writes before the task starts; a directory holding nothing else never trained.
_HYDRA_START_FILES = {".hydra", ".lock", "train.log", "evaluate.log", "anatomy.log", "predict.log", "export.log"}


def _discard_unstarted_run():
    if not HydraConfig.initialized():
        return
    output_dir = Path(HydraConfig.get().runtime.output_dir)
    if output_dir.is_dir() and {path.name for path in output_dir.iterdir()} <= _HYDRA_START_FILES:
        shutil.rmtree(output_dir)
        # Also drop the date directory Hydra made for it, if this run was its only one.
        if not any(output_dir.parent.iterdir()):
            output_dir.parent.rmdir()


def run_task(task, cfg, *, discard_unstarted_run=False):
    """Runs `task(cfg)`; a ZooError ends the program with its one-line message.

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
    try:
        return task(cfg)
    except TrainingInterrupted as stop:
        print(f"Interrupted: {stop}", file=sys.stderr)
        raise SystemExit(stop.exit_code) from None
    except ZooError as error:
        if discard_unstarted_run:
            _discard_unstarted_run()
        print(f"Error: {error}", file=sys.stderr)
        raise SystemExit(1) from None
    except OSError as error:  # a write outside the zoo's own (logs, TensorBoard): a full or read-only disk
        where = f" ({error.filename})" if error.filename else ""
        print(f"Error: {error.strerror or error}{where}: free space there or choose a writable paths.log_dir.", file=sys.stderr)
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        # Ctrl-C: one line, not Keras' and Hydra's tracebacks. Files are written atomically, so
        # everything already in the run directory is whole.
        if discard_unstarted_run:
            _discard_unstarted_run()
        print("Interrupted: stopped at your request; files already written are complete.", file=sys.stderr)
        raise SystemExit(130) from None
