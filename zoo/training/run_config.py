"""The config a run trains with: a resumed run's own, checked before anything is built, with the
`auto` values the config alone decides filled in."""

from pathlib import Path

from omegaconf import OmegaConf, open_dict

from zoo.config import (
    check_keras_callbacks,
    check_normalization,
    check_required,
    check_seed,
    check_trainer,
    group_choice,
)
from zoo.errors import ZooError
from zoo.runs.directory import RunDirectory
from zoo.runs.saved_config import read_run_config
from zoo.tasks import get_task
from zoo.training.adaptive import adapt_to_config
from zoo.training.device import backend_name, check_backend
from zoo.training.distribution import check_strategy


def config_to_run(cfg):
    """Returns the config to train with: `cfg`, or with `resume=<run_dir>` that run's own saved config.

    A saved config is data, not code: it may name only the zoo's allow-listed `_target_`s. A run
    moved or copied since resumes where it is now.
    """
    if not cfg.get("resume"):
        return cfg
    run = RunDirectory(cfg.resume)
    run.check_exists()
    saved = relocated(read_run_config(run), run.path)
    check_writes_inside(saved, run.path)
    return saved


def check_writes_inside(saved, run_dir):
    """Refuses a saved config whose run directory or logger directories lie outside `run_dir`.

    A resumed run writes where its config says; a crafted config must not make it write elsewhere.
    """
    inside = Path(run_dir).resolve()
    places = {"paths.output_dir": saved.paths.output_dir}
    for name, node in (saved.get("logger") or {}).items():
        places.update({f"logger.{name}.{key}": node[key] for key in ("log_dir", "run_dir") if key in node})
        check_mlflow_store(node.get("tracking_uri"), inside, f"{run_dir}/config.yaml sets logger.{name}.tracking_uri")
    for key, place in places.items():
        resolved = Path(str(place)).resolve()
        if resolved != inside and inside not in resolved.parents:
            raise ZooError(
                f"{run_dir}/config.yaml sets {key} outside the run directory, where a resumed run must not write: "
                "restore the config train.py wrote."
            )


def check_mlflow_store(tracking_uri, inside, what):
    """Refuses a local MLflow store (a SQLite file or a file store) that is not an `mlflow.db` (or `mlruns`)
    in the run directory or a folder above it, where `logger=mlflow` puts it; a server's URI writes no local file."""
    if not tracking_uri:
        return
    uri = str(tracking_uri)
    scheme, _, rest = uri.partition(":")
    if scheme not in ("sqlite", "file"):
        return
    store = Path(rest.removeprefix("///") if scheme == "sqlite" else rest.removeprefix("//")).resolve()
    if store.name not in ("mlflow.db", "mlruns") or store.parent not in (inside, *inside.parents):
        raise ZooError(
            f"{what} to {uri}, a store that is not the run's own (an mlflow.db or mlruns in the run directory or "
            "a folder above it), where a resumed run must not write: restore the config train.py wrote."
        )


def relocated(saved, run_dir):
    """Returns `saved` (a run's config) with the paths under its recorded run directory moved to `run_dir`."""
    recorded = str(saved.paths.output_dir)
    current = str(Path(run_dir).resolve())

    def move(value):
        if isinstance(value, dict):
            return {key: move(item) for key, item in value.items()}
        if isinstance(value, list):
            return [move(item) for item in value]
        if isinstance(value, str) and (value == recorded or value.startswith(recorded + "/")):
            return current + value[len(recorded) :]
        return value

    return OmegaConf.create(move(OmegaConf.to_container(saved)))


def check_config(cfg):
    """Checks the config before anything is built.

    Returns:
        The Task of `cfg.model.head`.
    """
    check_required(cfg)
    check_seed(cfg.seed)
    check_trainer(cfg.trainer)
    check_keras_callbacks(cfg.get("callbacks") or {}, group_choice("callbacks", "default"))
    record_backend(cfg.trainer)
    check_strategy(cfg.trainer, cfg.trainer.backend)
    task = get_task(cfg.model.head)
    adapt_to_config(cfg, task)
    check_normalization(cfg)
    return task


def record_backend(trainer):
    """Records the Keras backend this process runs as `trainer.backend`, refusing a config (a resumed
    run's, or `+trainer.backend=...`) that names another: Keras picks its backend once, at import."""
    if "backend" in trainer:
        check_backend(trainer.backend)
    with open_dict(trainer):
        trainer.backend = backend_name()


def with_absolute_data_paths(cfg):
    """Returns a resolved copy of `cfg` whose `data.*_path` values are absolute."""
    saved = OmegaConf.create(OmegaConf.to_container(cfg, resolve=True))
    for key, value in saved.data.items():
        if key.endswith("_path") and value:
            saved.data[key] = str(Path(value).resolve())
    return saved
