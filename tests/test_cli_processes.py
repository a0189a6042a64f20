"""A command forked from the fork server (tests/cli_processes.py) ends as the same command in a new Python does."""

import signal

import pytest
from cli_processes import ForkedProcess, run_to_end, start_cli

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    "script, args",
    [
        ("train.py", ["+epochs=3"]),  # refused before Keras loads
        ("-m", ["zoo.compare", "."]),  # a relative path, read from the working directory
        ("-m", ["zoo.anatomy", "model=last_state", "model.units=4"]),  # builds a Keras model
    ],
)
def test_a_forked_command_exits_and_prints_as_a_new_python_does(script, args, tmp_path):
    forked = start_cli(script, *args, cwd=tmp_path)
    assert isinstance(forked, ForkedProcess)
    ours = run_to_end(forked)
    theirs = run_to_end(start_cli(script, *args, cwd=tmp_path, new_python=True))
    assert (ours.returncode, ours.stdout, ours.stderr) == (theirs.returncode, theirs.stdout, theirs.stderr)
    assert ours.stdout or ours.stderr


def test_a_forked_command_is_killed_by_its_pid(tmp_path):
    process = start_cli("train.py", "debug=smoke", f"hydra.run.dir={tmp_path / 'run'}")
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=60) == -signal.SIGKILL
