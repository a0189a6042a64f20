"""Static covariates: both ways in (concatenated to every step, or the initial state) train and matter."""

import keras
import numpy as np
import pytest
from model_checks import (
    assert_reload_predicts_identically,
    check_model,
    default_task,
    small_options,
    toy_batch,
    toy_dataset,
)

from zoo import ZooError, create_model, list_models
from zoo.layers import ConcatenateStatic

pytestmark = pytest.mark.unit

MODES = ["concat", "initial_state"]


task_of = default_task


@pytest.fixture(scope="session")  # made once per test process, however its tests are ordered
def dataset():
    data = toy_dataset(n_static=3)
    assert data.spec.n_static == 3 and data.train.static.shape == (len(data.train), 3)
    return data


@pytest.mark.integration
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", list_models(recurrent=True))
def test_static_features_train_and_change_the_prediction(dataset, name, mode, tmp_path):
    model = check_model(name, task_of(name), dataset=dataset, **small_options(name), static_mode=mode, bidirectional=name == "attention")
    assert tuple(model.get_layer("static").output.shape) == (None, 3)
    inputs, _ = toy_batch(model, dataset, task_of(name))
    before = model.predict(inputs, verbose=0)
    changed = {**inputs, "static": inputs["static"].copy()}
    changed["static"][:, 0] += 2.0
    after = model.predict(changed, verbose=0)
    assert not np.allclose(before, after, atol=1e-6)
    assert_reload_predicts_identically(model, inputs, tmp_path / f"{name}.keras")


def test_concat_mode_repeats_static_along_time():
    series = np.zeros((2, 5, 3), "float32")
    static = np.array([[1.0, 2.0], [3.0, 4.0]], "float32")
    joined = np.asarray(ConcatenateStatic()([series, static]))
    assert joined.shape == (2, 5, 5)
    np.testing.assert_array_equal(joined[:, :, 3:], np.repeat(static[:, None, :], 5, axis=1))


@pytest.mark.parametrize("cell, bidirectional, count", [("lstm", False, 2), ("gru", False, 1), ("lstm", True, 4)])
def test_initial_state_mode_maps_static_to_every_state_of_the_first_layer(dataset, cell, bidirectional, count):
    model = create_model("last_state", dataset.spec, units=4, cell=cell, bidirectional=bidirectional, static_mode="initial_state")
    state_layers = [layer for layer in model.layers if layer.name.startswith("static_to_")]
    assert len(state_layers) == count
    assert all(tuple(layer.output.shape) == (None, 4) for layer in state_layers)
    assert "static_concat" not in [layer.name for layer in model.layers]


def test_bad_static_mode_is_named(dataset):
    with pytest.raises(ZooError, match=r"static_mode, expected one of \['concat', 'initial_state'\], got 'add'"):
        create_model("last_state", dataset.spec, static_mode="add")


def test_static_layers_round_trip_their_config():
    layer = ConcatenateStatic(name="join")
    assert keras.saving.get_registered_name(ConcatenateStatic) == "zoo>ConcatenateStatic"
    assert ConcatenateStatic.from_config(layer.get_config()).get_config() == layer.get_config()
