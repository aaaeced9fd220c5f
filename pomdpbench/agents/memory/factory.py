"""Build the memory part a learner's config names (``memory = "mlp" | "window" | ...``)."""

from __future__ import annotations

from typing import Literal

from pomdpbench.agents.memory.parts import (
    MemoryPart,
    MLPMemory,
    OracleMemory,
    PartContext,
    WindowMemory,
)
from pomdpbench.agents.memory.recurrent import BPTTMemory, GRUSeqMemory, RSMemory

MemoryName = Literal["mlp", "oracle", "window", "bptt", "rs", "gru-seq"]


def make_memory(
    name: str,
    ctx: PartContext,
    length: int,
    gru_hidden: int,
    embedding: int,
    action_embedding: int,
    reward_embedding: int,
) -> MemoryPart:
    """The part ``name`` with its sizes (unused sizes are ignored by the simpler parts)."""
    if name == "mlp":
        return MLPMemory(ctx)
    if name == "oracle":
        return OracleMemory(ctx)
    if name == "window":
        return WindowMemory(ctx, length)
    if name == "bptt":
        return BPTTMemory(ctx, length, gru_hidden, embedding)
    if name == "rs":
        return RSMemory(ctx, gru_hidden, embedding)
    if name == "gru-seq":
        return GRUSeqMemory(ctx, length, gru_hidden, embedding, action_embedding, reward_embedding)
    raise ValueError(f"unknown memory part {name!r}")
