"""The CLI tests' processes: forks of tests/fork_server.py, which imported Keras and TensorFlow once.

`start_cli` starts `python <script> <args>` (or `python -m <module> <args>`) and returns an object
used like `subprocess.Popen`. With the test process's own environment the command runs in a fork
of this test process's fork server, which saves the ~3 s of CPU each start spends importing
TensorFlow; with other environment variables (another backend, XLA flags) it runs as a new Python,
since those are read while TensorFlow or JAX load, and so does a test of start-up itself.
"""

import atexit
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


class ForkedProcess:
    """An entry point forked by the fork server, used like subprocess.Popen; its streams go to files."""

    def __init__(self, args, pid, folder):
        self.args, self.pid, self.folder, self.returncode = args, pid, folder, None

    def poll(self):
        status = self.folder / "status"
        if self.returncode is None and status.exists():
            self.returncode = int(status.read_text())
        return self.returncode

    def wait(self, timeout=None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(self.args, timeout)
            time.sleep(0.01)
        return self.returncode

    def send_signal(self, signal_number):
        if self.poll() is None:
            os.kill(self.pid, signal_number)

    def kill(self):
        self.send_signal(signal.SIGKILL)

    def communicate(self, timeout=None):
        """Waits for the process; returns its (stdout, stderr) as text."""
        self.wait(timeout)
        streams = tuple((self.folder / name).read_text(errors="replace") for name in ("stdout", "stderr"))
        shutil.rmtree(self.folder, ignore_errors=True)
        return streams


class ForkServer:
    """This test process's tests/fork_server.py, started on first use."""

    _server = None

    @classmethod
    def get(cls):
        if cls._server is None:
            cls._server = cls()
        return cls._server

    def __init__(self):
        self.scratch = Path(tempfile.mkdtemp(prefix="zoo-forks-"))
        self.log = self.scratch / "server.log"
        with open(self.log, "w") as log:
            self.process = subprocess.Popen(
                [sys.executable, str(ROOT / "tests" / "fork_server.py")],
                cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True,
            )
        ready = json.loads(self.process.stdout.readline() or '{"ready": false, "why": "it ended while importing"}')
        self.unavailable = None if ready["ready"] else ready["why"]
        if self.unavailable:
            warnings.warn(f"The CLI tests start new Python processes: {self.unavailable}.", stacklevel=2)
        atexit.register(self.close)

    def start(self, argv, cwd, file_size_limit=None):
        folder = Path(tempfile.mkdtemp(dir=self.scratch))
        request = {
            "argv": argv, "cwd": str(cwd), "env": dict(os.environ), "file_size_limit": file_size_limit,
            **{name: str(folder / name) for name in ("stdout", "stderr", "status")},
        }
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        reply = self.process.stdout.readline()
        if not reply:
            raise RuntimeError(f"The fork server ended; its log ({self.log}) ends with:\n{self.log.read_text()[-3000:]}")
        return ForkedProcess(argv, json.loads(reply)["pid"], folder)

    def close(self):
        self.process.stdin.close()
        self.process.wait(timeout=30)
        shutil.rmtree(self.scratch, ignore_errors=True)


def start_cli(script, *args, cwd=ROOT, env=None, file_size_limit=None, new_python=False):
    """Starts `python <script> <args>` (script="-m": `python -m <args>`) with its streams captured.

    Args:
        script: str. A path, absolute or relative to the repository root, or "-m".
        env: dict or None. Variables to add to this process's environment; any means a new Python.
        new_python: bool. A new Python even so, for a test of what happens while TensorFlow loads.
        file_size_limit: int or None. RLIMIT_FSIZE for the process, in bytes.

    Returns:
        A ForkedProcess or a subprocess.Popen with text stdout and stderr pipes.
    """
    argv = [*([script] if script == "-m" else [str(ROOT / script)]), *args]
    server = ForkServer.get() if not (env or new_python) else None
    if server is not None and server.unavailable is None:
        return server.start(argv, cwd, file_size_limit)

    def limit():
        if file_size_limit is not None:
            import resource

            resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))

    return subprocess.Popen(
        [sys.executable, *argv], cwd=cwd, env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=limit,
    )


def run_to_end(process, timeout=600):
    """Waits for a process from `start_cli`; returns a CompletedProcess (killing it past `timeout` seconds)."""
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
