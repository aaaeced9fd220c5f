"""Sequence cores of RESeL's context encoder: Mamba (the paper's), GRU, Transformer, or none."""

from __future__ import annotations

from typing import Literal

from pomdpbench.agents.resel.encoders.base import Core, Layout, PositionWise

CoreKind = Literal["mamba", "gru", "transformer", "mlp"]
"""``mlp`` is RESeL Table 3's "FC" comparison: a position-wise layer with no memory."""


def build_core(
    kind: CoreKind,
    width: int,
    *,
    mamba_state: int = 64,
    mamba_conv: int = 8,
    mamba_expand: int = 2,
    mamba_blocks: int = 1,
    mamba_feedforward: bool = True,
    transformer_heads: int = 8,
    transformer_layers: int = 4,
) -> Core:
    """The core of ``kind`` mapping ``width`` features to ``width`` features per token."""
    if kind == "mamba":
        from pomdpbench.agents.resel.encoders.mamba import MambaCore

        return MambaCore(
            width,
            d_state=mamba_state,
            d_conv=mamba_conv,
            expand=mamba_expand,
            blocks=mamba_blocks,
            feedforward=mamba_feedforward,
        )
    if kind == "gru":
        from pomdpbench.agents.resel.encoders.gru import GRUCore

        return GRUCore(width)
    if kind == "transformer":
        from pomdpbench.agents.resel.encoders.transformer import TransformerCore

        return TransformerCore(width, heads=transformer_heads, layers=transformer_layers)
    if kind == "mlp":
        return PositionWise(width)
    raise ValueError(f"unknown encoder {kind!r}: choose mamba, gru, transformer or mlp")


__all__ = ["Core", "CoreKind", "Layout", "build_core"]
