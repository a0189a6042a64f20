"""python -m zoo.bench_real: finds .ts pairs, reads published figures, trains each model and writes the table."""

import json
import shutil

import pytest
import yaml
from conftest import EXAMPLES, run_cli

from zoo.benchmarks.real_series import find_sets, format_cell, progress_line, read_published

pytestmark = pytest.mark.unit

README = """# Sets

| set | train / test | InceptionTime (published) | notes |
|---|---|---|---|
| `Tiny` | 30 / 12 | 0.917 | made up |
| `Other` | 1 / 1 | n/a | no figure |
"""


def make_folder(root):
    folder = root / "sets" / "Tiny"
    folder.mkdir(parents=True)
    shutil.copy(EXAMPLES / "tiny_TRAIN.ts", folder / "Tiny_TRAIN.ts")
    shutil.copy(EXAMPLES / "tiny_TEST.ts", folder / "Tiny_TEST.ts")
    (root / "sets" / "Lonely_TRAIN.ts").write_text("no test file beside it")
    return root / "sets"


def test_finds_pairs_at_any_depth_and_skips_a_lone_training_file(tmp_path):
    folder = make_folder(tmp_path)
    assert list(find_sets(folder)) == ["Tiny"]


def test_published_figures_from_a_readme_table_or_a_csv(tmp_path):
    (tmp_path / "README.md").write_text(README)
    assert read_published(tmp_path) == {"Tiny": 0.917}
    (tmp_path / "published.csv").write_text("set,accuracy\nTiny,0.5\n")
    assert read_published(tmp_path) == {"Tiny": 0.5}
    assert read_published(tmp_path / "missing") == {}


def test_progress_counts_runs_and_estimates_the_rest_from_those_done():
    assert progress_line(2, 6, 130, "OSULeaf fcn seed 0", "b/train.log") == (
        "Run 3 of 6: OSULeaf fcn seed 0 (log: b/train.log); 2 min 10 s so far, about 4 min 20 s left."
    )


def test_a_cell_is_one_run_or_the_mean_and_spread_over_seeds():
    assert format_cell([(0.72, 206.0, 286, None)]) == "0.720 (206 s, 286 ep, 0.7 s/ep)"
    assert format_cell([(None, 12.4, None, "Error: ...")]) == "failed (12 s)"
    three = [(0.72, 200.0, 286, None), (0.72, 210.0, 286, None), (0.70, 220.0, 286, None)]
    assert format_cell(three) == "0.713 ± 0.012 (3 seeds: 0.720 0.720 0.700; 210 s per run)"
    assert format_cell([(0.7, 10.0, 5, None), (None, 20.0, None, "stopped")]) == "0.700 ± 0.000 (2 seeds: 0.700 failed; 15 s per run)"
    assert format_cell([(None, 1.0, None, "x"), (None, 1.0, None, "y")]) == "failed (2 seeds)"


def test_an_ensemble_cell_shows_its_members_beside_it():
    assert format_cell([(0.76, 900.0, 1430, None, [0.70, 0.72, 0.74])]) == (
        "0.760 (900 s, 1430 ep over 3 members; members 0.720 ± 0.020: 0.700 0.720 0.740)"
    )
    two_seeds = [(0.76, 900.0, 10, None, [0.70, 0.72]), (0.74, 800.0, 10, None, [0.74, 0.76])]
    assert format_cell(two_seeds) == "0.750 ± 0.014 (2 seeds: 0.760 0.740; 850 s per run; members 0.730 ± 0.026)"


@pytest.mark.slow
def test_trains_every_model_and_writes_the_table(tmp_path):
    folder = make_folder(tmp_path)
    (folder / "README.md").write_text(README)
    output = tmp_path / "bench"
    completed = run_cli(
        "-m", "zoo.bench_real", str(folder), "trainer.steps=4", "--models", "fcn", "last_state", "--ensemble", "2", "--output", str(output)
    )
    table = (output / "bench_real.md").read_text()
    assert "| set | published | fcn | last_state |" in table
    row = next(line for line in table.splitlines() if line.startswith("| Tiny |"))
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[1] == "0.917"
    for cell, model in zip(cells[2:], ("fcn", "last_state")):
        metrics = json.loads((output / "Tiny" / model / "metrics.json").read_text())
        members = [scores["accuracy"] for scores in metrics["ensemble"]["test"]]
        # "0.750 (12 s, 2 ep over 2 members; members 0.708 ± 0.059: 0.667 0.750)"
        assert cell.startswith(f"{metrics['test']['accuracy']:.3f} (") and f": {members[0]:.3f} {members[1]:.3f})" in cell
    assert "overrides trainer.steps=4, ensembles of 2 (trainer.ensemble)" in table and table in completed.stdout


@pytest.mark.slow
def test_several_seeds_train_each_model_once_per_seed(tmp_path):
    folder = make_folder(tmp_path)
    (folder / "README.md").write_text(README)
    output = tmp_path / "bench"
    completed = run_cli(
        "-m", "zoo.bench_real", str(folder), "trainer.steps=4", "--models", "fcn", "--seed", "0", "1", "--output", str(output)
    )
    table = (output / "bench_real.md").read_text()
    assert "| set | published | fcn |" in table
    row = next(line for line in table.splitlines() if line.startswith("| Tiny |"))
    published, cell = [cell.strip() for cell in row.strip("|").split("|")][1:]
    assert published == "0.917"
    runs = [output / "Tiny" / "fcn" / f"seed_{seed}" for seed in (0, 1)]
    assert [yaml.safe_load((run / "config.yaml").read_text())["seed"] for run in runs] == [0, 1]
    accuracies = [json.loads((run / "metrics.json").read_text())["test"]["accuracy"] for run in runs]
    mean, spread = cell.split()[0], cell.split()[2]  # "0.583 ± 0.059 (2 seeds: 0.542 0.625; 9 s per run)"
    assert float(mean) == pytest.approx(sum(accuracies) / 2, abs=5e-4)
    assert f"2 seeds: {accuracies[0]:.3f} {accuracies[1]:.3f};" in cell and float(spread) >= 0
    assert "overrides trainer.steps=4" in table and "seed 0 1." in table and table in completed.stdout
    progress = [line for line in completed.stdout.splitlines() if line.startswith("Run ")]
    assert progress[0] == f"Run 1 of 2: Tiny fcn seed 0 (log: {runs[0]}/train.log); 0 min 0 s so far."
    assert progress[1].startswith(f"Run 2 of 2: Tiny fcn seed 1 (log: {runs[1]}/train.log); ") and " left." in progress[1]
