"""Custom layers, each registered for `.keras` saving under the "zoo" package."""

from zoo.layers.attention_pooling import AttentionPooling
