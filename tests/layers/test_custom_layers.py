"""Every custom layer through `run_layer_test`: shapes, a training step, config, save/reload, masks, dtype policies."""

import keras
import numpy as np
import pytest
from layer_checks import run_layer_test

from zoo.layers import (
    AttentionPooling,
    ConcatenateStatic,
    DownsampleMask,
    SeasonalNaive,
    LastValidStep,
    MaskSteps,
    PadSteps,
)

pytestmark = pytest.mark.unit

RNG = np.random.default_rng(0)
VALUES = RNG.normal(size=(2, 5, 4)).astype("float32")
MASK = np.array([[True] * 5, [True, True, True, False, False]])


def test_attention_pooling(tmp_path):
    run_layer_test(
        AttentionPooling,
        {"units": 3},
        VALUES,
        mask=MASK,
        expected_output_shape=[(2, 4), (2, 5)],
        expected_num_trainable_weights=3,
        # The time axis is pooled away, so no mask goes on; weights are always float32 (softmax).
        expected_output_mask=None,
        expected_output_dtypes=lambda policy: [keras.mixed_precision.DTypePolicy(policy).compute_dtype, "float32"],
        tmp_path=tmp_path,
    )


def test_mask_steps(tmp_path):
    run_layer_test(MaskSteps, {}, [VALUES, MASK], expected_output_shape=(2, 5, 4), tmp_path=tmp_path)


def test_mask_steps_fills_padding_with_its_fill_value(tmp_path):
    # A finite fill through the generic round trip (its wrapper trains on the output); -inf directly.
    run_layer_test(MaskSteps, {"fill_value": -5.0}, [VALUES, MASK], expected_output_shape=(2, 5, 4), tmp_path=tmp_path)
    # Minus infinity becomes the dtype's lowest finite value (exporters would turn 0 * inf into NaN).
    filled = np.asarray(MaskSteps(fill_value=float("-inf"))([VALUES, MASK]))
    np.testing.assert_array_equal(filled[1, 3:], np.full((2, 4), np.finfo("float32").min))
    np.testing.assert_array_equal(filled[MASK], VALUES[MASK])
    half = np.asarray(MaskSteps(fill_value=float("-inf"), dtype="float16")([VALUES.astype("float16"), MASK]))
    assert half[1, 3, 0] == np.finfo("float16").min


def test_downsample_mask(tmp_path):
    run_layer_test(
        DownsampleMask,
        {"window": 2},
        MASK,
        expected_output_shape=(2, 3),
        expected_output_dtypes=lambda policy: ["bool"],
        tmp_path=tmp_path,
    )


def test_concatenate_static(tmp_path):
    static = RNG.normal(size=(2, 3)).astype("float32")
    run_layer_test(ConcatenateStatic, {}, [VALUES, static], expected_output_shape=(2, 5, 7), tmp_path=tmp_path)


def test_downsampled_mask_marks_a_window_valid_if_any_step_is():
    pooled = np.asarray(DownsampleMask(2)(MASK))
    np.testing.assert_array_equal(pooled, [[True, True, True], [True, True, False]])


def test_last_valid_step(tmp_path):
    run_layer_test(LastValidStep, {}, [VALUES, MASK], expected_output_shape=(2, 4), tmp_path=tmp_path)
    picked = np.asarray(LastValidStep()([VALUES, MASK]))
    np.testing.assert_array_equal(picked, [VALUES[0, 4], VALUES[1, 2]])
    np.testing.assert_array_equal(np.asarray(LastValidStep()(VALUES)), VALUES[:, -1])


def test_seasonal_naive(tmp_path):
    run_layer_test(SeasonalNaive, {"horizon": 5, "season_length": 2}, [VALUES, MASK], expected_output_shape=(2, 5, 4), tmp_path=tmp_path)
    repeated = np.asarray(SeasonalNaive(5, 2)([VALUES, MASK]))
    np.testing.assert_array_equal(repeated[0], VALUES[0, [3, 4, 3, 4, 3]])  # 5 valid steps: the last two, repeated
    np.testing.assert_array_equal(repeated[1], VALUES[1, [1, 2, 1, 2, 1]])  # 3 valid steps
    np.testing.assert_array_equal(np.asarray(SeasonalNaive(3, 5)(VALUES)), VALUES[:, :3])  # a whole series as one season


def test_pad_steps(tmp_path):
    run_layer_test(PadSteps, {"steps": 3}, VALUES, expected_output_shape=(2, 8, 4), tmp_path=tmp_path)
    padded = np.asarray(PadSteps(3)(VALUES))
    np.testing.assert_array_equal(padded[:, :5], VALUES)
    np.testing.assert_array_equal(padded[:, 5:], 0.0)


def test_pad_steps_pads_a_mask_with_false(tmp_path):
    run_layer_test(
        PadSteps,
        {"steps": 2},
        MASK,
        expected_output_shape=(2, 7),
        expected_output_dtypes=lambda policy: ["bool"],
        tmp_path=tmp_path,
    )
    np.testing.assert_array_equal(np.asarray(PadSteps(2)(MASK)), np.concatenate([MASK, np.zeros((2, 2), bool)], axis=1))

