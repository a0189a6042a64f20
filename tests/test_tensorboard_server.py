"""A real TensorBoard server over a two-run sweep: runs, scalars, text, images and HParams are served.

Run alone with: pytest -m tensorboard
"""

import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import run_cli

from zoo.training.adaptive import learning_rate_for

pytestmark = [pytest.mark.slow, pytest.mark.tensorboard]


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(base, route):
    with urllib.request.urlopen(f"{base}{route}", timeout=10) as response:
        body = response.read()
    return body if route.startswith("/data/plugin/images/individualImage") else json.loads(body)


def post(base, route, payload):
    request = urllib.request.Request(
        f"{base}{route}", data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def wait_for_runs(base, count, deadline_seconds=90):
    """Polls until TensorBoard lists `count` runs; gives up after a bounded time."""
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        try:
            runs = get(base, "/data/runs")
            if len(runs) >= count:
                return runs
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"TensorBoard did not list {count} runs within {deadline_seconds} s")


@pytest.fixture
def sweep(tmp_path):
    run_cli("train.py", "-m", "model=last_state,attention", "debug=smoke", f"paths.log_dir={tmp_path}")
    runs = sorted(tmp_path.glob("multiruns/*/*/*_*"))
    assert [run.name for run in runs] == ["0_last_state_debug-smoke", "1_attention_debug-smoke"]
    run_cli("evaluate.py", f"run_dir={runs[1]}")
    return tmp_path, runs


def test_tensorboard_serves_every_dashboard_of_a_sweep(sweep):
    log_dir, runs = sweep
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "tensorboard.main", "--logdir", str(log_dir), "--host", "127.0.0.1",
         "--port", str(port), "--load_fast=false", "--reload_interval", "1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        listed = wait_for_runs(base, 3)
        # One TensorBoard run per training run, and the sweep's own, which holds only its HParams experiment.
        sweep_run = str(runs[0].parent.relative_to(log_dir) / "tensorboard")
        names = {Path(run).parent.name: run for run in listed if run != sweep_run}
        assert set(names) == {"0_last_state_debug-smoke", "1_attention_debug-smoke"} and sweep_run in listed
        evaluated = names["1_attention_debug-smoke"]

        for run in names.values():
            loss = get(base, f"/data/plugin/scalars/scalars?run={run}&tag=loss/validation")
            assert len(loss) == 1 and loss[0][2] > 0  # [wall_time, step, value]
            assert get(base, f"/data/plugin/scalars/scalars?run={run}&tag=loss/train")
            assert get(base, f"/data/plugin/scalars/scalars?run={run}&tag=learning_rate")[0][2] == pytest.approx(learning_rate_for(32))  # debug=smoke: batch 32

        config_text = get(base, f"/data/plugin/text/text?run={evaluated}&tag=config")
        assert "name: attention" in config_text[0]["text"]
        summary_text = get(base, f"/data/plugin/text/text?run={evaluated}&tag=model_summary")
        assert "attention_pooling" in summary_text[0]["text"]

        image_tags = get(base, "/data/plugin/images/tags")
        assert {"eval/confusion_matrix", "eval/attention_weights"} <= set(image_tags[evaluated])
        assert evaluated.replace("1_attention_debug-smoke", "0_last_state_debug-smoke") not in image_tags  # only the evaluated run
        images = get(base, f"/data/plugin/images/images?run={evaluated}&tag=eval/confusion_matrix")
        png = get(base, f"/data/plugin/images/individualImage?{images[0]['query']}")
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        eval_accuracy = get(base, f"/data/plugin/scalars/scalars?run={evaluated}&tag=eval/test_accuracy")
        evaluated_metrics = json.loads((runs[1] / "eval" / "metrics.json").read_text())
        assert eval_accuracy[0][2] == pytest.approx(evaluated_metrics["test"]["accuracy"])

        experiment = post(base, "/data/plugin/hparams/experiment", {"experimentName": ""})
        hparam_names = {info["name"] for info in experiment["hparamInfos"]}
        assert {"model.name", "model.units", "trainer.learning_rate", "trainer.batch_size", "data.noise", "seed"} <= hparam_names
        metric_tags = {info["name"]["tag"] for info in experiment["metricInfos"]}
        assert {"final/test_accuracy", "final/validation_accuracy", "loss/validation"} <= metric_tags
        # The table's first columns: what the sweep varies, then the test metric (the sweep's experiment).
        assert experiment["hparamInfos"][0]["name"] == "model.name"
        assert experiment["metricInfos"][0]["name"]["tag"] == "final/test_accuracy"
        groups = post(
            base,
            "/data/plugin/hparams/session_groups",
            {"experimentName": "", "allowedStatuses": ["STATUS_UNKNOWN", "STATUS_SUCCESS"], "colParams": [],
             "startIndex": 0, "sliceSize": 10},
        )["sessionGroups"]
        by_model = {group["hparams"]["model.name"]: group for group in groups}
        # Trials are named by their directory under paths.log_dir, not by an absolute path.
        assert by_model["attention"]["name"] == str(runs[1].relative_to(log_dir))
        assert set(by_model) == {"last_state", "attention"}
        trained = json.loads((runs[0] / "metrics.json").read_text())
        final = {m["name"]["tag"]: m["value"] for m in by_model["last_state"]["metricValues"]}
        assert final["final/test_accuracy"] == pytest.approx(trained["test"]["accuracy"])
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    assert server.poll() is not None
