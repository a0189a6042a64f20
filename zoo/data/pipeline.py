"""The one place that turns a SeriesSplit into model inputs and batches for `fit`, `evaluate` and `predict`.

On the TensorFlow backend the batches come from a prefetched tf.data pipeline; on JAX and PyTorch
from NumPy (a generator for training, a `keras.utils.PyDataset` for evaluation), so TensorFlow
need not be installed there. Both give the same batches for the same epoch order.
"""

import math

import keras
import numpy as np

from zoo.errors import ZooError


def on_tensorflow():
    """Whether Keras runs on TensorFlow, whose tf.data pipeline the zoo then uses."""
    return keras.backend.backend() == "tensorflow"


def last_valid_values(series, lengths):
    """Returns `(n, n_features)`: each right-padded series' value at its last valid step."""
    return series[np.arange(len(series)), np.asarray(lengths) - 1]


def last_valid_step(split):
    """Returns `(n, n_features)`: each series of `split` at its last valid step."""
    return last_valid_values(split.series, split.lengths)


def teacher_inputs(split):
    """Returns the decoder's teacher-forcing inputs `(n, horizon, n_features)`.

    Step t of the decoder sees the true value of step t - 1; step 0 sees the last observed value.
    """
    return np.concatenate([last_valid_step(split)[:, None, :], split.future[:, :-1]], axis=1)


def model_inputs(split, input_names, teacher_forcing=True):
    """Builds the dict of arrays a model's named inputs expect.

    Args:
        split: SeriesSplit.
        input_names: names of the model's `keras.Input`s, e.g. `["series", "mask"]`.
        teacher_forcing: bool. Fill `decoder_inputs` with the true previous values (training and
            Keras' metrics); False leaves it out, for models that forecast from their own predictions.

    Returns:
        Dict from input name to array.
    """
    inputs = {}
    for name in input_names:
        if name == "decoder_inputs" and not teacher_forcing:
            continue
        if name == "series":
            inputs[name] = split.series
        elif name == "mask":
            inputs[name] = split.mask
        elif name == "decoder_inputs":
            inputs[name] = teacher_inputs(split).astype("float32")
        elif name == "static" and split.static is not None:
            inputs[name] = split.static
        else:
            raise ZooError(f"The model asks for an input {name!r} that this data does not provide.")
    return inputs


def rows_of(arrays, indices):
    """Returns the nested `arrays` (dicts and tuples of arrays) at `indices` (a slice or index array)."""
    return keras.tree.map_structure(lambda array: array[indices], arrays)


class SplitBatches(keras.utils.PyDataset):
    """`(inputs, targets)` batches of arrays in their order, the same each epoch (evaluation, validation).

    Args:
        arrays: `(inputs dict, targets)`.
        batch_size: int.
    """

    def __init__(self, arrays, batch_size):
        super().__init__()
        self.arrays, self.batch_size = arrays, batch_size
        self.rows = len(keras.tree.flatten(arrays)[0])

    def __len__(self):
        return math.ceil(self.rows / self.batch_size)

    def __getitem__(self, index):
        return rows_of(self.arrays, slice(index * self.batch_size, (index + 1) * self.batch_size))


def make_batches(split, *, input_names, task, batch_size):
    """Returns `(inputs, targets)` batches in the split's order (evaluation, validation): a prefetched
    `tf.data.Dataset` on TensorFlow, a `SplitBatches` elsewhere.

    Args:
        split: SeriesSplit.
        input_names: names of the model's inputs.
        task: Task. Says what the model is trained to output (`task.targets(split)`).
        batch_size: int.
    """
    arrays = (model_inputs(split, input_names), task.targets(split))
    if not on_tensorflow():
        return SplitBatches(arrays, batch_size)
    import tensorflow as tf

    return tf.data.Dataset.from_tensor_slices(arrays).batch(batch_size).prefetch(tf.data.AUTOTUNE)


def epoch_order(n, seed, epoch):
    """Returns the order `(n,)` in which epoch `epoch` visits the training series: a function of seed and epoch only.

    Because the order does not depend on how many epochs ran before in this process, a resumed
    run sees exactly the batches an uninterrupted one would. TensorFlow's stateless shuffle on
    the TensorFlow backend (the order the pinned metrics were trained in); NumPy's, seeded by
    (seed, epoch), elsewhere.
    """
    if not on_tensorflow():
        return np.random.default_rng([seed, epoch]).permutation(n)
    import tensorflow as tf

    seed_pair = tf.stack([tf.cast(seed, tf.int64), tf.cast(epoch, tf.int64)])
    return tf.random.experimental.stateless_shuffle(tf.range(n), seed=seed_pair)


def epoch_batches(arrays, *, n, batch_size, seed, epochs, first_epoch, first_step):
    """Yields the training batches of every epoch from `first_epoch` on, as `make_training_dataset` does without TensorFlow."""
    for epoch in range(first_epoch, epochs):
        order = epoch_order(n, seed, epoch)
        for step, start in enumerate(range(0, n, batch_size)):
            if epoch == first_epoch and step < first_step:
                continue
            yield rows_of(arrays, order[start : start + batch_size])


def make_training_dataset(split, *, input_names, task, batch_size, seed, epochs, first_epoch=0, first_step=0):
    """Returns the training pipeline: every epoch from `first_epoch` on, each reshuffled by `epoch_order`.

    Feed it to `model.fit` with `steps_per_epoch` (the second value returned) and
    `initial_epoch=first_epoch`: one iterator then runs through all epochs. A tf.data pipeline on
    TensorFlow, a generator of NumPy batches (`epoch_batches`) elsewhere.

    Args:
        split: SeriesSplit.
        input_names: names of the model's inputs.
        task: Task.
        batch_size: int.
        seed: int. With the epoch, fixes each epoch's order.
        epochs: int. The last epoch (exclusive), as `model.fit(epochs=...)`.
        first_epoch: int. The first epoch to produce (a resumed run's next epoch).
        first_step: int. Batches of `first_epoch` to leave out (a run resumed within an epoch).

    Returns:
        `(dataset, steps_per_epoch)`.
    """
    arrays = (model_inputs(split, input_names), task.targets(split))
    n = len(split)
    if not on_tensorflow():
        batches = epoch_batches(arrays, n=n, batch_size=batch_size, seed=seed, epochs=epochs, first_epoch=first_epoch, first_step=first_step)
        return batches, math.ceil(n / batch_size)
    import tensorflow as tf

    tensors = tf.nest.map_structure(tf.convert_to_tensor, arrays)

    def batch_at(indices):
        return tf.nest.map_structure(lambda tensor: tf.gather(tensor, indices), tensors)

    def batches_of_epoch(epoch):
        order = tf.data.Dataset.from_tensor_slices(epoch_order(n, seed, epoch)).batch(batch_size)
        return order.map(batch_at)

    dataset = tf.data.Dataset.range(first_epoch, epochs).flat_map(batches_of_epoch).skip(first_step)
    return dataset.prefetch(tf.data.AUTOTUNE), math.ceil(n / batch_size)
