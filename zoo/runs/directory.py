"""The run directory: every path a training run writes, written atomically and read back in one place.

A run directory holds:

    .hydra/                       Hydra's composed config, settings and overrides
    config.yaml                   the composed config, every interpolation resolved (what evaluation reads)
    scaler.json, classes.json     scaling statistics of the training split; class names by index
    model_summary.txt             Keras' model summary
    checkpoints/best.keras        the best model by the monitored metric
    checkpoints/last.keras        the last epoch's model
    backups/state.npz             state to resume an interrupted run (removed when the run finishes)
    tensorboard/                  one TensorBoard run
    metrics.json                  final metrics of the best checkpoint (present only when the run finished)
    eval/                         evaluate.py's metrics.json, report.md and figures
    export/                       exported models for serving
"""

import contextlib
import json
import math
import os
import shlex
from pathlib import Path

import keras
import yaml
from omegaconf import DictConfig, OmegaConf

from zoo.errors import ZooError


def as_typed(path):
    """Returns `path` relative to the working directory when it lies inside it (as a user types it), else absolute."""
    path = Path(path).absolute()
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def resume_command(run_dir):
    """The command that continues the unfinished run in `run_dir`, as a user would type it here (shell-quoted)."""
    return f"python train.py {shlex.quote(f'resume={as_typed(run_dir)}')}"


def _temporary_name(path):
    # Next to the target, so the rename stays on one file system and is atomic.
    return path.with_name(f".{path.name}.{os.getpid()}.partial")


@contextlib.contextmanager
def writing(path, temporary):
    """Turns a failed write of `path` (a full disk, a read-only directory) into one line; removes `temporary`."""
    try:
        yield
    except OSError as error:
        raise ZooError(
            f"Cannot write {path} ({error.strerror or error}): free space there or choose a writable "
            "paths.log_dir; the files already written are whole."
        ) from None
    finally:
        Path(temporary).unlink(missing_ok=True)


def write_text_atomically(path, text):
    """Writes `text` to `path` through a temporary file and a rename: a reader sees the old file or the new one."""
    path = Path(path)
    temporary = _temporary_name(path)
    with writing(path, temporary):
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)


def _strict(value):
    """Replaces non-finite floats by None, so the JSON written is strict (no bare NaN or Infinity)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _strict(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_strict(item) for item in value]
    return value


def write_json_atomically(path, payload):
    """Writes `payload` as strict JSON (sorted keys, NaN as null) to `path` atomically."""
    write_text_atomically(path, json.dumps(_strict(payload), indent=2, sort_keys=True, allow_nan=False) + "\n")


def save_model_atomically(model, path):
    """Saves `model` as a `.keras` file atomically: a kill during the save leaves the previous file intact."""
    path = Path(path)
    # Keras insists on the .keras suffix, so the temporary file keeps it.
    temporary = path.with_name(f".{path.stem}.{os.getpid()}.partial.keras")
    with writing(path, temporary):
        model.save(temporary)
        os.replace(temporary, path)


# A run's config.yaml is a few KB; anything far larger is not one the zoo wrote.
LARGEST_CONFIG_BYTES = 1_000_000


def load_config_file(path):
    """Reads a YAML config the zoo wrote, refusing what it never writes: anchors and aliases (a
    "billion laughs" file expands without bound) and files over a megabyte.

    Raises:
        ZooError: naming the file and what to do; never quoting its contents.
    """
    path = Path(path)
    if path.stat().st_size > LARGEST_CONFIG_BYTES:
        raise ZooError(f"{path} is larger than any config train.py writes: restore the file train.py wrote.")
    text = path.read_bytes().decode("utf-8")
    for token in yaml.scan(text):  # tokens only: nothing is expanded or built
        if isinstance(token, (yaml.AnchorToken, yaml.AliasToken)):
            raise ZooError(f"{path} uses YAML anchors or aliases, which train.py never writes: restore the file train.py wrote.")
    return OmegaConf.create(text)


class RunDirectory:
    """The files of one training run.

    Args:
        path: str or Path of the run directory.
    """

    def __init__(self, path):
        self.path = Path(path)

    # === Paths ===
    @property
    def config(self):
        return self.path / "config.yaml"

    @property
    def scaler(self):
        return self.path / "scaler.json"

    @property
    def classes(self):
        return self.path / "classes.json"

    @property
    def model_summary(self):
        return self.path / "model_summary.txt"

    @property
    def checkpoints(self):
        return self.path / "checkpoints"

    @property
    def best_checkpoint(self):
        return self.checkpoints / "best.keras"

    @property
    def last_checkpoint(self):
        return self.checkpoints / "last.keras"

    @property
    def backups(self):
        return self.path / "backups"

    @property
    def backup_state(self):
        """The resumable training state (zoo.training.resume.TrainingBackup)."""
        return self.backups / "state.npz"

    @property
    def tensorboard(self):
        return self.path / "tensorboard"

    @property
    def metrics(self):
        return self.path / "metrics.json"

    @property
    def eval_dir(self):
        return self.path / "eval"

    def evaluation_dir(self, checkpoint):
        """Where the evaluation of `checkpoint` goes: `eval/` for the best one, `eval_<name>/` for any other, so none replaces another."""
        checkpoint = Path(checkpoint).absolute()
        if checkpoint == self.best_checkpoint.absolute():
            return self.eval_dir
        return self.path / f"eval_{checkpoint.stem}"

    @property
    def eval_metrics(self):
        return self.eval_dir / "metrics.json"

    @property
    def export_dir(self):
        return self.path / "export"

    def member(self, index):
        """The RunDirectory of member `index` (0-based) of an ensemble run (`trainer.ensemble`)."""
        return RunDirectory(self.path / "members" / str(index))

    def is_member(self):
        """Whether this run is a member of an ensemble run (in its `members/`)."""
        return self.path.parent.name == "members" and RunDirectory(self.path.parent.parent).config.is_file()

    def is_finished(self):
        """Whether the run wrote its final `metrics.json`."""
        return self.metrics.is_file()

    # === Writing ===
    def create(self):
        """Makes the run directory and its `checkpoints/`, and a `.gitignore` that keeps the run out of git wherever it lies."""
        self.checkpoints.mkdir(parents=True, exist_ok=True)
        ignore = self.path / ".gitignore"
        if not ignore.exists():
            write_text_atomically(ignore, "# A training run (checkpoints, logs): never committed.\n*\n")

    def write_config(self, cfg):
        """Writes `cfg` with every interpolation resolved, so it can be read without Hydra."""
        write_text_atomically(self.config, OmegaConf.to_yaml(cfg, resolve=True))

    def write_json(self, path, payload):
        """Writes `payload` as strict JSON to `path` (a path inside the run) atomically."""
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        write_json_atomically(path, payload)

    def write_text(self, path, text):
        """Writes `text` to `path` (a path inside the run) atomically."""
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        write_text_atomically(path, text)

    def remove_partial_files(self):
        """Removes the temporary files of writes a killed process never renamed (`.<name>.<pid>.partial*`)."""
        if self.path.is_dir():
            for path in self.path.rglob(".*.partial*"):
                path.unlink(missing_ok=True)

    # === Reading ===
    def check_exists(self):
        """Raises a ZooError unless this is a training run directory (it holds `config.yaml`)."""
        if not self.path.is_dir():
            raise ZooError(f"Run directory {self.path} does not exist: pass run_dir=<a directory under outputs/runs>.")
        if not self.config.is_file():
            raise ZooError(
                f"{self.path} holds no {self.config.name}, so it is not a training run directory: "
                "pass the directory that python train.py created."
            )

    def read_config(self):
        """Returns the resolved config the run saved."""
        self.check_exists()
        try:
            cfg = load_config_file(self.config)
        except ZooError:
            raise
        except Exception as error:  # yaml's ParserError, ScannerError, UnicodeDecodeError...
            raise ZooError(
                f"{self.config} is not a valid YAML config ({type(error).__name__}): restore the file train.py wrote."
            ) from None
        if not isinstance(cfg, DictConfig) or "model" not in cfg or "data" not in cfg:
            raise ZooError(f"{self.config} is not a training config (no model and data): restore the file train.py wrote.")
        return cfg

    def read_json(self, path):
        """Returns the parsed JSON file `path` of this run."""
        try:
            return json.loads(Path(path).read_bytes().decode("utf-8"))
        except FileNotFoundError:
            raise ZooError(f"{path} is missing from the run: train the run again or restore the file.") from None
        except (UnicodeDecodeError, ValueError) as error:
            raise ZooError(
                f"{path} is not valid JSON ({type(error).__name__}): restore the file train.py wrote."
            ) from None

    def read_classes(self):
        """Returns the class names by index that the run trained with."""
        return self.read_json(self.classes)

    def checkpoint(self, which):
        """Resolves `which` ("best", "last" or a file path) to an existing `.keras` file."""
        if which in ("best", "last"):
            path = self.best_checkpoint if which == "best" else self.last_checkpoint
            if not path.is_file():
                raise ZooError(
                    f"{self.path} holds no {which} checkpoint ({path}): the run stopped before its first epoch ended; "
                    "train it again or pass ckpt=<a .keras file>."
                )
            return path
        path = Path(which)
        if not path.is_file():
            raise ZooError(
                f"Checkpoint file {path} does not exist: pass ckpt=best, ckpt=last or the path of a .keras file."
            )
        return path


def load_checkpoint(path):
    """Loads a `.keras` file in safe mode, turning an unreadable file into a one-line error."""
    try:
        return keras.saving.load_model(path, safe_mode=True)
    except TypeError as error:
        if "keras.src.backend." not in str(error) or "cannot be imported" not in str(error):
            _unreadable(path, error)
        # Compiled on another backend whose optimizer class (torch's Adam) is not importable here:
        # the weights load alone, and the caller compiles (TrainedRun.rebuild_dataset).
        return keras.saving.load_model(path, safe_mode=True, compile=False)
    except Exception as error:  # Keras raises many types for a corrupt or foreign file
        _unreadable(path, error)


def _unreadable(path, error):
    """Raises the one-line ZooError for a checkpoint Keras could not load."""
    if "arbitrary code execution" in str(error):
        raise ZooError(
            f"Checkpoint {path} holds Python code (a Lambda layer's lambda), which the zoo refuses to load: "
            "unsafe deserialization could run anything, and the zoo never writes such files; pass a .keras "
            "file written by train.py."
        ) from error
    reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    raise ZooError(
        f"Checkpoint {path} could not be loaded as a Keras model ({type(error).__name__}: {reason[:200]}): "
        "pass a .keras file written by train.py."
    ) from error
