"""One run per directory: a Hydra callback that locks `hydra.run.dir` before Hydra writes into it.

Hydra saves `.hydra/config.yaml` and `overrides.yaml` before the task starts, so a check inside
`train()` comes too late to protect a finished or running run. `RunDirectoryLock.on_run_start`
runs before that: it refuses a directory that holds a finished run (`metrics.json`) or that a live
process has locked, an unfinished run with another config, and a `resume=` that names no run or
comes with other overrides, with one line and nothing touched. Otherwise it writes `.lock` (the PID,
its start time and the host) and removes it when the process exits. Checking and writing the lock
happen under an exclusive `flock` on it, so two processes starting at one instant cannot both take
it. A lock whose process is gone (a killed run, or a PID since reused by another process) is stale
and taken over; another machine's lock cannot be checked from here, and the message says how to
clear it.

It also records what the directory held before this attempt, so a run refused after Hydra
started (`zoo.cli`) removes only what this attempt created.

A sweep (`-m`) may go only into a new folder or into one holding a sweep of the same overrides: a
re-run of that sweep, whose finished trials are skipped and unfinished ones resume (`train()`).
Another sweep there would rewrite its trials' `.hydra/`, so it is refused before Hydra writes.
"""

import atexit
import fcntl
import json
import os
import socket
import sys
from pathlib import Path

from hydra.experimental.callback import Callback
from omegaconf import OmegaConf, open_dict, read_write

from zoo.config import check_before_keras
from zoo.errors import ZooError
from zoo.runs.directory import load_config_file
from zoo.runs.naming import named_after_overrides
from zoo.runs.saved_config import another_config_refusal, differing_keys

LOCK_NAME = ".lock"
# Entries only a zoo run directory holds (process_<k>/: the other processes of a data_parallel run,
# which may start first); a non-empty directory with none of them is someone else's.
RUN_MARKERS = (".hydra", LOCK_NAME, "config.yaml", "checkpoints", "backups", "metrics.json", "tensorboard")
# What each run directory held before this process's attempt, by absolute path: (the set of its
# entries, or None if it did not exist; the folders above it this attempt makes, deepest first).
FOUND_BEFORE = {}


# Environment variables that hold a process's rank under launchers jax.distributed detects.
RANK_VARIABLES = ("JAX_PROCESS_ID", "SLURM_PROCID", "OMPI_COMM_WORLD_RANK")


def process_rank(strategy, process_id=None):
    """Returns this process's rank in a `data_parallel` run (0 otherwise), before JAX has joined the processes.

    Args:
        strategy: `trainer.strategy`.
        process_id: `trainer.cluster.process_id`, or None to read the launcher's rank variables.
    """
    if strategy != "data_parallel":
        return 0
    if process_id is None:
        ranks = [os.environ[name] for name in RANK_VARIABLES if os.environ.get(name, "").isdigit()]
        return int(ranks[0]) if ranks else 0
    return int(process_id)


def _missing_parents(path):
    """The folders above `path` that do not exist yet, deepest first."""
    missing = []
    for parent in Path(os.path.abspath(path)).parents:
        if parent.exists():
            break
        missing.append(parent)
    return missing


def _process_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by another user
        return True
    return True


def _is_run_entry(name):
    return name in RUN_MARKERS or name.startswith("process_")


def _start_time(pid):
    """The process's start time in clock ticks since boot (Linux `/proc/<pid>/stat`), or None if unknown."""
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def _holder(lock):
    """Returns the live process holding `lock` as `(pid, host)`, or None if the lock is stale or unreadable."""
    try:
        holder = json.loads(lock.read_text())
        pid, host = int(holder["pid"]), str(holder["host"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if host != socket.gethostname():
        return pid, host  # cannot tell from here; another machine's run counts as live
    if pid == os.getpid() or not _process_alive(pid):
        return None
    started = holder.get("started")
    return (pid, host) if started is None or started == _start_time(pid) else None  # else: the PID was reused


def refusal(run_dir, config=None):
    """Returns the one-line reason a run may not start in `run_dir`, or None if it may.

    Args:
        run_dir: the run's directory.
        config: the composed config (with its `hydra` node), or None to check only the lock and
            whether the run finished. An unfinished run there takes only its own config again
            (`.hydra/config.yaml`), or `resume=<run_dir>` with nothing else.
    """
    run_dir = Path(run_dir)
    if run_dir.is_symlink() and not run_dir.exists():
        return f"{run_dir} is a symbolic link to nothing ({os.readlink(run_dir)}): remove it or choose another hydra.run.dir."
    if run_dir.exists() and not run_dir.is_dir():
        return f"{run_dir} is a file, not a run directory: choose another hydra.run.dir."
    if run_dir.is_dir() and any(run_dir.iterdir()) and not any(_is_run_entry(path.name) for path in run_dir.iterdir()):
        return (
            f"{run_dir} holds files that are not a zoo run, which training there could overwrite: "
            "choose a new or empty hydra.run.dir."
        )
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
        clear = "" if holder[1] == socket.gethostname() else f" (if no run on {holder[1]} uses it, delete {run_dir / LOCK_NAME})"
        return (
            f"{run_dir} is in use by another run (process {holder[0]} on {holder[1]}): wait for it to end{clear} "
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
        differing = differing_keys(composed, OmegaConf.to_container(load_config_file(saved), resolve=False))
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
    FOUND_BEFORE.setdefault(os.path.abspath(run_dir), (set(os.listdir(run_dir)) if run_dir.is_dir() else None, _missing_parents(run_dir)))
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        with _exclusive(lock) as descriptor:
            reason = refusal(run_dir)  # again, now that no other process can be between check and write
            if reason:
                return reason
            os.ftruncate(descriptor, 0)
            holder = {"pid": os.getpid(), "host": socket.gethostname(), "started": _start_time(os.getpid())}
            os.pwrite(descriptor, json.dumps(holder).encode(), 0)
    except OSError as error:
        return f"Cannot write to {run_dir} ({error.strerror}): choose a writable hydra.run.dir or paths.log_dir."
    atexit.register(release, run_dir)
    return None


class _exclusive:
    """`with _exclusive(path) as descriptor`: `path` opened (created if missing) and flock-ed exclusively.

    Waits for another holder of the flock (it holds it only while it checks and writes). If the
    file was replaced between open and flock (a release unlinked it), it opens the new one.
    """

    def __init__(self, path):
        self.path = path
        self.descriptor = None

    def __enter__(self):
        while True:
            descriptor = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o644)
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            try:
                same = os.stat(self.path).st_ino == os.fstat(descriptor).st_ino
            except FileNotFoundError:
                same = False
            if same:
                self.descriptor = descriptor
                return descriptor
            os.close(descriptor)

    def __exit__(self, *exc):
        os.close(self.descriptor)  # releases the flock
        return False


def release(run_dir):
    """Removes this process's lock from `run_dir` (another process's lock is left alone)."""
    lock = Path(run_dir) / LOCK_NAME
    if not lock.is_file():
        return
    try:
        with _exclusive(lock):
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


def sweep_refusal(config):
    """Returns the one-line reason the sweep `config` describes may not start in `hydra.sweep.dir`, or None if it may."""
    sweep = Path(config.hydra.sweep.dir)
    if not sweep.is_dir() or not any(sweep.iterdir()):
        return None
    saved = sweep / "multirun.yaml"
    if not saved.is_file():
        return f"{sweep} holds files but no sweep (multirun.yaml): choose an empty or new hydra.sweep.dir."
    try:
        before = list(load_config_file(saved).hydra.overrides.task)
    except Exception as error:  # a ZooError, a YAML error or a missing key: not a multirun.yaml Hydra wrote
        return f"{saved} cannot be read ({str(error).splitlines()[0] if str(error) else type(error).__name__}): choose another hydra.sweep.dir."
    now = list(config.hydra.overrides.task)
    if before != now:
        return (
            f"{sweep} holds a sweep of other overrides ({' '.join(before)}); it would rewrite those trials' .hydra/: "
            "re-run that exact command to finish it, or choose another hydra.sweep.dir."
        )
    return None


class RunDirectoryLock(Callback):
    """Hydra callback (configs/hydra/default.yaml): locks the run directory of a single run before Hydra writes to it."""

    def on_run_start(self, config, **kwargs):
        if "trainer" in config:  # a training run: its config errors end it before TensorFlow loads
            try:
                check_before_keras(config)
            except ZooError as error:
                print(f"Error: {error}", file=sys.stderr)
                raise SystemExit(1) from None
        rank = process_rank(config.trainer.strategy, config.trainer.cluster.process_id) if "trainer" in config else 0
        if rank:  # a data_parallel process after the first: process 0 holds the directory; this one logs below it
            (Path(config.hydra.run.dir) / f"process_{rank}").mkdir(parents=True, exist_ok=True)
            keep_apart(config, f"process_{rank}")
            return
        named_after_overrides(config)
        reason = acquire(config.hydra.run.dir, config)
        if reason:
            print(f"Error: {reason}", file=sys.stderr)
            raise SystemExit(1)

    def on_multirun_start(self, config, **kwargs):
        reason = sweep_refusal(config)
        if reason:
            print(f"Error: {reason}", file=sys.stderr)
            raise SystemExit(1)
        if (Path(config.hydra.sweep.dir) / "multirun.yaml").is_file():
            print(f"Re-running the sweep in {config.hydra.sweep.dir}: finished trials are skipped, unfinished ones resume.")

    def on_multirun_end(self, config, **kwargs):
        """Ends a sweep with its trials' tables, best first, and, where a trial failed, a line naming them and exit code 1."""
        from zoo.compare import sweep_summary  # reads every trial's scores: only once the sweep is over

        sweep = Path(config.hydra.sweep.dir)
        for line in sweep_summary(sweep):
            print(line)
        trials = sorted(path for path in sweep.iterdir() if (path / ".hydra").is_dir()) if sweep.is_dir() else []
        failed = [trial.name for trial in trials if not (trial / "metrics.json").is_file()]
        if failed:
            print(
                f"Error: {len(failed)} of {len(trials)} trials failed ({', '.join(failed)}); each one's train.log says why.",
                file=sys.stderr,
            )
            raise SystemExit(1)

    def on_run_end(self, config, **kwargs):
        if not ("trainer" in config and process_rank(config.trainer.strategy, config.trainer.cluster.process_id)):
            release(config.hydra.run.dir)
