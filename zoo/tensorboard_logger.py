"""TensorBoard logging: one TensorBoard run per training run, with scalars, config, summary, hparams and images.

Everything of a training run goes into `<run>/tensorboard/` through one writer, so TensorBoard lists
one run per training run and colours compare runs, not splits. Scalars are tagged
`<metric>/train` and `<metric>/validation`; a Custom Scalars layout overlays the two.
"""

from pathlib import Path

import keras
from omegaconf import ListConfig, OmegaConf
from tensorboard.plugins.custom_scalar import layout_pb2

from zoo.errors import ZooError
from zoo.tensorboard_writer import SummaryWriter, gfile, png_size
from zoo.validation import non_negative_int


def flat_hparams(cfg):
    """Returns the hyperparameters HParams shows: model options, trainer settings, data options, seed.

    Args:
        cfg: the composed training config.

    Returns:
        Dict from dotted key (`model.units`) to a bool, number or string.
    """
    # Only the groups shown: a sweep's config holds Hydra values that exist only in a trial (hydra.job.num).
    container = {group: OmegaConf.to_container(cfg[group], resolve=True) for group in ("model", "data", "trainer")}
    values = {"seed": cfg.seed}
    for group in ("model", "data"):
        for key, value in container[group].items():
            if not key.startswith("_"):
                values[f"{group}.{key}"] = value
    for key in ("learning_rate", "batch_size", "epochs", "precision", "backend", "strategy"):
        if key in container["trainer"]:  # runs saved before backend and strategy were recorded lack them
            values[f"trainer.{key}"] = container["trainer"][key]
    optimizer = container["trainer"]["optimizer"]
    # The class name (Adam, Lion); runs saved before the optimizer became a _target_ hold a plain name.
    values["trainer.optimizer"] = optimizer["_target_"].rsplit(".", 1)[-1] if isinstance(optimizer, dict) else optimizer
    return {key: value if isinstance(value, (bool, int, float, str)) else str(value) for key, value in values.items()}


def _as_markdown_code(text):
    # TensorBoard renders text as Markdown; indenting by four spaces keeps YAML and tables verbatim.
    return "\n".join("    " + line for line in text.splitlines())


def _custom_scalar_layout(metric_names):
    """Custom Scalars charts that overlay train and validation curves of each metric."""
    charts = [
        layout_pb2.Chart(
            title=name,
            multiline=layout_pb2.MultilineChartContent(tag=[rf"^{name}/(train|validation)$"]),
        )
        for name in metric_names
    ]
    return layout_pb2.Layout(category=[layout_pb2.Category(title="train vs validation", chart=charts)])


def trial_name(log_dir, cfg):
    """Names a run in the HParams table by its directory under `paths.log_dir` (e.g. `runs/<date>/<time>_<model>`)."""
    run_dir = Path(log_dir).parent
    try:
        return str(run_dir.relative_to(Path(cfg.paths.log_dir)))
    except ValueError:
        return run_dir.name


def check_writable(log_dir):
    """Raises a ZooError unless `log_dir` (local, or any file system TensorFlow writes where it is installed) takes a file.

    The event writer would fail only when training starts, after the run's files are written.
    """
    probe = f"{log_dir.rstrip('/')}/.zoo_write_check"
    try:
        if "://" in log_dir:  # gs://, s3://: TensorFlow's file systems, or the stub's where TensorFlow is missing
            gfile.makedirs(log_dir)
            with gfile.GFile(probe, "w") as file:
                file.write("")
            gfile.remove(probe)
        else:
            Path(log_dir).mkdir(parents=True, exist_ok=True)
            Path(probe).write_text("")
            Path(probe).unlink()
    except Exception as error:  # TensorFlow's OpError, the stub's errors, or OSError
        message = getattr(error, "message", None) or getattr(error, "strerror", None) or str(error)
        reason = message.removeprefix(f"{log_dir}; ")
        raise ZooError(f"Cannot write TensorBoard logs to {log_dir} ({reason}): choose a writable logger.tensorboard.log_dir.") from error


class TensorBoardLogger(keras.callbacks.Callback):
    """Writes a training run to TensorBoard through one writer (so one TensorBoard run).

    Args:
        log_dir: str. Usually `<run>/tensorboard`.
        update_freq: "epoch", or an int N to also log batch scalars every N batches (at the end of the
            call of the compiled step that passes each multiple of N).
        histogram_freq: int. Weight histograms every N epochs; 0 turns them off.
        profile_steps: [first, last] training steps (counted from 1) to trace with the backend's profiler
            (TensorFlow or JAX) into TensorBoard's Profile tab, or None.
        run_config: the composed config; logged as text and as HParams. Set by `train()`.
        model_summary: str. Logged as text. Set by `train()`.
    """

    # A resumed run continues the batch step and does not write the config, summary or layout twice.
    resumed_attributes = ("_batch_step", "_header_written", "_layout_written")

    def __init__(self, log_dir, update_freq="epoch", histogram_freq=0, profile_steps=None, run_config=None, model_summary=None):
        super().__init__()
        if update_freq != "epoch":
            non_negative_int("logger.tensorboard.update_freq", update_freq)
        non_negative_int("logger.tensorboard.histogram_freq", histogram_freq)
        self.profile_steps = check_profile_steps(profile_steps)
        self._profiling = False
        self.log_dir = str(log_dir)
        check_writable(self.log_dir)
        self.update_freq = update_freq
        self.histogram_freq = histogram_freq
        self.run_config = run_config
        self.model_summary = model_summary
        self._writer = None
        self._batch_step = 0
        self._header_written = False
        self._layout_written = False

    def on_train_begin(self, logs=None):
        self._writer = SummaryWriter(self.log_dir)

    def on_epoch_begin(self, epoch, logs=None):
        if self._header_written:
            return
        self._header_written = True
        if self.run_config is not None:
            self._writer.text("config", _as_markdown_code(OmegaConf.to_yaml(self.run_config, resolve=True)))
            self._writer.hparams(flat_hparams(self.run_config), trial_id=trial_name(self.log_dir, self.run_config))
        if self.model_summary:
            self._writer.text("model_summary", _as_markdown_code(self.model_summary))
        self._writer.flush()

    def on_train_batch_begin(self, batch, logs=None):
        # One call runs `steps_per_execution` steps (a divisor of the epoch's, zoo.training.adaptive).
        upcoming = self._batch_step + self.model.steps_per_execution
        if self.profile_steps and not self._profiling and self._batch_step < self.profile_steps[0] <= upcoming:
            _start_trace(self.log_dir)
            self._profiling = True

    def on_train_batch_end(self, batch, logs=None):
        before, self._batch_step = self._batch_step, self._batch_step + self.model.steps_per_execution
        if self._profiling and self._batch_step >= self.profile_steps[1]:
            _stop_trace()
            self._profiling = False
        if self.update_freq == "epoch" or not self.update_freq or self._batch_step // self.update_freq == before // self.update_freq:
            return
        for name, value in (logs or {}).items():
            self._writer.scalar(f"batch_{name}/train", value, step=self._batch_step)

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        if not self._layout_written:
            # Metric names are known only once Keras has reported them.
            names = [name for name in logs if not name.startswith("val_") and name != "learning_rate"]
            self._writer.custom_scalars(_custom_scalar_layout(names))
            self._layout_written = True
        for name, value in logs.items():
            if name.startswith("val_"):
                self._writer.scalar(f"{name[4:]}/validation", value, step=epoch)
            elif name != "learning_rate":
                self._writer.scalar(f"{name}/train", value, step=epoch)
        learning_rate = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
        self._writer.scalar("learning_rate", learning_rate, step=epoch)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            for weight in self.model.weights:
                self._writer.histogram(weight.path, keras.ops.convert_to_numpy(weight), step=epoch)
        self._writer.flush()

    def on_train_end(self, logs=None):
        if self._profiling:  # training ended inside the traced steps
            _stop_trace()
            self._profiling = False
        if self._writer is not None:
            self._writer.close()


def check_profile_steps(profile_steps):
    """Returns `profile_steps` as a list `[first, last]`, or None; raises a ZooError naming what is wrong."""
    if profile_steps is None:
        return None
    steps = list(profile_steps) if isinstance(profile_steps, (list, tuple, ListConfig)) else None
    valid = steps and len(steps) == 2 and all(isinstance(s, int) and not isinstance(s, bool) and s >= 1 for s in steps)
    if not valid or steps[0] > steps[1]:
        raise ZooError(
            f"Received an invalid value for logger.tensorboard.profile_steps, expected [first, last] training steps "
            f"with 1 <= first <= last, got {profile_steps!r}."
        )
    if keras.backend.backend() not in ("tensorflow", "jax"):
        raise ZooError(f"logger.tensorboard.profile_steps traces with TensorFlow's or JAX's profiler, not {keras.backend.backend()}'s: "
                       "set KERAS_BACKEND=tensorflow or jax, or profile_steps=null.")
    return steps


def _start_trace(log_dir):
    if keras.backend.backend() == "jax":
        import jax

        jax.profiler.start_trace(log_dir)
    else:
        import tensorflow as tf

        tf.profiler.experimental.start(log_dir)


def _stop_trace():
    if keras.backend.backend() == "jax":
        import jax

        jax.profiler.stop_trace()
    else:
        import tensorflow as tf

        tf.profiler.experimental.stop()


def write_run_summaries(log_dir, scalars=None, images=None, texts=None, step=0, run_config=None):
    """Appends scalars, PNG images and texts to a run's TensorBoard directory (the same TensorBoard run).

    Args:
        log_dir: path of `<run>/tensorboard`.
        scalars: dict from tag to float.
        images: dict from tag to a PNG file path.
        texts: dict from tag to Markdown text.
        step: int. Step the values are logged at.
        run_config: a run's config, written as the `config` text and the run's HParams (for a run
            that trains no model of its own: an ensemble).
    """
    writer = SummaryWriter(log_dir)
    if run_config is not None:
        writer.text("config", _as_markdown_code(OmegaConf.to_yaml(run_config, resolve=True)))
        writer.hparams(flat_hparams(run_config), trial_id=trial_name(log_dir, run_config))
    for tag, value in (scalars or {}).items():
        writer.scalar(tag, value, step=step)
    for tag, path in (images or {}).items():
        png = Path(path).read_bytes()
        writer.image(tag, png, *png_size(png), step=step)
    for tag, text in (texts or {}).items():
        writer.text(tag, text, step=step)
    writer.close()


def swept_keys(hydra):
    """The hyperparameters a sweep varies, as `flat_hparams` names them: the command line's values with a comma or a
    sweep function, then the sweeper's own `params`; a config group's choice (`model=last_state,attention`) is its
    `<group>.name`.

    Args:
        hydra: the sweep's `hydra` config node (its `multirun.yaml`'s).
    """
    from zoo.cli import sweep_overrides

    names = [override.get_key_element() for override in sweep_overrides(hydra)]
    names += list((hydra.sweeper.get("params") or {}).keys())
    keys = [name.lstrip("+~") if "." in name else f"{name}.name" for name in names]
    return list(dict.fromkeys(keys))


def write_sweep_experiment(sweep_dir, cfg, hydra):
    """Writes a sweep's HParams experiment to `<sweep>/tensorboard` once, so TensorBoard's HParams table over the
    sweep starts with what the sweep varies and the test metrics, then every other hyperparameter and the epoch
    curves. (TensorBoard reads one experiment per log dir: over several sweeps, the first it finds.)

    Args:
        sweep_dir: the sweep's directory (`hydra.sweep.dir`).
        cfg: a trial's training config (its hyperparameters name the table's columns).
        hydra: the sweep's `hydra` node, from its `multirun.yaml`.
    """
    from zoo.tasks import get_task

    log_dir = Path(sweep_dir) / "tensorboard"
    if log_dir.is_dir() and any(log_dir.iterdir()):  # a re-run of the sweep: its experiment is there
        return
    hparams = flat_hparams(cfg)
    swept = [key for key in swept_keys(hydra) if key in hparams]  # a group without a name (data=ts,csv) has no column
    rest = [key for key in hparams if key not in swept]
    names = [*get_task(cfg.model.head).metrics, "loss"]
    metrics = [f"final/{split}_{name}" for split in ("test", "validation") for name in names]
    metrics += [f"{name}/{split}" for name in names for split in ("validation", "train")]  # the epoch curves
    writer = SummaryWriter(str(log_dir))
    writer.experiment(swept + rest, metrics, differing=swept)
    writer.close()
