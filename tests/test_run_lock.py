"""One run per directory (zoo.runs.lock): refusals, the lock file, stale locks from dead processes."""

import json
import multiprocessing
import os
import socket
import subprocess
import sys

import pytest
from omegaconf import OmegaConf

from zoo.runs.lock import LOCK_NAME, acquire, refusal, release
from zoo.runs.naming import NAME_OVERRIDES_LENGTH, named_after_overrides

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
    assert (holder["pid"], holder["host"]) == (os.getpid(), socket.gethostname()) and holder["started"] > 0
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


def _acquire_at_once(run_dir, barrier, results):
    barrier.wait()  # both processes leave the barrier together
    results.put(acquire(run_dir) is None)
    barrier.wait()  # and hold what they got until both have tried


def test_two_processes_at_one_instant_never_both_get_the_lock(tmp_path):
    context = multiprocessing.get_context("fork")  # the children only touch files; fork starts them in milliseconds
    for trial in range(20):
        run_dir = tmp_path / f"run_{trial}"
        barrier, results = context.Barrier(2), context.Queue()
        processes = [context.Process(target=_acquire_at_once, args=(run_dir, barrier, results)) for _ in range(2)]
        for process in processes:
            process.start()
        for process in processes:
            process.join(timeout=60)
        assert sorted(results.get(timeout=5) for _ in processes) == [False, True], f"trial {trial}"


def test_a_lock_whose_pid_was_reused_is_stale(tmp_path):
    # This process's parent is alive, but it did not start at the recorded time: another process took its PID.
    (tmp_path / LOCK_NAME).write_text(json.dumps({"pid": os.getppid(), "host": socket.gethostname(), "started": 1}))
    assert refusal(tmp_path) is None


def test_a_dangling_link_and_another_hosts_lock_are_named_with_what_to_do(tmp_path):
    (tmp_path / "link").symlink_to(tmp_path / "gone")
    assert refusal(tmp_path / "link") == (
        f"{tmp_path / 'link'} is a symbolic link to nothing ({tmp_path / 'gone'}): remove it or choose another hydra.run.dir."
    )
    (tmp_path / "remote").mkdir()
    (tmp_path / "remote" / LOCK_NAME).write_text(json.dumps({"pid": 1, "host": "elsewhere"}))
    assert refusal(tmp_path / "remote") == (
        f"{tmp_path / 'remote'} is in use by another run (process 1 on elsewhere): wait for it to end "
        f"(if no run on elsewhere uses it, delete {tmp_path / 'remote' / LOCK_NAME}) or choose another hydra.run.dir."
    )


def test_a_directory_of_someone_elses_files_is_refused_and_an_empty_one_is_not(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "train.log").write_text("my notes")
    assert refusal(tmp_path / "mine") == (
        f"{tmp_path / 'mine'} holds files that are not a zoo run, which training there could overwrite: "
        "choose a new or empty hydra.run.dir."
    )
    (tmp_path / "empty").mkdir()
    assert refusal(tmp_path / "empty") is None


def run_config(task_overrides, hydra_overrides=(), resume=None):
    """The part of a composed config a run's name reads: its default directory, overrides and resume."""
    return OmegaConf.create({
        "resume": resume,
        "hydra": {"run": {"dir": "outputs/runs/d/t_last_state"},
                  "overrides": {"hydra": list(hydra_overrides), "task": list(task_overrides)},
                  "job": {"config": {"override_dirname": {"exclude_keys": ["model", "paths.log_dir"]}}}},
    })


@pytest.mark.parametrize("task_overrides, hydra_overrides, resume, name", [
    (["model.units=8", "debug=smoke", "model=last_state", "paths.log_dir=/x"], (), None, "t_last_state_debug-smoke_model.units-8"),
    (["model.dropout=-0.1"], (), None, "t_last_state_model.dropout--0.1"),
    ([], (), None, "t_last_state"),  # the default run: the model alone
    (["+callbacks.csv.filename=logs/a b.csv", "model.filters=[8,16]"], (), None,
     "t_last_state_+callbacks.csv.filename-logs-a-b.csv_model.filters-8-16"),  # never nested, nothing to quote
    (["debug=smoke"], ("hydra.run.dir=mine",), None, "t_last_state"),  # a directory the user chose keeps its name
    (["resume=outputs/long_run"], (), "outputs/long_run", "t_last_state"),
])
def test_a_run_directory_is_named_after_its_model_and_overrides(task_overrides, hydra_overrides, resume, name):
    config = run_config(task_overrides, hydra_overrides, resume)
    named_after_overrides(config)
    assert config.hydra.run.dir == f"outputs/runs/d/{name}"


def test_a_long_list_of_overrides_is_cut_at_whole_ones_and_counted():
    overrides = [f"trainer.option_{index}=1" for index in range(9)]
    config = run_config(overrides)
    named_after_overrides(config)
    suffix = config.hydra.run.dir.removeprefix("outputs/runs/d/t_last_state_")
    kept, dropped = suffix.rsplit("_+", 1)
    assert len(kept) <= NAME_OVERRIDES_LENGTH and "_".join(item.replace("=", "-") for item in overrides).startswith(kept + "_")
    assert kept.count("trainer.option_") + int(dropped) == 9
