"""The one place that turns a SeriesSplit into model inputs and a shuffled, batched, prefetched tf.data pipeline."""

import math

import numpy as np
import tensorflow as tf

from zoo.errors import ZooError


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


def input_names(model):
    """Returns the names of `model`'s inputs (`series`, `mask`, `static`, `decoder_inputs`), which this module fills."""
    return [tensor.name for tensor in model.inputs]


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


def make_tf_dataset(split, *, input_names, task, batch_size):
    """Returns a `tf.data.Dataset` of `(inputs, targets)` batches in the split's order (evaluation, prediction).

    Args:
        split: SeriesSplit.
        input_names: names of the model's inputs.
        task: Task. Says what the model is trained to output (`task.targets(split)`).
        batch_size: int.
    """
    dataset = tf.data.Dataset.from_tensor_slices((model_inputs(split, input_names), task.targets(split)))
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def epoch_order(n, seed, epoch):
    """Returns the order `(n,)` in which epoch `epoch` visits the training series: a function of seed and epoch only.

    Because the order does not depend on how many epochs ran before in this process, a resumed
    run sees exactly the batches an uninterrupted one would.
    """
    seed_pair = tf.stack([tf.cast(seed, tf.int64), tf.cast(epoch, tf.int64)])
    return tf.random.experimental.stateless_shuffle(tf.range(n), seed=seed_pair)


def make_training_dataset(split, *, input_names, task, batch_size, seed, epochs, first_epoch=0, first_step=0):
    """Returns the training pipeline: every epoch from `first_epoch` on, each reshuffled by `epoch_order`.

    Feed it to `model.fit` with `steps_per_epoch` (the second value returned) and
    `initial_epoch=first_epoch`: one iterator then runs through all epochs.

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
    tensors = tf.nest.map_structure(tf.convert_to_tensor, arrays)
    n = len(split)

    def batch_at(indices):
        return tf.nest.map_structure(lambda tensor: tf.gather(tensor, indices), tensors)

    def batches_of_epoch(epoch):
        order = tf.data.Dataset.from_tensor_slices(epoch_order(n, seed, epoch)).batch(batch_size)
        return order.map(batch_at)

    dataset = tf.data.Dataset.range(first_epoch, epochs).flat_map(batches_of_epoch).skip(first_step)
    return dataset.prefetch(tf.data.AUTOTUNE), math.ceil(n / batch_size)
