"""One run per directory: a Hydra callback that locks `hydra.run.dir` before Hydra writes into it.

Hydra saves `.hydra/config.yaml` and `overrides.yaml` before the task starts, so a check inside
`train()` comes too late to protect a finished or running run. `RunDirectoryLock.on_run_start`
runs before that: it refuses a directory that holds a finished run (`metrics.json`) or that a live
process has locked, an unfinished run with another config, and a `resume=` that names no run or
comes with other overrides, with one line and nothing touched. Otherwise it writes `.lock` (the PID and
host, created exclusively) and removes it when the process exits. A lock whose process is gone
(a killed run) is stale and taken over.
"""

import atexit
import json
import os
import socket
import sys
from pathlib import Path

from hydra.experimental.callback import Callback
from omegaconf import OmegaConf, open_dict, read_write

from zoo.config import another_config_refusal, differing_keys
from zoo.training.distribution import process_rank

LOCK_NAME = ".lock"


def _process_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by another user
        return True
    return True


def _holder(lock):
    """Returns the live process holding `lock` as `(pid, host)`, or None if the lock is stale or unreadable."""
    try:
        holder = json.loads(lock.read_text())
        pid, host = int(holder["pid"]), str(holder["host"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if host != socket.gethostname():
        return pid, host  # cannot tell from here; another machine's run counts as live
    return (pid, host) if pid != os.getpid() and _process_alive(pid) else None


def refusal(run_dir, config=None):
    """Returns the one-line reason a run may not start in `run_dir`, or None if it may.

    Args:
        run_dir: the run's directory.
        config: the composed config (with its `hydra` node), or None to check only the lock and
            whether the run finished. An unfinished run there takes only its own config again
            (`.hydra/config.yaml`), or `resume=<run_dir>` with nothing else.
    """
    run_dir = Path(run_dir)
    if run_dir.exists() and not run_dir.is_dir():
        return f"{run_dir} is a file, not a run directory: choose another hydra.run.dir."
    if config is not None:
        reason = _resume_refusal(run_dir, config) if config.get("resume") else _config_refusal(run_dir, config)
        if reason:
            return reason
    if (run_dir / "metrics.json").is_file():
        return (
            f"{run_dir} already holds a finished run (metrics.json); training there would overwrite it: "
            "choose another hydra.run.dir or delete that directory."
        )
    holder = _holder(run_dir / LOCK_NAME)
    if holder is not None:
        return (
            f"{run_dir} is in use by another run (process {holder[0]} on {holder[1]}): wait for it to end "
            "or choose another hydra.run.dir."
        )
    return None


def _resume_refusal(run_dir, config):
    if not (run_dir / "config.yaml").is_file():
        return (
            f"resume={run_dir}: that directory holds no config.yaml, so no training started there: "
            "pass the directory of an interrupted run (under outputs/runs)."
        )
    extra = [override for override in config.hydra.overrides.task if not override.startswith("resume=")]
    if extra:
        return (
            f"resume={run_dir} continues the run with its own saved config, so {' '.join(extra)} cannot apply: "
            "drop them, or start a new run with them."
        )
    return None


def _config_refusal(run_dir, config):
    saved = run_dir / ".hydra" / "config.yaml"
    if not saved.is_file() or (run_dir / "metrics.json").is_file():
        return None
    task_keys = [key for key in config if key != "hydra"]
    composed = OmegaConf.to_container(OmegaConf.masked_copy(config, task_keys), resolve=False)
    try:
        differing = differing_keys(composed, OmegaConf.to_container(OmegaConf.load(saved), resolve=False))
    except Exception:  # an unreadable .hydra/config.yaml: train() compares the run's config.yaml instead
        return None
    return another_config_refusal(run_dir, differing) if differing else None


def acquire(run_dir, config=None):
    """Locks `run_dir` for this process until it exits.

    Args:
        run_dir: the run's directory.
        config: the composed config, checked against an unfinished run there (see `refusal`).

    Returns:
        None if locked, else the one-line reason it cannot be.
    """
    reason = refusal(run_dir, config)
    if reason:
        return reason
    run_dir = Path(run_dir)
    lock = run_dir / LOCK_NAME
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        lock.unlink(missing_ok=True)  # stale: its process is gone
        descriptor = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        with os.fdopen(descriptor, "w") as handle:
            json.dump({"pid": os.getpid(), "host": socket.gethostname()}, handle)
    except FileExistsError:
        return refusal(run_dir) or f"{run_dir} was locked by another run a moment ago: choose another hydra.run.dir."
    except OSError as error:
        lock.unlink(missing_ok=True)
        return f"Cannot write to {run_dir} ({error.strerror}): choose a writable hydra.run.dir or paths.log_dir."
    atexit.register(release, run_dir)
    return None


def release(run_dir):
    """Removes this process's lock from `run_dir` (another process's lock is left alone)."""
    lock = Path(run_dir) / LOCK_NAME
    try:
        if json.loads(lock.read_text()).get("pid") == os.getpid():
            lock.unlink()
    except (OSError, ValueError, AttributeError):
        pass


def keep_apart(config, subdir):
    """Moves this process's `.hydra/` and log file into `subdir` of the run directory, before Hydra writes them."""
    with read_write(config.hydra), open_dict(config.hydra):
        if config.hydra.output_subdir is not None:
            config.hydra.output_subdir = f"{subdir}/{config.hydra.output_subdir}"
        handler = config.hydra.job_logging.get("handlers", {}).get("file")
        if handler is not None:
            handler.filename = f"${{hydra.runtime.output_dir}}/{subdir}/${{hydra.job.name}}.log"


class RunDirectoryLock(Callback):
    """Hydra callback (configs/hydra/default.yaml): locks the run directory of a single run before Hydra writes to it."""

    def on_run_start(self, config, **kwargs):
        rank = process_rank(config.trainer.strategy, config.trainer.cluster.process_id) if "trainer" in config else 0
        if rank:  # a data_parallel process after the first: process 0 holds the directory; this one logs below it
            (Path(config.hydra.run.dir) / f"process_{rank}").mkdir(parents=True, exist_ok=True)
            keep_apart(config, f"process_{rank}")
            return
        reason = acquire(config.hydra.run.dir, config)
        if reason:
            print(f"Error: {reason}", file=sys.stderr)
            raise SystemExit(1)

    def on_run_end(self, config, **kwargs):
        if not ("trainer" in config and process_rank(config.trainer.strategy, config.trainer.cluster.process_id)):
            release(config.hydra.run.dir)
