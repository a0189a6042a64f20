"""Exported models reproduce Keras: every model as a SavedModel and through ONNX Runtime, padded and unpadded batches."""

import numpy as np
import onnxruntime
import pytest
import tensorflow as tf
from model_checks import default_task, small_options, toy_dataset

from zoo import create_model, list_models, model_info
from zoo.export import FORMATS, export_models, export_one

pytestmark = pytest.mark.unit

LENGTHS = np.array([12, 9, 5, 4])


@pytest.fixture(scope="session")  # made once per test process, however its tests are ordered
def dataset():
    return toy_dataset(length=12, min_length=4, n_samples=40, n_static=2)


def batches(model):
    """A padded batch (lengths 12, 9, 5, 4) and an unpadded one (every step valid), as the model's inputs."""
    rng = np.random.default_rng(0)
    series = rng.normal(size=(4, 12, 2)).astype("float32")
    static = rng.normal(size=(4, 2)).astype("float32")
    padded_mask = np.arange(12)[None, :] < LENGTHS[:, None]
    full_mask = np.ones((4, 12), dtype=bool)
    names = {tensor.name for tensor in model.inputs}
    return [
        {name: value for name, value in (("series", series), ("mask", mask), ("static", static)) if name in names}
        for mask in (padded_mask, full_mask)
    ]


def keras_outputs(part, inputs):
    outputs = part.predict(inputs, verbose=0)
    return [np.asarray(value) for value in (outputs if isinstance(outputs, (list, tuple)) else [outputs])]


def run_saved_model(path, inputs):
    serve = tf.saved_model.load(str(path)).signatures["serving_default"]
    outputs = serve(**{name: tf.constant(value) for name, value in inputs.items()})
    return [outputs[key].numpy() for key in sorted(outputs, key=lambda key: int(key.rsplit("_", 1)[-1]))]


def run_onnx(path, inputs):
    session = onnxruntime.InferenceSession(str(path))
    return session.run(None, {item.name: inputs[item.name] for item in session.get_inputs()})


@pytest.mark.integration
@pytest.mark.parametrize("export_format", sorted(FORMATS))
@pytest.mark.parametrize("name", list_models())
def test_exported_model_reproduces_keras(dataset, name, export_format, tmp_path):
    options = {"n_sub": 3} if "n_sub" in model_info(name).options() else {}
    model = create_model(name, dataset.spec, head=default_task(name), **small_options(name), **options)
    parts = export_models(model, model_info(name).serving_model)
    keras_format, suffix = FORMATS[export_format]
    run = run_onnx if export_format == "onnx" else run_saved_model
    # One artifact per model; for seq2seq, its whole autoregressive inference graph.
    assert list(parts) == ["model"]
    path = export_one(parts["model"], tmp_path / f"model{suffix or '_saved_model'}", keras_format)
    for batch in batches(model):
        expected = keras_outputs(parts["model"], batch)
        if model_info(name).forecaster is not None:  # the graph decodes as the zoo's forecaster does
            np.testing.assert_allclose(expected[0], model_info(name).forecaster(model, batch, 3), atol=1e-6)
        exported = run(path, batch)
        assert len(exported) == len(expected)
        for got, want in zip(exported, expected):
            np.testing.assert_allclose(got, want, atol=1e-5)
