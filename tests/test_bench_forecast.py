"""python -m zoo.bench_forecast: finds train/test pairs and .tsf files, reads the README's season and published rows, writes the table."""

import json

import numpy as np
import pytest
from conftest import run_cli

from zoo.benchmarks.forecast_series import find_sets, horizon_of_test_file, read_readme

pytestmark = pytest.mark.unit

README = """# Tiny hourly

Forecast 4 steps after each history. Seasonality 6

| method | sMAPE | MASE | OWA |
|---|---|---|---|
| Naive2 (benchmark) | 18.383 | 2.395 | 1.000 |
| Someone's method | 9.0 | 0.9 | 0.45 |
"""


def make_folder(root, count=3, length=60, horizon=4):
    folder = root / "sets"
    folder.mkdir()
    rng = np.random.default_rng(0)
    histories = [10 * (k + 1) * (2 + np.sin(2 * np.pi * np.arange(length + horizon) / 6)) + rng.normal(0, 0.3, length + horizon) for k in range(count)]
    for name, part in (("train", slice(0, length)), ("test", slice(length, length + horizon))):
        rows = ['"V1",' + ",".join(f'"V{t + 2}"' for t in range(length))]
        rows += [f'"T{k}",' + ",".join(f"{v:.2f}" for v in h[part]) for k, h in enumerate(histories)]
        (folder / f"Tiny-{name}.csv").write_text("\n".join(rows) + "\n")
    (folder / "Lonely-train.csv").write_text('"V1","V2"\n"A",1\n')  # no test file beside it
    (folder / "README.md").write_text(README)
    return folder


def test_finds_pairs_and_reads_the_season_and_published_rows(tmp_path):
    folder = make_folder(tmp_path)
    assert list(find_sets(folder)) == ["Tiny"]
    season, rows = read_readme(folder)
    assert season == 6 and rows == [["Naive2 (benchmark)", "18.383", "2.395", "1.000"], ["Someone's method", "9.0", "0.9", "0.45"]]
    assert horizon_of_test_file(find_sets(folder)["Tiny"][1]) == 4
    assert read_readme(tmp_path / "missing") == (None, [])


@pytest.mark.slow
def test_trains_each_forecaster_and_writes_the_table(tmp_path):
    folder = make_folder(tmp_path)
    output = tmp_path / "bench"
    completed = run_cli("-m", "zoo.bench_forecast", str(folder), "trainer.epochs=1", "--models", "seq2seq", "--output", str(output))
    table = (output / "bench_forecast.md").read_text()
    assert "| set | model | sMAPE | MASE | OWA | seconds |" in table and table in completed.stdout
    metrics = json.loads((output / "Tiny" / "seq2seq" / "metrics.json").read_text())
    scores = metrics["forecast"]["model"]
    assert f"| Tiny | seq2seq | {scores['smape']:.3f} | {scores['mase']:.3f} | {scores['owa']:.3f} |" in table
    assert "| Tiny | seasonal naive (same windows) |" in table and "| Someone's method | 9.0 | 0.9 | 0.45 |" in table
    config = (output / "Tiny" / "seq2seq" / "config.yaml").read_text()
    assert "season_length: 6" in config and "horizon: 4" in config  # the README's season, the test file's horizon
