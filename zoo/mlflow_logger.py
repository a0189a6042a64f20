"""`logger=mlflow`: each run as an MLflow run, with its hyperparameters, a metric per epoch and its final scores.

The store is `logger.mlflow.tracking_uri`: by default one SQLite database for every run under
`paths.log_dir` (`mlflow ui --backend-store-uri sqlite:///outputs/mlflow.db`), or a tracking
server (`http://host:5000`). The MLflow run's id is kept in `<run>/mlflow_run.json`, so a resumed
run, and the final scores written after training, go to the same MLflow run.
"""

import contextlib
import fcntl
import json
import logging
import math
import os
import shlex
import time
from pathlib import Path

import keras
from omegaconf import OmegaConf

from zoo.errors import ZooError
from zoo.runs.directory import as_typed, write_json_atomically
from zoo.tensorboard_logger import flat_hparams

RUN_FILE = "mlflow_run.json"
# Uploaded with the final scores when they exist: what the run was, and what it scored.
RUN_ARTIFACTS = ("config.yaml", "metrics.json")


def _mlflow_client(tracking_uri):
    """Returns an `MlflowClient` for `tracking_uri`, or raises a ZooError if MLflow is not installed."""
    try:
        from mlflow.tracking import MlflowClient
    except ImportError as error:
        raise ZooError(
            "logger=mlflow needs MLflow, an optional extra: pip install -e '.[mlflow]' (or choose logger=tensorboard or logger=csv)."
        ) from error
    if not os.environ.get("ZOO_VERBOSE"):  # MLflow and Alembic log every database migration at INFO
        for name in ("mlflow", "alembic"):
            logging.getLogger(name).setLevel(logging.WARNING)
    return MlflowClient(tracking_uri=tracking_uri)


def _sqlite_path(tracking_uri):
    """The database file of a `sqlite:///<path>` URI, or None for any other store."""
    prefix = "sqlite:///"
    return Path(tracking_uri[len(prefix) :]) if tracking_uri.startswith(prefix) else None


@contextlib.contextmanager
def _store_lock(tracking_uri):
    """Holds an exclusive lock beside a local SQLite store: parallel sweep trials would otherwise race
    to create its tables and its experiment."""
    database = _sqlite_path(tracking_uri)
    if database is None:
        yield
        return
    database.parent.mkdir(parents=True, exist_ok=True)
    with open(database.with_name(database.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


class MLflowRun:
    """The MLflow run of one zoo run directory, created on first use and found again through `<run>/mlflow_run.json`.

    Args:
        tracking_uri: str. An MLflow tracking URI (`sqlite:///<file>`, `http://host:5000`, ...).
        experiment_name: str. Created if missing; a local SQLite store keeps its artifacts beside the database.
        run_dir: str. The zoo run directory.
    """

    def __init__(self, tracking_uri, experiment_name, run_dir):
        self.tracking_uri = str(tracking_uri)
        self.experiment_name = str(experiment_name)
        self.run_dir = Path(run_dir)
        self._client = _mlflow_client(self.tracking_uri)  # a missing MLflow fails here, before training
        self.run_id = None

    def open(self, run_config=None, model_summary=None):
        """Returns the MLflow run id: the one recorded in the run directory, or a new run logging `run_config`'s hyperparameters."""
        recorded = self.run_dir / RUN_FILE
        with self._locked():
            if recorded.is_file():
                self.run_id = json.loads(recorded.read_text())["run_id"]
                self._client.update_run(self.run_id, status="RUNNING")
                return self.run_id
            experiment_id = self._experiment_id()
            tags = {"zoo.run_dir": str(self.run_dir.resolve())}
            name = self.run_dir.name
            if run_config is not None:
                tags["zoo.model"] = str(run_config.model.name)
                name = _run_name(self.run_dir, run_config)
            self.run_id = self._client.create_run(experiment_id, run_name=name, tags=tags).info.run_id
            if run_config is not None:
                self._log_config(run_config, model_summary)
        write_json_atomically(recorded, {"tracking_uri": self.tracking_uri, "run_id": self.run_id})
        return self.run_id

    def log_metrics(self, metrics, step):
        """Logs finite numbers of `metrics` (name to value) at `step`."""
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        entries = [Metric(name, float(value), now, step) for name, value in metrics.items() if _is_number(value)]
        with self._locked():
            self._client.log_batch(self.run_id, metrics=entries)

    def finish(self, final_scores):
        """Logs `final_scores` (name to value), uploads the run's config and scores, and marks the MLflow run finished."""
        self.log_metrics(final_scores, step=0)
        with self._locked():
            for name in RUN_ARTIFACTS:
                if (self.run_dir / name).is_file():
                    self._client.log_artifact(self.run_id, str(self.run_dir / name))
            self._client.set_terminated(self.run_id, status="FINISHED")

    def _experiment_id(self):
        found = self._client.get_experiment_by_name(self.experiment_name)
        if found is not None:
            return found.experiment_id
        database = _sqlite_path(self.tracking_uri)
        # Without an artifact location MLflow would write artifacts to ./mlruns wherever the command ran.
        location = (database.resolve().parent / "mlartifacts").as_uri() if database else None
        return self._client.create_experiment(self.experiment_name, artifact_location=location)

    def _log_config(self, run_config, model_summary):
        from mlflow.entities import Param

        params = [Param(name, str(value)) for name, value in flat_hparams(run_config).items()]
        self._client.log_batch(self.run_id, params=params)
        self._client.log_text(self.run_id, OmegaConf.to_yaml(run_config, resolve=True), "config.yaml")
        if model_summary:
            self._client.log_text(self.run_id, model_summary, "model_summary.txt")

    def _locked(self):
        return _store_lock(self.tracking_uri)


def _run_name(run_dir, run_config):
    """Names an MLflow run by its directory under `paths.log_dir` (`runs/<date>/<time>_<model>`), as TensorBoard's HParams do."""
    try:
        return str(Path(run_dir).resolve().relative_to(Path(str(run_config.paths.log_dir)).resolve()))
    except ValueError:
        return Path(run_dir).name


def ui_command(tracking_uri):
    """The command that shows a local SQLite store's runs (`mlflow ui ...`), or None for a server."""
    database = _sqlite_path(str(tracking_uri))
    if database is None:
        return None
    return f"mlflow ui --backend-store-uri {shlex.quote('sqlite:///' + as_typed(database))}"


def _is_number(value):
    """Whether `value` is a finite number (MLflow takes nothing else as a metric)."""
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


class MLflowLogger(keras.callbacks.Callback):
    """Logs a training run to MLflow: its hyperparameters (the HParams of TensorBoard), config and model
    summary when it starts, every metric at the end of each epoch (step = epoch, counted from 1).

    Args:
        tracking_uri: str. Where MLflow stores runs (`sqlite:///<file>`, or a server's `http://host:5000`).
        experiment_name: str. The MLflow experiment, created if missing.
        run_dir: str. The zoo run directory (`<run>/mlflow_run.json` keeps the MLflow run's id).
        run_config: the composed config. Set by `train()`.
        model_summary: str. Set by `train()`.
    """

    resumed_attributes = ()  # the MLflow run is found again through the run directory

    def __init__(self, tracking_uri, experiment_name, run_dir, run_config=None, model_summary=None):
        super().__init__()
        self.mlflow_run = MLflowRun(tracking_uri, experiment_name, run_dir)
        self.run_config = run_config
        self.model_summary = model_summary

    def on_train_begin(self, logs=None):
        if self.mlflow_run.run_id is None:
            self.mlflow_run.open(self.run_config, self.model_summary)

    def on_epoch_end(self, epoch, logs=None):
        self.mlflow_run.log_metrics(logs or {}, step=epoch + 1)


def finish_run(logger_cfg, run_config, scores):
    """Logs a finished run's final scores to its MLflow run (created here for a run that trained no
    model itself, an ensemble) and marks it finished.

    Args:
        logger_cfg: the `logger.mlflow` node.
        run_config: the run's composed config.
        scores: dict from name (`final/test_accuracy`) to value.
    """
    mlflow_run = MLflowRun(logger_cfg.tracking_uri, logger_cfg.experiment_name, logger_cfg.run_dir)
    mlflow_run.open(run_config)
    mlflow_run.finish(scores)
