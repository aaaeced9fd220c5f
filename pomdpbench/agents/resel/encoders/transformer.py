"""The causal Transformer core of RESeL-Transformer (RESeL Sec. 5.1, Fig. 12).

Layer structure from the RESeL code's ``cgpt`` layer (FanmingL/Recurrent-Offpolicy-RL
``offpolicy_rnn/models/flash_attention/TransformerFlashAttention.py``, ``TransformerDecoder``),
sizes from ``gen_tmuxp_gpt_pomdp.py`` (``cgpt_h8_l4_p0.0_ml1024``, width ``8 * 64``):
pre-norm decoder layers ``x + MHA(LN(x))`` and ``x + FF(LN(x))`` with causal multi-head
attention using ALiBi position biases (flash-attn's ``MHA(use_alibi=True)``), a GELU
feed-forward of 4x the width, dropout 0, then a final LayerNorm and Linear.

Packed rows are masked block-diagonally: a token attends to earlier tokens of its own
trajectory only (the flash-attn code unpads to variable-length sequences for the same effect).
ALiBi depends only on the distance between two tokens, so a trajectory's outputs do not depend
on where it sits in a row. Acting keeps a key/value cache per layer.
"""

from __future__ import annotations

import math
from typing import cast

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from pomdpbench.agents.nets import Linear
from pomdpbench.agents.resel.encoders.base import Core, Layout

KVCache = list[tuple[Tensor, Tensor]]
"""Per layer: keys and values so far, each ``(batch, heads, tokens, head_size)``."""


def alibi_slopes(heads: int) -> Tensor:
    """ALiBi's per-head slopes ``2^(-8 i / heads)`` (Press et al. 2022; exact for powers of 2)."""
    closest = 2 ** math.floor(math.log2(heads))
    base = [2.0 ** (-8.0 * (i + 1) / closest) for i in range(closest)]
    extra = [2.0 ** (-4.0 * (2 * i + 1) / closest) for i in range(heads - closest)]
    return torch.tensor(base + extra)


class DecoderLayer(nn.Module):
    """Pre-norm causal self-attention and feed-forward, each with a residual connection."""

    def __init__(self, width: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = Linear(width, 3 * width)
        self.out = Linear(width, width)
        self.attn_norm = nn.LayerNorm(width)
        self.ff_norm = nn.LayerNorm(width)
        self.ff = nn.Sequential(Linear(width, 4 * width), nn.GELU(), Linear(4 * width, width))

    def _split(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        rows, length, width = x.shape
        qkv = self.qkv(self.attn_norm(x)).view(rows, length, 3, self.heads, width // self.heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)  # each (rows, heads, length, head_size)
        return q, k, v

    def _merge(self, x: Tensor, attended: Tensor) -> Tensor:
        rows, _, length, _ = attended.shape
        x = x + self.out(attended.transpose(1, 2).reshape(rows, length, -1))
        out: Tensor = x + self.ff(self.ff_norm(x))
        return out

    def forward(self, x: Tensor, bias: Tensor) -> Tensor:
        """``bias``: additive attention bias ``(rows, heads, length, length)`` (-inf = masked)."""
        q, k, v = self._split(x)
        return self._merge(x, F.scaled_dot_product_attention(q, k, v, attn_mask=bias))

    def step(
        self, x: Tensor, cache: tuple[Tensor, Tensor] | None, slopes: Tensor
    ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        """One token ``(batch, 1, width)`` attending to the cache and itself."""
        q, k, v = self._split(x)
        if cache is not None:
            k = torch.cat([cache[0], k], dim=2)
            v = torch.cat([cache[1], v], dim=2)
        distance = torch.arange(k.shape[2] - 1, -1, -1, device=x.device, dtype=x.dtype)
        bias = (-slopes.view(-1, 1, 1) * distance).unsqueeze(0)  # (1, heads, 1, tokens)
        return self._merge(x, F.scaled_dot_product_attention(q, k, v, attn_mask=bias)), (k, v)


class TransformerCore(Core):
    """``layers`` decoder layers of ``width`` with ``heads`` ALiBi heads, LayerNorm, Linear."""

    def __init__(self, width: int, heads: int = 8, layers: int = 4) -> None:
        super().__init__()
        if width % heads:
            raise ValueError(f"transformer width {width} is not a multiple of heads {heads}")
        self.layers = nn.ModuleList(DecoderLayer(width, heads) for _ in range(layers))
        self.norm = nn.LayerNorm(width)
        self.out = Linear(width, width)
        self.register_buffer("slopes", alibi_slopes(heads), persistent=False)

    def _slopes(self) -> Tensor:
        return cast(Tensor, self.slopes)

    def attention_bias(self, layout: Layout, dtype: torch.dtype) -> Tensor:
        """Block-diagonal causal mask with ALiBi: ``(rows, heads, length, length)``."""
        reset, valid = layout
        length = reset.shape[1]
        segment = torch.cumsum(reset.long(), dim=1)
        same = segment.unsqueeze(2) == segment.unsqueeze(1)
        position = torch.arange(length, device=reset.device)
        distance = position.view(-1, 1) - position.view(1, -1)
        allowed = same & (distance >= 0) & valid.unsqueeze(1)
        allowed |= torch.eye(length, dtype=torch.bool, device=reset.device)  # padding sees itself
        alibi = -self._slopes().to(dtype).view(1, -1, 1, 1) * distance.to(dtype)
        return alibi.masked_fill(~allowed.unsqueeze(1), float("-inf"))

    def forward(self, x: Tensor, layout: Layout) -> Tensor:
        """All tokens at once; trajectories in one row do not see each other."""
        bias = self.attention_bias(layout, x.dtype)
        for layer in self.layers:
            x = layer(x, bias)
        out: Tensor = self.out(self.norm(x))
        return out

    def initial_state(self, batch: int, random: bool = False) -> KVCache:
        """An empty cache (a random initial state has no meaning for attention)."""
        if random:
            raise ValueError("random_initial_hidden is not defined for the transformer encoder")
        return []

    def step(self, x: Tensor, state: KVCache) -> tuple[Tensor, KVCache]:
        """One token, appending its keys and values to the cache."""
        h = x.unsqueeze(1)
        new_state: KVCache = []
        for i, layer in enumerate(self.layers):
            decoder = cast(DecoderLayer, layer)
            h, cache = decoder.step(h, state[i] if state else None, self._slopes())
            new_state.append(cache)
        return self.out(self.norm(h)).squeeze(1), new_state
