"""python -m zoo.bench_real: finds .ts pairs, reads published figures, trains each model and writes the table."""

import shutil

from conftest import EXAMPLES, run_cli
from zoo.bench_real import find_sets, read_published

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


def test_trains_every_model_and_writes_the_table(tmp_path):
    folder = make_folder(tmp_path)
    (folder / "README.md").write_text(README)
    output = tmp_path / "bench"
    completed = run_cli(
        "-m", "zoo.bench_real", str(folder), "trainer.steps=4", "--models", "fcn", "last_state", "--output", str(output)
    )
    table = (output / "bench_real.md").read_text()
    assert "| set | published | fcn | last_state |" in table
    row = next(line for line in table.splitlines() if line.startswith("| Tiny |"))
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[1] == "0.917"
    for cell in cells[2:]:
        accuracy = float(cell.split()[0])  # "0.750 (12 s, 1 ep, 12.0 s/ep)"
        assert 0.0 <= accuracy <= 1.0
    assert "overrides trainer.steps=4" in table and table in completed.stdout
    assert (output / "Tiny" / "fcn" / "metrics.json").is_file()
