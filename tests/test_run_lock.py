"""One run per directory (zoo.runs.lock): refusals, the lock file, stale locks from dead processes."""

import json
import os
import socket
import subprocess
import sys

import pytest

from zoo.runs.lock import LOCK_NAME, acquire, refusal, release

pytestmark = pytest.mark.unit


def dead_pid():
    """The PID of a process that has already exited."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_free_directory_is_locked_with_this_process_and_released(tmp_path):
    run_dir = tmp_path / "run"
    assert acquire(run_dir) is None
    holder = json.loads((run_dir / LOCK_NAME).read_text())
    assert holder == {"pid": os.getpid(), "host": socket.gethostname()}
    release(run_dir)
    assert not (run_dir / LOCK_NAME).exists()


@pytest.mark.slow
def test_a_stale_lock_from_a_dead_process_is_taken_over(tmp_path):
    (tmp_path / LOCK_NAME).write_text(json.dumps({"pid": dead_pid(), "host": socket.gethostname()}))
    assert refusal(tmp_path) is None
    assert acquire(tmp_path) is None
    assert json.loads((tmp_path / LOCK_NAME).read_text())["pid"] == os.getpid()
    release(tmp_path)


def test_a_live_lock_an_unreadable_host_and_a_finished_run_are_refused(tmp_path):
    parent_pid = os.getppid()  # alive: it runs this test
    (tmp_path / LOCK_NAME).write_text(json.dumps({"pid": parent_pid, "host": socket.gethostname()}))
    assert refusal(tmp_path) == (
        f"{tmp_path} is in use by another run (process {parent_pid} on {socket.gethostname()}): "
        "wait for it to end or choose another hydra.run.dir."
    )
    # Another machine's lock cannot be checked from here, so it counts as live.
    (tmp_path / LOCK_NAME).write_text(json.dumps({"pid": 1, "host": "elsewhere"}))
    assert "in use by another run (process 1 on elsewhere)" in acquire(tmp_path)
    (tmp_path / LOCK_NAME).unlink()
    (tmp_path / "metrics.json").write_text("{}")
    assert "already holds a finished run (metrics.json)" in refusal(tmp_path)


def test_release_leaves_another_process_lock_alone(tmp_path):
    other = {"pid": os.getppid(), "host": socket.gethostname()}
    (tmp_path / LOCK_NAME).write_text(json.dumps(other))
    release(tmp_path)
    assert json.loads((tmp_path / LOCK_NAME).read_text()) == other


def test_a_file_where_the_run_directory_should_be_is_refused(tmp_path):
    (tmp_path / "run").write_text("not a directory")
    assert acquire(tmp_path / "run") == f"{tmp_path / 'run'} is a file, not a run directory: choose another hydra.run.dir."


def test_an_unwritable_directory_is_one_line(tmp_path, monkeypatch):
    # Simulated (these machines run as root, which writes anywhere): the lock file cannot be created.
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "open", refuse)
    reason = acquire(tmp_path / "run")
    assert reason == (
        f"Cannot write to {tmp_path / 'run'} (Permission denied): choose a writable hydra.run.dir or paths.log_dir."
    )
