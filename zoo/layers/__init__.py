"""Custom layers, each registered for `.keras` saving under the "zoo" package."""

from zoo.layers.attention_pooling import AttentionPooling
from zoo.layers.autoregressive import AutoregressiveLoop, LastValidStep, SeasonalNaive
from zoo.layers.masking import DownsampleMask, MaskSteps, PadSteps
from zoo.layers.static import ConcatenateStatic

__all__ = ["AttentionPooling", "AutoregressiveLoop", "ConcatenateStatic", "DownsampleMask", "LastValidStep", "MaskSteps", "PadSteps", "SeasonalNaive"]
