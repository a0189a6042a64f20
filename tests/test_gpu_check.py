"""python -m zoo.gpu_check: runs on a CPU at tiny sizes with the GPU rows marked absent, so it cannot rot before a GPU run."""

import importlib.metadata
import importlib.util
import json

import pytest
from conftest import run_cli

from zoo import gpu_check

QUICK_COMPILATION = {"XLA_FLAGS": "--xla_backend_optimization_level=0 --xla_llvm_disable_expensive_passes=true"}


@pytest.mark.unit
def test_the_wheels_for_a_bare_gpu_machine_are_pinned_to_this_environment(capsys):
    gpu_check.main(["--pins"])
    pins = dict(pin.split("==") for pin in capsys.readouterr().out.split())
    assert list(pins) == ["keras", "namex", "optree", "hydra-core", "omegaconf"]
    assert pins["keras"] == importlib.metadata.version("keras") and pins["hydra-core"] == importlib.metadata.version("hydra-core")


@pytest.mark.slow
def test_on_a_cpu_models_train_on_each_installed_backend_and_the_report_says_no_gpu(tmp_path):
    # One model: every model takes the same loop (tests/test_backends.py trains each on JAX).
    completed = run_cli("-m", "zoo.gpu_check", str(tmp_path), "--models", "last_state", env=QUICK_COMPILATION)
    report = json.loads((tmp_path / "gpu_check.json").read_text())
    assert report["gpu"] is None and report["versions"]["keras"] == importlib.metadata.version("keras")
    backends = {result["backend"]: result for result in report["backends"]}
    for backend in ("tensorflow", "jax"):
        result = backends[backend]
        assert result["device"] == "CPU" and list(result["models"]) == ["last_state"]
        assert all(row["error"] is None and row["seconds_per_step"] > 0 for row in result["models"].values())
        assert result["models"]["last_state"]["recurrent_layers"] == {"encoder_lstm_0": "meets cuDNN's conditions"}
        rows = {(row["precision"], row["data"]) for row in result["last_state"]}
        assert rows == {(p, d) for p in ("float32", "mixed_bfloat16") for d in ("equal lengths", "padded with masks")}
        assert result["peak_memory_mb"] > 0
    torch_installed = importlib.util.find_spec("torch") is not None
    assert (report["torch_peer"] is None) == (not torch_installed)
    assert 0.0 <= report["default_run"]["test"]["accuracy"] <= 1.0 and "debug=smoke" in report["default_run"]["command"]
    markdown = (tmp_path / "gpu_check.md").read_text()
    assert "GPU: absent" in markdown and "## Keras on jax" in markdown and "| last_state | encoder_lstm_0" not in markdown
    assert "| last_state |" in markdown and markdown in completed.stdout
