"""Attention layers: a query sequence reads a weighted mix of a value sequence."""

from minired.layers.attention.additive_attention import AdditiveAttention
from minired.layers.attention.attention import Attention
from minired.layers.attention.grouped_query_attention import (
    GroupedQueryAttention,
    GroupQueryAttention,
)
from minired.layers.attention.multi_head_attention import MultiHeadAttention

__all__ = ["AdditiveAttention", "Attention", "GroupQueryAttention", "GroupedQueryAttention",
           "MultiHeadAttention"]
