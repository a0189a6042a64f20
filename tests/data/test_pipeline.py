"""The batches fit, evaluate and predict read: tf.data on TensorFlow and NumPy elsewhere give the same ones."""

import numpy as np
import pytest
from model_checks import toy_dataset

from zoo.data import pipeline
from zoo.tasks import get_task

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def split():
    return toy_dataset(length=12, min_length=4, n_samples=60, n_static=2).train


def tensorflow_order(n, seed, epoch):
    """The order the tf.data path draws (zoo.data.pipeline.epoch_order on TensorFlow), as NumPy."""
    import tensorflow as tf

    return tf.random.experimental.stateless_shuffle(tf.range(n), seed=tf.constant([seed, epoch], tf.int64)).numpy()


def as_numpy(batches):
    return [[np.asarray(array) for array in (inputs["series"], inputs["mask"], inputs["static"], targets)] for inputs, targets in batches]


def assert_same_batches(ours, theirs):
    assert len(ours) == len(theirs)
    for our_batch, their_batch in zip(ours, theirs):
        for ours_array, theirs_array in zip(our_batch, their_batch):
            np.testing.assert_array_equal(ours_array, theirs_array)


def training_batches(split, monkeypatch, tensorflow, **positions):
    monkeypatch.setattr(pipeline, "on_tensorflow", lambda: tensorflow)
    batches, steps = pipeline.make_training_dataset(
        split, input_names=["series", "mask", "static"], task=get_task("classify"), batch_size=16, seed=3, epochs=3, **positions
    )
    return as_numpy(batches.as_numpy_iterator() if tensorflow else batches), steps


@pytest.mark.parametrize("positions", [{}, {"first_epoch": 1, "first_step": 2}])
def test_numpy_training_batches_equal_tf_data_in_the_same_epoch_order(split, monkeypatch, positions):
    theirs, steps = training_batches(split, monkeypatch, True, **positions)
    monkeypatch.setattr(pipeline, "epoch_order", tensorflow_order)  # the NumPy path in TensorFlow's order
    ours, our_steps = training_batches(split, monkeypatch, False, **positions)
    assert our_steps == steps == 3  # 42 training series in batches of 16
    assert len(ours) == 3 * (3 - positions.get("first_epoch", 0)) - positions.get("first_step", 0)
    assert_same_batches(ours, theirs)


def test_the_numpy_epoch_order_is_a_seeded_permutation_of_seed_and_epoch(monkeypatch):
    monkeypatch.setattr(pipeline, "on_tensorflow", lambda: False)
    first = pipeline.epoch_order(50, seed=3, epoch=1)
    assert sorted(first.tolist()) == list(range(50))
    np.testing.assert_array_equal(first, pipeline.epoch_order(50, seed=3, epoch=1))
    assert not np.array_equal(first, pipeline.epoch_order(50, seed=3, epoch=2))
    assert not np.array_equal(first, pipeline.epoch_order(50, seed=4, epoch=1))


def test_evaluation_batches_are_the_same_on_both_paths_and_in_order(split, monkeypatch):
    arguments = {"input_names": ["series", "mask", "static"], "task": get_task("classify"), "batch_size": 16}
    theirs = as_numpy(pipeline.make_batches(split, **arguments).as_numpy_iterator())
    monkeypatch.setattr(pipeline, "on_tensorflow", lambda: False)
    batches = pipeline.make_batches(split, **arguments)
    ours = as_numpy(batches[index] for index in range(len(batches)))
    assert_same_batches(ours, theirs)
    np.testing.assert_array_equal(np.concatenate([batch[0] for batch in ours]), split.series)
