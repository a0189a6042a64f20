"""Training beyond one device: `trainer.strategy`, logical CPUs and several processes.

- `auto`: one device, as Keras places it (a GPU if there is one).
- `mirrored`: TensorFlow's `tf.distribute.MirroredStrategy` over every local GPU (or the logical
  CPUs of `trainer.logical_cpus`). Keras splits each global batch (`trainer.batch_size`) across
  the replicas and averages the gradients.
- `data_parallel`: JAX's `keras.distribution.DataParallel` over every device of every process.
  Several hosts join through `trainer.cluster` (or what `jax.distributed.initialize()` detects
  from SLURM, Open MPI, Kubernetes or TPU environments). Each process reads its own rows of every
  global batch; process 0 alone writes the run directory. Multi-host TensorFlow is not offered:
  `MultiWorkerMirroredStrategy` fails inside Keras 3's fit (keras-team/keras issue 20585).
"""

import contextlib
import hashlib
import logging
from dataclasses import dataclass, field

import keras
import numpy as np

from zoo.errors import ZooError
from zoo.validation import non_negative_int, one_of

log = logging.getLogger(__name__)

STRATEGIES = ("auto", "mirrored", "data_parallel")
STRATEGY_BACKEND = {"mirrored": "tensorflow", "data_parallel": "jax"}


@dataclass
class Placement:
    """Where a run trains: its strategy, its process among all, and its devices.

    Attributes:
        strategy: "auto", "mirrored" or "data_parallel".
        process_id: int. This process (0 writes the run directory).
        num_processes: int.
        num_devices: int. Devices over all processes that share each global batch.
        scope: a context manager to build and compile the model in.
    """

    strategy: str = "auto"
    process_id: int = 0
    num_processes: int = 1
    num_devices: int = 1
    scope: object = field(default=contextlib.nullcontext, repr=False)

    @property
    def is_chief(self):
        """Whether this process writes checkpoints, TensorBoard and metrics.json."""
        return self.process_id == 0

    def local_batches(self, dataset):
        """Returns `dataset` (global batches) as this process's part of each batch.

        Process k reads rows `[k * b, (k + 1) * b)` of a global batch, where `b` is the batch
        divided by the processes. With more than one device, a last, smaller batch loses its rows
        beyond a multiple of the device count (fewer than `num_devices` series; `fit` logs them), since
        every device takes an equal share: Keras' TensorFlow strategies fail on uneven ones.
        """
        if self.num_devices == 1:
            return dataset
        if isinstance(dataset, keras.utils.PyDataset):
            return LocalRows(dataset, self)
        if not hasattr(dataset, "map"):  # a generator of NumPy batches (zoo.data.pipeline.epoch_batches)
            return (self.local_part(batch) for batch in dataset)
        import tensorflow as tf

        processes, devices, rank = self.num_processes, self.num_devices, self.process_id

        def local_rows(*batch):
            rows = tf.shape(tf.nest.flatten(batch)[0])[0]
            per_process = (rows - rows % devices) // processes
            start = rank * per_process
            return tf.nest.map_structure(lambda tensor: tensor[start : start + per_process], batch)

        return dataset.map(local_rows)

    def local_part(self, batch):
        """This process's rows of one global batch of NumPy arrays (see `local_batches`)."""
        rows = len(keras.tree.flatten(batch)[0])
        per_process = (rows - rows % self.num_devices) // self.num_processes
        start = self.process_id * per_process
        return keras.tree.map_structure(lambda array: array[start : start + per_process], batch)

    def check_batch_size(self, batch_size):
        """Raises a ZooError unless the global batch splits evenly over the devices."""
        if batch_size % self.num_devices:
            raise ZooError(
                f"trainer.batch_size={batch_size} does not split over the {self.num_devices} devices of "
                f"trainer.strategy={self.strategy}: set trainer.batch_size to a multiple of {self.num_devices}."
            )


class LocalRows(keras.utils.PyDataset):
    """A PyDataset of global batches, as this process's part of each (`Placement.local_batches`)."""

    def __init__(self, batches, placement):
        super().__init__()
        self.batches, self.placement = batches, placement

    def __len__(self):
        return len(self.batches)

    def __getitem__(self, index):
        return self.placement.local_part(self.batches[index])


def check_strategy(trainer, backend):
    """Raises a ZooError naming a strategy option that is out of range or needs the other backend."""
    strategy = trainer.get("strategy", "auto")
    one_of("trainer.strategy", strategy, STRATEGIES)
    non_negative_int("trainer.logical_cpus", trainer.get("logical_cpus", 0))
    needed = STRATEGY_BACKEND.get(strategy)
    if needed and needed != backend:
        raise ZooError(
            f"trainer.strategy={strategy} runs on the {needed} backend, and Keras runs on {backend}: "
            f"run KERAS_BACKEND={needed} python train.py ... trainer.strategy={strategy}."
        )
    cluster = trainer.get("cluster") or {}
    if strategy != "data_parallel" and any(value is not None for value in cluster.values()):
        raise ZooError("trainer.cluster joins several processes only with trainer.strategy=data_parallel (JAX): set it, or leave trainer.cluster unset.")


def prepare_devices(trainer):
    """Splits the CPU into logical devices and joins the other processes; call before any TensorFlow or JAX op.

    Args:
        trainer: the `trainer` config (`strategy`, `logical_cpus`, `cluster`).
    """
    strategy = trainer.get("strategy", "auto")
    logical_cpus = trainer.get("logical_cpus", 0)
    if strategy == "mirrored" and logical_cpus > 1:
        import tensorflow as tf

        cpu = tf.config.list_physical_devices("CPU")[0]
        try:
            tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * logical_cpus)
        except RuntimeError:  # TensorFlow already started in this process: keep its devices
            log.warning("TensorFlow had already started, so trainer.logical_cpus could not split the CPU.")
    if strategy == "data_parallel":
        import jax

        if logical_cpus > 1:
            jax.config.update("jax_num_cpu_devices", logical_cpus)
        _join_processes(jax, trainer.get("cluster") or {})


def _join_processes(jax, cluster):
    """Calls `jax.distributed.initialize` with `cluster`'s values, or what it detects; a lone process stays alone."""
    if jax.distributed.is_initialized():
        return
    values = {key: cluster.get(key) for key in ("coordinator_address", "num_processes", "process_id")}
    if values["num_processes"] == 1:
        return
    # CPU collectives between processes go through gloo (GPUs use NCCL on their own).
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    try:
        jax.distributed.initialize(**values)
    except ValueError as error:
        if any(value is not None for value in values.values()):
            raise ZooError(f"trainer.cluster could not start the processes ({error}): set coordinator_address, num_processes and process_id together.") from None
        # No cluster environment detected and nothing set: one process.


def place(trainer):
    """Returns the run's Placement, after `prepare_devices` and the device set-up.

    Args:
        trainer: the `trainer` config.
    """
    strategy = trainer.get("strategy", "auto")
    if strategy == "mirrored":
        import tensorflow as tf

        devices = [device.name for device in tf.config.list_logical_devices("GPU")]
        devices = devices or [device.name for device in tf.config.list_logical_devices("CPU")]
        mirrored = tf.distribute.MirroredStrategy(devices)
        placement = Placement(strategy, num_devices=mirrored.num_replicas_in_sync, scope=mirrored.scope)
    elif strategy == "data_parallel":
        import jax

        keras.distribution.set_distribution(keras.distribution.DataParallel(devices=jax.devices(), auto_shard_dataset=False))
        placement = Placement(strategy, process_id=jax.process_index(), num_processes=jax.process_count(), num_devices=jax.device_count())
    else:
        return Placement()
    log.info(
        f"trainer.strategy={strategy}: {placement.num_devices} devices in {placement.num_processes} processes; "
        f"this is process {placement.process_id}."
    )
    placement.check_batch_size(trainer.batch_size)
    return placement


def leave_distribution():
    """Ends a `data_parallel` distribution, so a reloaded checkpoint predicts on this process's devices alone."""
    if keras.distribution.distribution() is not None:
        keras.distribution.set_distribution(None)


def weights_digest(model):
    """Returns a short SHA-256 of the model's weights, which every process logs so their equality is visible."""
    digest = hashlib.sha256()
    for weight in model.get_weights():
        digest.update(np.ascontiguousarray(weight).tobytes())
    return digest.hexdigest()[:16]
