"""TensorFlow's C++ start-up lines: written straight to file descriptor 2, past Python and past
`TF_CPP_MIN_LOG_LEVEL` (they come before absl's logging is set up), so only a filter on that file
descriptor keeps them off the user's terminal. `ZOO_VERBOSE=1` shows them."""

import contextlib
import os
import re
import sys
import threading

# absl's preamble, info and warning lines ("I0000 00:00:... port.cc:153] oneDNN custom operations
# are on ..."), the CPU-feature line's continuation, and the failed CUDA probe of a CPU-only machine.
START_UP_LINE = re.compile(
    rb"^(WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    rb"|[IW]\d{4} [\d:.]+ +\d+ \S+\] "
    rb"|To enable the following instructions: .* rebuild TensorFlow with the appropriate compiler flags\."
    rb"|E\d{4} [\d:.]+ +\d+ \S+\] failed call to cuInit: )"
)


@contextlib.contextmanager
def start_up_lines_dropped():
    """Drops TensorFlow's start-up lines (`START_UP_LINE`) written to stderr inside the block.

    Every other line goes on to stderr as it is written, so a crash's last words still show.
    """
    if os.environ.get("ZOO_VERBOSE") == "1":
        yield
        return
    sys.stderr.flush()
    read_end, write_end = os.pipe()
    terminal = os.dup(2)
    os.dup2(write_end, 2)
    os.close(write_end)

    def forward():
        with os.fdopen(read_end, "rb") as pipe:
            for line in pipe:
                if not START_UP_LINE.match(line):
                    os.write(terminal, line)

    forwarder = threading.Thread(target=forward, name="zoo-stderr-filter", daemon=True)
    forwarder.start()
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(terminal, 2)  # closes the pipe's last write end: the forwarder reads to its end and stops
        forwarder.join()
        os.close(terminal)
