"""`python -m zoo.bench --compare`'s table: every stack measured, the ratios its figures give, PyTorch's absence explained."""

import re

import pytest

from zoo.benchmarks.speed import TORCH_HINT, compare_with_peers

pytestmark = pytest.mark.unit


@pytest.mark.slow  # the train.py stack starts the CLI
def test_the_comparison_measures_each_stack_and_divides_their_means(capsys):
    compare_with_peers([8], steps=2, rounds=1, torch_python="/no/such/python")
    lines = capsys.readouterr().out.strip().splitlines()
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    assert header == ["batch", "zoo series/s", "zoo, XLA series/s", "train.py series/s", "bare Keras series/s", "PyTorch series/s",
                      "zoo / Keras", "train.py / Keras", "zoo / PyTorch", "zoo, XLA / PyTorch"]  # fmt: skip
    row = [cell.strip() for cell in lines[2].strip("|").split("|")]
    zoo, zoo_xla, train_py, keras_figure = (float(cell.replace(",", "")) for cell in row[1:5])
    assert row[0] == "8" and min(zoo, zoo_xla, train_py, keras_figure) > 0
    assert row[5] == "not installed" and row[8:] == ["-", "-"]
    for ratio, stack in ((row[6], zoo), (row[7], train_py)):
        assert abs(float(ratio) - stack / keras_figure) <= 0.01 + 0.005 * stack / keras_figure  # ratio of the rounded figures
    assert lines[-1] == TORCH_HINT and re.search(r"pip install torch", TORCH_HINT)
