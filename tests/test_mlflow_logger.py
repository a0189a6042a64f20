"""`logger=mlflow`, read back through MLflow's own client: a run's hyperparameters, a metric per epoch,
its final scores and files; a resumed run goes on in the same MLflow run; a missing MLflow is one line."""

import json
import logging
import sys

import pytest
from conftest import compose_config, train_in_process
from mlflow.tracking import MlflowClient
from omegaconf import OmegaConf

from zoo import ZooError
from zoo.mlflow_logger import RUN_FILE, MLflowLogger, finish_run
from zoo.tensorboard_logger import flat_hparams
from zoo.training.run_config import check_mlflow_store


def only_run(tracking_uri, experiment="zoo"):
    client = MlflowClient(tracking_uri)
    (run,) = client.search_runs([client.get_experiment_by_name(experiment).experiment_id])
    return client, run


@pytest.mark.integration
def test_a_run_logs_its_hyperparameters_every_epoch_and_its_final_scores(tmp_path, caplog):
    run_dir = tmp_path / "run"
    caplog.set_level(logging.INFO)
    metrics = train_in_process(run_dir, "debug=smoke", "trainer.epochs=2", "logger=[tensorboard,mlflow]")
    tracking_uri = f"sqlite:///{run_dir}/outputs/mlflow.db"  # the default store: paths.log_dir is <run_dir>/outputs here

    client, run = only_run(tracking_uri)
    assert run.info.status == "FINISHED"
    assert json.loads((run_dir / RUN_FILE).read_text()) == {"tracking_uri": tracking_uri, "run_id": run.info.run_id}
    assert run.data.tags["zoo.model"] == "last_state" and run.data.tags["zoo.run_dir"] == str(run_dir)
    expected = {name: str(value) for name, value in flat_hparams(OmegaConf.load(run_dir / "config.yaml")).items()}
    assert run.data.params == expected
    history = client.get_metric_history(run.info.run_id, "val_accuracy")
    assert [entry.step for entry in history] == [1, 2]
    assert history[metrics["best_epoch"] - 1].value == pytest.approx(metrics["validation"]["accuracy"], abs=1e-6)
    for split in ("train", "validation", "test"):
        for name, value in metrics[split].items():
            assert run.data.metrics[f"final/{split}_{name}"] == pytest.approx(value, rel=1e-6)
    assert sorted(item.path for item in client.list_artifacts(run.info.run_id)) == ["config.yaml", "metrics.json", "model_summary.txt"]
    assert f"mlflow ui --backend-store-uri sqlite:///{run_dir}/outputs/mlflow.db" in caplog.text


@pytest.mark.unit
def test_a_resumed_run_goes_on_in_the_same_mlflow_run_and_an_ensemble_gets_one_at_the_end(tmp_path):
    tracking_uri = f"sqlite:///{tmp_path}/mlflow.db"
    config = compose_config(overrides=["debug=smoke"], output_dir=tmp_path / "run")
    for run_dir in ("run", "ensemble"):  # train() makes them
        (tmp_path / run_dir).mkdir()
    for epoch in (0, 1):  # two processes: the first stopped after an epoch, the second resumed
        logger = MLflowLogger(tracking_uri, "zoo", tmp_path / "run", run_config=config)
        logger.on_train_begin()
        logger.on_epoch_end(epoch, {"loss": 1.0 - epoch / 4, "note": "not a number"})
    client, run = only_run(tracking_uri)
    assert [(entry.step, entry.value) for entry in client.get_metric_history(run.info.run_id, "loss")] == [(1, 1.0), (2, 0.75)]
    assert "note" not in run.data.metrics and run.info.status == "RUNNING"

    # A run whose loggers never ran (an ensemble trains its members' runs) gets its run with the final scores.
    ensemble = compose_config(overrides=["debug=smoke", "logger=mlflow", f"logger.mlflow.tracking_uri={tracking_uri}",
                                         "logger.mlflow.experiment_name=ensembles"], output_dir=tmp_path / "ensemble")
    finish_run(ensemble.logger.mlflow, ensemble, {"final/test_accuracy": 0.5})
    _, ensemble_run = only_run(tracking_uri, "ensembles")
    assert ensemble_run.info.status == "FINISHED" and ensemble_run.data.metrics == {"final/test_accuracy": 0.5}
    assert ensemble_run.data.params["model.name"] == "last_state"


@pytest.mark.unit
def test_without_mlflow_the_logger_is_refused_in_one_line(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "mlflow", None)
    monkeypatch.delitem(sys.modules, "mlflow.tracking", raising=False)
    with pytest.raises(ZooError, match=r"^logger=mlflow needs MLflow, an optional extra: pip install -e '\.\[mlflow\]'"):
        MLflowLogger(f"sqlite:///{tmp_path}/mlflow.db", "zoo", tmp_path)
    assert not list(tmp_path.iterdir())


@pytest.mark.unit
def test_a_resumed_run_keeps_its_own_mlflow_store_and_refuses_another_database(tmp_path):
    run_dir = (tmp_path / "outputs" / "runs" / "2026-12-06" / "run").resolve()
    check_mlflow_store(f"sqlite:///{tmp_path / 'outputs' / 'mlflow.db'}", run_dir, "logger.mlflow.tracking_uri")  # the default layout
    check_mlflow_store("http://localhost:5000", run_dir, "logger.mlflow.tracking_uri")  # a server writes no local file
    for elsewhere in (f"sqlite:///{tmp_path / 'outputs' / 'notes.db'}", f"sqlite:///{tmp_path / 'other' / 'mlflow.db'}", f"file://{tmp_path / 'mine'}"):
        with pytest.raises(ZooError, match="a store that is not the run's own"):
            check_mlflow_store(elsewhere, run_dir, "logger.mlflow.tracking_uri")
