"""evaluate.py's report, figures and TensorBoard additions, and the comparison table over runs."""

import csv
import json
import shutil

import numpy as np
import pytest
from conftest import evaluate_in_process, run_cli, train_in_process
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from zoo import compare

pytestmark = pytest.mark.slow

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_classifier_report_has_per_class_scores_and_a_confusion_matrix(smoke_run):
    completed = run_cli("evaluate.py", f"run_dir={smoke_run}")
    report = json.loads((smoke_run / "eval" / "metrics.json").read_text())
    classification = report["classification"]
    confusion = np.array(classification["confusion_matrix"])
    trained = json.loads((smoke_run / "metrics.json").read_text())
    assert confusion.shape == (5, 5)
    assert np.trace(confusion) / confusion.sum() == pytest.approx(trained["test"]["accuracy"])
    assert set(classification["per_class"]) == {"sine", "square", "sawtooth", "chirp", "damped_sine"}
    markdown = (smoke_run / "eval" / "report.md").read_text()
    assert "macro-F1" in markdown and "| sine |" in markdown
    assert markdown.strip() in completed.stdout  # also printed
    assert (smoke_run / "eval" / "confusion_matrix.png").read_bytes()[:8] == PNG_SIGNATURE
    calibration = classification["calibration"]
    assert sum(b["count"] for b in calibration["bins"]) == confusion.sum() and 0.0 <= calibration["ece"] <= 1.0
    assert f"**Expected calibration error** {calibration['ece']:.4f}" in markdown
    assert (smoke_run / "eval" / "reliability.png").read_bytes()[:8] == PNG_SIGNATURE


@pytest.mark.integration
def test_forecaster_report_compares_with_baselines_per_step(tmp_path):
    run = tmp_path / "s2s"
    train_in_process(run, "model=seq2seq", "debug=smoke")
    evaluate_in_process(run)
    best = (run / "eval" / "metrics.json").read_text()
    evaluate_in_process(run, "ckpt=last")
    assert (run / "eval" / "metrics.json").read_text() == best  # the best checkpoint's evaluation stays
    assert json.loads(best)["checkpoint"].endswith("best.keras")
    report = json.loads((run / "eval_last" / "metrics.json").read_text())
    forecast = report["forecast"]
    assert report["checkpoint"].endswith("last.keras")
    assert forecast["decoding"] == "autoregressive"
    for method in ("model", "naive", "seasonal_naive"):
        assert set(forecast[method]) >= {"mae", "rmse", "smape", "mase", "per_step"}
        assert len(forecast[method]["per_step"]["mae"]) == 8
    assert forecast["worse_than_naive"] == (forecast["model"]["mae"] > forecast["naive"]["mae"])
    assert "| seasonal_naive |" in (run / "eval_last" / "report.md").read_text()
    assert (run / "eval_last" / "forecasts.png").read_bytes()[:8] == PNG_SIGNATURE
    accumulator = EventAccumulator(str(run / "tensorboard"), size_guidance={"tensors": 0})
    accumulator.Reload()
    tags = set(accumulator.Tags()["tensors"])
    assert {"eval/test_loss", "eval/model_mae", "eval_last/test_loss", "eval_last/model_mae", "eval_last/report"} <= tags


@pytest.fixture(scope="module")
def two_run_sweep(tmp_path_factory):
    """Two runs laid out as a sweep's jobs, trained in this process (the README test runs a real sweep and compare)."""
    sweep = tmp_path_factory.mktemp("compare") / "sweep"
    for job, rate in enumerate(["1e-3", "1e-2"]):
        train_in_process(sweep / f"{job}_last_state", f"trainer.learning_rate={rate}", "debug=smoke", "trainer.epochs=2")
    return sweep


@pytest.fixture
def sweep(two_run_sweep, tmp_path):
    """A copy of the two-run sweep this test may write into."""
    shutil.copytree(two_run_sweep, tmp_path / "sweep")
    return tmp_path / "sweep"


def markdown_rows(path):
    """The header and the rows of comparison.md's first table."""
    (table, *_) = [part for part in path.read_text().split("\n\n") if part.startswith("|")]
    cells = [[cell.strip() for cell in line.strip("|").split("|")] for line in table.splitlines()]
    return cells[0], cells[2:]


def test_compare_sorts_each_task_by_its_headline_metric(sweep):
    completed = run_cli("-m", "zoo.compare", str(sweep))
    assert (sweep / "comparison.md").read_text().startswith("classify: 2 runs, best test_accuracy first\n")
    header, rows = markdown_rows(sweep / "comparison.md")
    assert header == ["run", "model.name", "trainer.learning_rate", "val_accuracy", "test_accuracy", "test_loss"]  # only what varies
    assert len(rows) == 2
    values = [float(row[header.index("test_accuracy")]) for row in rows]
    assert values == sorted(values, reverse=True)  # accuracy: best first
    for row in rows:
        metrics = json.loads((sweep / row[0] / "metrics.json").read_text())
        assert float(row[header.index("val_accuracy")]) == pytest.approx(metrics["validation"]["accuracy"], abs=1e-4)
        assert float(row[header.index("test_accuracy")]) == pytest.approx(metrics["test"]["accuracy"], abs=1e-4)
    with open(sweep / "comparison.csv") as file:
        assert [row["monitor"] for row in csv.DictReader(file)] == ["val_accuracy", "val_accuracy"]
    assert header[0] in completed.stdout


@pytest.mark.integration
def test_compare_keeps_to_twelve_columns_unless_asked_for_all(sweep, tmp_path):
    records = compare.collect_runs([sweep])
    for index, record in enumerate(records):  # as if twenty hyperparameters had varied
        record["hparams"].update({f"trainer.option_{k:02d}": index for k in range(20)})
    ((task, metric, header, rows, left_out),) = compare.task_tables(records, sweep)
    assert len(header) == compare.MAX_COLUMNS and left_out == 21 - (compare.MAX_COLUMNS - 5)
    ((_, _, every, _, none_left),) = compare.task_tables(records, sweep, all_columns=True)
    assert len(every) == 26 and none_left == 0


@pytest.mark.integration
def test_compare_lists_a_failed_trial_and_refuses_to_replace_its_files_unless_asked(sweep, capsys):
    (sweep / "2_attention" / ".hydra").mkdir(parents=True)  # a trial whose training failed: Hydra's files, no metrics.json
    compare.main([str(sweep)])
    text = (sweep / "comparison.md").read_text()
    assert text.rstrip().endswith("Failed or unfinished (no metrics.json; each one's train.log says why): 2_attention")
    assert len(markdown_rows(sweep / "comparison.md")[1]) == 2
    with open(sweep / "comparison.csv") as file:
        assert len(list(csv.DictReader(file))) == 2
    (sweep / "comparison.md").write_text("kept")
    capsys.readouterr()
    with pytest.raises(SystemExit) as stop:
        compare.main([str(sweep)])
    assert stop.value.code == 1
    assert capsys.readouterr().err.strip() == (
        f"Error: {sweep}/comparison.md and {sweep}/comparison.csv exist already: "
        "pass --overwrite to replace them or --output <folder> to write elsewhere."
    )
    assert (sweep / "comparison.md").read_text() == "kept"
    compare.main([str(sweep), "--overwrite"])
    assert (sweep / "comparison.md").read_text() == text


@pytest.mark.integration
def test_compare_of_runs_writes_next_to_them_never_inside_one(sweep, capsys, tmp_path):
    run = sweep / "0_last_state"
    compare.main([str(run)])
    assert not (run / "comparison.md").exists()
    assert markdown_rows(sweep / "comparison.md")[1][0][0] == "0_last_state"  # labelled by name, not "."
    capsys.readouterr()
    with pytest.raises(SystemExit):
        compare.main([str(sweep), "--output", str(run)])
    assert capsys.readouterr().err.strip() == (
        f"Error: --output {run} is a run directory, whose files comparisons must not mix with: choose another folder."
    )
    compare.main([str(sweep), "--output", str(tmp_path / "tables")])
    assert len(markdown_rows(tmp_path / "tables" / "comparison.md")[1]) == 2


def test_compare_of_an_empty_directory_is_a_one_line_error(tmp_path):
    completed = run_cli("-m", "zoo.compare", str(tmp_path), check=False)
    assert completed.returncode == 1
    assert completed.stderr.strip().splitlines()[-1] == f"Error: No finished runs (metrics.json + config.yaml) under {tmp_path}."
