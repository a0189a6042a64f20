"""TensorFlow's C++ start-up lines, written straight to file descriptor 2, are dropped; every other line passes."""

import os

import pytest

from zoo.native_output import start_up_lines_dropped

pytestmark = pytest.mark.unit

START_UP = [
    b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n",
    b"I0000 00:00:1796412055.481319    2576 port.cc:153] oneDNN custom operations are on.\n",
    b"I0000 00:00:1796410126.696006   14008 cpu_feature_guard.cc:227] This TensorFlow binary is optimized.\n",
    b"To enable the following instructions: AVX2 FMA, in other operations, rebuild TensorFlow with the appropriate compiler flags.\n",
    b"E0000 00:00:1796411770.898041    1610 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error\n",
]
OTHERS = [b"E0000 00:00:1796411770.898041    1610 cuda_dnn.cc:52] could not load cuDNN\n", b"Illegal instruction\n"]


def write_all_to_fd_2():
    for line in [*START_UP[:2], OTHERS[0], *START_UP[2:], OTHERS[1]]:
        os.write(2, line)


def test_start_up_lines_are_dropped_and_the_rest_kept_in_order(capfd, monkeypatch):
    monkeypatch.delenv("ZOO_VERBOSE", raising=False)
    with start_up_lines_dropped():
        write_all_to_fd_2()
    assert capfd.readouterr().err.encode() == b"".join(OTHERS)
    os.write(2, START_UP[1])  # after the block, fd 2 is the terminal again
    assert capfd.readouterr().err.encode() == START_UP[1]


def test_zoo_verbose_keeps_every_line(capfd, monkeypatch):
    monkeypatch.setenv("ZOO_VERBOSE", "1")
    with start_up_lines_dropped():
        write_all_to_fd_2()
    assert capfd.readouterr().err.encode() == b"".join([*START_UP[:2], OTHERS[0], *START_UP[2:], OTHERS[1]])
