"""Starts the CLI tests' entry points as forks of one process that has already imported Keras and TensorFlow.

Every `python train.py ...` spends about 3 s of CPU importing TensorFlow before it reads its config;
the CLI tests start about a hundred of them. This server pays that once per test process: it imports what the
entry points import, then forks a child per request, and the child runs the entry point as
`python <script> <args>` (or `python -m <module> <args>`) would, in its own process, with its own
working directory, environment, standard streams and exit status. TensorFlow's runtime has not
started in the server (no session, no thread pool), so a fork is a fresh start. The README's
commands never come here: they run as typed (tests/test_readme_commands.py).

    python tests/fork_server.py

Protocol: one JSON line per request on stdin, one JSON line per reply on stdout.
    ready   {"ready": true} once the imports are done, or {"ready": false, "why": ...}
    request {"argv": [<script path> | "-m", <module>, args...], "cwd", "env", "stdout", "stderr", "status",
             "file_size_limit": bytes or null}
    reply   {"pid": <the child's pid>}
When the child ends, its return code as subprocess reports it (-N for signal N) is written to `status`.
"""

import json
import os
import resource
import runpy
import selectors
import sys


def os_threads():
    return len(os.listdir("/proc/self/task"))


def preload():
    """Imports what train.py, evaluate.py and the zoo's modules import; returns why forking is unsafe, or None."""
    import numpy  # noqa: F401  (its BLAS thread pool is fork-safe: it re-creates itself in the child)

    threads = os_threads()
    import hydra  # noqa: F401

    import zoo  # noqa: F401  (makes `keras` lazy, registers the models and resolvers)

    # Loads the zoo's lazy Keras as an entry point's first use does (TensorFlow's start-up lines dropped).
    sys.modules["keras"].layers  # noqa: B018
    import tensorflow  # noqa: F401

    import zoo.cli  # noqa: F401
    import zoo.evaluation  # noqa: F401
    import zoo.runs.loading  # noqa: F401
    import zoo.training.loop  # noqa: F401

    if os_threads() != threads:
        return f"the imports started {os_threads() - threads} threads; a fork would lose them"
    return None


def child_main(request):
    """Becomes the entry point of `request` in this forked child; the interpreter's exit is its exit."""
    stdin = os.open(os.devnull, os.O_RDONLY)
    stdout = os.open(request["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    stderr = os.open(request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    for source, target in ((stdin, 0), (stdout, 1), (stderr, 2)):
        os.dup2(source, target)
        os.close(source)
    sys.stdin = open(0, closefd=False)  # noqa: SIM115  (the server's buffered reader may hold further requests)
    if request["file_size_limit"] is not None:
        limit = request["file_size_limit"]
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    first, *args = request["argv"]
    if first == "-m":
        module = args.pop(0)
        sys.argv = ["-m", *args]
        sys.path[0] = os.getcwd()
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    else:
        sys.argv = [first, *args]
        sys.path[0] = os.path.dirname(os.path.abspath(first))
        runpy.run_path(first, run_name="__main__")


def write_status(path, returncode):
    with open(f"{path}.partial", "w") as file:
        file.write(str(returncode))
    os.replace(f"{path}.partial", path)


def serve():
    """Answers requests until stdin closes; returns the request in a forked child, None in the server."""
    statuses = {}
    selector = selectors.DefaultSelector()
    selector.register(sys.stdin, selectors.EVENT_READ)
    pending = b""
    while True:
        if selector.select(timeout=0.02):
            chunk = os.read(sys.stdin.fileno(), 65536)
            if not chunk:
                return None
            pending += chunk
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                request = json.loads(line)
                sys.stdout.flush()
                sys.stderr.flush()
                pid = os.fork()
                if pid == 0:
                    selector.close()
                    return request
                statuses[pid] = request["status"]
                print(json.dumps({"pid": pid}), flush=True)
        while statuses:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                break
            write_status(statuses.pop(pid), os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    unsafe = preload()
    print(json.dumps({"ready": unsafe is None, "why": unsafe}), flush=True)
    if unsafe is None and (request := serve()) is not None:
        child_main(request)
