"""The one place that turns a SeriesSplit into model inputs and a shuffled, batched, prefetched tf.data pipeline."""

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


def make_tf_dataset(split, *, input_names, task, batch_size, shuffle=False, seed=0):
    """Returns a `tf.data.Dataset` of `(inputs, targets)` batches that feeds `model.fit`.

    Args:
        split: SeriesSplit.
        input_names: names of the model's inputs.
        task: Task. Says what the model is trained to output (`task.targets(split)`).
        batch_size: int.
        shuffle: bool. Reshuffles every epoch, seeded so runs repeat exactly.
        seed: int. Shuffle seed.
    """
    dataset = tf.data.Dataset.from_tensor_slices((model_inputs(split, input_names), task.targets(split)))
    if shuffle:
        dataset = dataset.shuffle(len(split), seed=seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)
