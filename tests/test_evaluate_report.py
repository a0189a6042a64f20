"""evaluate.py's report, figures and TensorBoard additions, and the comparison table over runs."""

import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT, evaluate_in_process, run_cli, train_in_process
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

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


def test_compare_sorts_runs_by_the_monitored_metric(tmp_path):
    # Two runs laid out as a sweep's jobs, trained in this process (the README test runs a real sweep and compare).
    sweep = tmp_path / "sweep"
    for job, rate in enumerate(["1e-3", "1e-2"]):
        train_in_process(sweep / f"{job}_last_state", f"trainer.learning_rate={rate}", "debug=smoke", "trainer.epochs=2")
    completed = subprocess.run(
        [sys.executable, "-m", "zoo.compare", str(sweep)], cwd=ROOT, capture_output=True, text=True, check=True
    )
    table = (sweep / "comparison.md").read_text().splitlines()
    header = [cell.strip() for cell in table[0].strip("|").split("|")]
    assert header[:3] == ["run", "model.name", "trainer.learning_rate"]  # only what varies
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in table[2:]]
    assert len(rows) == 2
    values = [float(row[header.index("value")]) for row in rows]
    assert values == sorted(values, reverse=True)  # val_accuracy: best first
    for row in rows:
        metrics = json.loads((sweep / row[0] / "metrics.json").read_text())
        assert float(row[header.index("value")]) == pytest.approx(metrics["validation"]["accuracy"], abs=1e-4)
    assert (sweep / "comparison.csv").is_file() and table[0] in completed.stdout


def test_compare_of_an_empty_directory_is_a_one_line_error(tmp_path):
    completed = subprocess.run([sys.executable, "-m", "zoo.compare", str(tmp_path)], cwd=ROOT, capture_output=True, text=True)
    assert completed.returncode == 1
    assert completed.stderr.strip().splitlines()[-1] == f"Error: No finished runs (metrics.json + config.yaml) under {tmp_path}."
