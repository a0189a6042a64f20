"""Small shared checks for model tests: toy data, one training step, a save/reload round trip."""

import keras
import numpy as np

from zoo import create_model, model_info
from zoo.data import model_inputs, synthetic_dataset
from zoo.tasks import get_task

TOY = dict(n_samples=24, length=8, n_features=2, n_classes=3, noise=0.1, horizon=3, seed=0)


def default_task(name):
    """The head a model is built with by default: its first registered head."""
    return model_info(name).default_head


def small_options(name, units=None):
    """Options that make a model small for a toy test, as its registry entry declares them (`units` to override)."""
    options = dict(model_info(name).test_options)
    if units is not None and "units" in options:
        options["units"] = units
    return options


def toy_dataset(**overrides):
    return synthetic_dataset(**{**TOY, **overrides})


def toy_batch(model, dataset, task):
    names = [tensor.name for tensor in model.inputs]
    return model_inputs(dataset.train, names), get_task(task).targets(dataset.train)


def check_model(name, task, dataset=None, graph=False, **options):
    """Builds `name`, checks its output shape and takes one epoch of training steps.

    Eager by default: tracing a variant's training graph costs seconds and checks nothing these
    tests ask; `graph=True` (the registry's default-config test) and every training run of the
    CLI tests go through the compiled `fit` path.

    Returns:
        The trained model.
    """
    dataset = dataset or toy_dataset()
    model = create_model(name, dataset.spec, head=task, **options)
    inputs, labels = toy_batch(model, dataset, task)
    predictions = model.predict(inputs, verbose=0) if graph else keras.ops.convert_to_numpy(model(inputs, training=False))
    spec = dataset.spec
    expected = {
        "classify": (len(labels), spec.n_classes),
        "forecast": (len(labels), spec.horizon, spec.n_features),
        "regress": (len(labels), 1),
    }[task]
    assert predictions.shape == expected
    model.compile(optimizer="adam", run_eagerly=not graph, **get_task(task).compile_arguments())
    before = [w.copy() for w in model.get_weights()]
    history = model.fit(inputs, labels, epochs=1, batch_size=8, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert all(np.isfinite(w).all() for w in model.get_weights())
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    return model


def assert_reload_predicts_identically(model, inputs, path):
    model.save(path)
    reloaded = keras.saving.load_model(path)
    np.testing.assert_array_equal(reloaded.predict(inputs, verbose=0), model.predict(inputs, verbose=0))
    return reloaded
