"""inception_time: the modules' branches and widths, the bottleneck, the shortcuts, masks and errors."""

import keras
import numpy as np
import pytest
from model_checks import check_model, toy_dataset

from zoo import ZooError, create_model

pytestmark = pytest.mark.unit


@pytest.fixture(scope="session")  # made once per test process, however its tests are ordered
def dataset():
    return toy_dataset(length=20, n_samples=24)


def test_each_module_concatenates_one_branch_per_width_and_a_pooling_branch(dataset):
    model = check_model("inception_time", "classify", dataset, depth=6, filters=3, kernel_sizes=[9, 5], bottleneck=4)
    for index in range(6):
        # Two widths and the max-pooling branch, 3 filters each; "same" padding keeps every step.
        assert tuple(model.get_layer(f"inception_{index}_concat").output.shape) == (None, None, 9)
        assert model.get_layer(f"inception_{index}_conv_9").kernel.shape[0] == 9
        assert model.get_layer(f"inception_{index}_pool_conv").kernel.shape[0] == 1
    # The bottleneck narrows the module's input (2 channels, then 9) to 4 before the wide convolutions.
    assert tuple(model.get_layer("inception_0_bottleneck").kernel.shape) == (1, 2, 4)
    assert tuple(model.get_layer("inception_1_conv_5").kernel.shape) == (5, 4, 3)
    # A shortcut around every third module, then one pooled vector of the last module's channels.
    shortcuts = sorted(layer.name for layer in model.layers if layer.name.endswith("_add"))
    assert shortcuts == ["shortcut_2_add", "shortcut_5_add"]
    assert tuple(model.get_layer("shortcut_2_conv").kernel.shape) == (1, 2, 9)  # from the series itself
    assert tuple(model.get_layer("global_average").output.shape) == (None, 9)


def test_a_single_channel_skips_the_bottleneck_and_residual_false_drops_the_shortcuts():
    univariate = toy_dataset(length=20, n_samples=24, n_features=1)
    model = check_model("inception_time", "classify", univariate, depth=3, filters=2, residual=False)
    names = [layer.name for layer in model.layers]
    assert "inception_0_bottleneck" not in names and "inception_1_bottleneck" in names
    assert not any(name.startswith("shortcut") for name in names)


def test_max_pooling_never_picks_padding_even_below_zero():
    data = toy_dataset(length=12, min_length=4, n_samples=24)
    model = create_model("inception_time", data.spec, depth=1, filters=3, kernel_sizes=[3], bottleneck=0)
    rng = np.random.default_rng(0)
    # Every valid value is negative, so a zero in the padding would win the max at the last valid step.
    series = -1.0 - np.abs(rng.normal(size=(2, 12, 2))).astype("float32")
    mask = np.arange(12)[None, :] < np.array([[12], [7]])
    pooled = keras.Model(model.inputs, model.get_layer("inception_0_max_pool").output)
    values = keras.ops.convert_to_numpy(pooled({"series": series, "mask": mask}))
    np.testing.assert_allclose(values[1, 6], np.max(series[1, 5:7], axis=0))
    batch = keras.ops.convert_to_numpy(model({"series": series, "mask": mask}, training=False))
    alone = keras.ops.convert_to_numpy(model({"series": series[1:, :7], "mask": mask[1:, :7]}, training=False))
    np.testing.assert_allclose(alone[0], batch[1], atol=1e-6)


def test_empty_kernel_sizes_is_a_clear_error(dataset):
    with pytest.raises(ZooError, match=r"kernel_sizes is empty: give at least one width"):
        create_model("inception_time", dataset.spec, kernel_sizes=[])


def test_a_residual_that_is_not_a_bool_is_a_clear_error(dataset):
    with pytest.raises(ZooError, match=r"invalid value for residual, expected true or false, got 'yes'"):
        create_model("inception_time", dataset.spec, residual="yes")
