"""`python -m zoo.bench --compare`'s and `--breakdown`'s tables: every stack measured, the ratios its figures give, PyTorch's absence explained."""

import re

import pytest

from zoo.benchmarks import cost
from zoo.benchmarks.cost import STACKS, stack_throughput
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
        # The figures are printed to the unit and the ratio to 0.01: it lies between the extremes of the unrounded ones.
        assert (stack - 0.5) / (keras_figure + 0.5) - 0.005 <= float(ratio) <= (stack + 0.5) / (keras_figure - 0.5) + 0.005
    cpu_header = next(index for index, line in enumerate(lines) if line.startswith("| batch | zoo CPU ms |"))
    cpu_row = [cell.strip() for cell in lines[cpu_header + 2].strip("|").split("|")]
    zoo_cpu, keras_cpu = (float(cell.replace(",", "")) for cell in cpu_row[1:3])
    assert cpu_row[0] == "8" and min(zoo_cpu, keras_cpu) > 0
    assert (keras_cpu - 0.5) / (zoo_cpu + 0.5) - 0.005 <= float(cpu_row[3]) <= (keras_cpu + 0.5) / (zoo_cpu - 0.5) + 0.005
    assert lines[-1] == TORCH_HINT and re.search(r"pip install torch", TORCH_HINT)


@pytest.mark.integration  # trains the in-process stacks for a few steps
def test_the_breakdown_times_each_in_process_stack_with_the_zoo_callbacks_writing_their_files():
    for stack in STACKS[:5]:
        assert stack_throughput(stack, batch_size=8, steps=4, warmup=1) > 0


@pytest.mark.unit
def test_the_breakdown_divides_each_stack_by_the_one_above_and_by_bare_keras(capsys, monkeypatch):
    figures = dict(zip(STACKS, (100.0, 120.0, 90.0, 90.0, 180.0, 150.0, 160.0)))
    monkeypatch.setattr(cost, "stack_throughput", lambda stack, batch_size, steps: figures[stack])
    cost.cost_breakdown([64], steps=4, rounds=2)
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in capsys.readouterr().out.strip().splitlines()[2:]]
    assert [row[1] for row in rows] == list(STACKS)
    assert rows[1][2:] == ["120, 120", "1.20", "1.20"] and rows[2][3:] == ["0.75", "0.90"] and rows[4][3:] == ["2.00", "1.80"]
    assert rows[0][3] == "-"
