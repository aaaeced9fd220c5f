"""RESeL's Mamba core: Mamba blocks with hidden-reset flags, then a position-wise feed-forward.

Shape and initialization follow the RESeL code's ``smamba_b1_c8_s64_ff`` layer
(FanmingL/Recurrent-Offpolicy-RL ``offpolicy_rnn/models/smamba/mamba.py``: ``Mamba``, ``Block``,
``BlockList``, ``PositionWiseFeedForward``; parsed in ``offpolicy_rnn/models/rnn_base.py``) and
RESeL App. D.3.2:

* per block: ``x <- x + Mamba(RMSNorm(x))`` (the code's fused add-and-norm with the residual kept
  in fp32; RMSNorm eps 1e-8);
* Mamba (Gu and Dao 2023): ``in_proj`` to ``2 * expand * d_model`` (no bias), depthwise causal
  convolution of width ``d_conv`` (with bias) and SiLU, ``x_proj`` to ``dt_rank + 2 * d_state``,
  ``dt_proj`` with softplus, the selective scan, the ``D`` skip, SiLU gating by ``z``,
  ``out_proj`` (no bias); ``dt_rank = ceil(d_model / 16)``; A = 1..d_state per channel (S4D
  real), D = 1, dt bias = inverse softplus of exp(U(log 1e-3, log 0.1)) floored at 1e-4;
* after the blocks, ``LayerNorm(W2 GELU(W1 x) + x)`` (eps 1e-8, dropout 0) when ``feedforward``
  (all tasks but Key-to-Door), else ``Linear(RMSNorm(x))`` without bias;
* Linear biases are zero except ``dt_proj``'s, ``out_proj`` weights are divided by
  sqrt(number of blocks) (the code's ``_init_weights``).

Padding slots are zeroed before the convolution and trajectories are packed with at least
``d_conv - 1`` of them in between (:attr:`MambaCore.gap`), so the convolution never reads across
a trajectory boundary; the scan's reset flag drops the carried state at each trajectory's first
token. Together no information crosses trajectories (RESeL App. C.2, Fig. 13).
"""

from __future__ import annotations

import math
from typing import Any, cast

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from pomdpbench.agents.nets import Linear
from pomdpbench.agents.resel.encoders.base import Core, Layout, uniform_like
from pomdpbench.agents.resel.encoders.compiled_conv import causal_conv
from pomdpbench.agents.resel.encoders.compiled_scan import selective_scan
from pomdpbench.agents.resel.encoders.cuda_scan import cuda_selective_scan
from pomdpbench.agents.resel.encoders.scan import scan_step

MambaState = list[tuple[Tensor | None, Tensor]]
"""Per block: the last ``d_conv`` convolution inputs ``(batch, d_inner, d_conv)`` (None without
a convolution) and the scan state ``(batch, d_inner, d_state)``."""


class RMSNorm(nn.Module):
    """Root-mean-square normalization with a learned scale (torch < 2.4 has no ``nn.RMSNorm``)."""

    def __init__(self, width: int, eps: float) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(width))

    def forward(self, x: Tensor) -> Tensor:
        """Scale ``x`` to unit root mean square over its last dimension."""
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


class Mamba(nn.Module):
    """One Mamba mixer (selective state-space layer) with reset-aware sequence and step paths."""

    def __init__(self, d_model: int, d_state: int, d_conv: int, expand: int, blocks: int) -> None:
        super().__init__()
        self.d_inner = expand * d_model
        self.d_state = d_state
        self.d_conv = d_conv
        self.dt_rank = math.ceil(d_model / 16)
        self.in_proj = Linear(d_model, 2 * self.d_inner, bias=False)
        self.conv1d = (
            nn.Conv1d(self.d_inner, self.d_inner, d_conv, groups=self.d_inner, bias=True)
            if d_conv > 0
            else None
        )
        self.x_proj = Linear(self.d_inner, self.dt_rank + 2 * d_state, bias=False)
        self.dt_proj = Linear(self.dt_rank, self.d_inner, bias=True)
        self.out_proj = Linear(self.d_inner, d_model, bias=False)
        bound = self.dt_rank**-0.5
        nn.init.uniform_(self.dt_proj.weight, -bound, bound)
        dt = torch.exp(torch.rand(self.d_inner) * (math.log(0.1) - math.log(1e-3)) + math.log(1e-3))
        dt = dt.clamp(min=1e-4)
        with torch.no_grad():
            self.dt_proj.bias.copy_(dt + torch.log(-torch.expm1(-dt)))  # inverse softplus
            self.out_proj.weight.div_(math.sqrt(blocks))
        states = torch.arange(1, d_state + 1, dtype=torch.float32)
        self.A_log = nn.Parameter(torch.log(states).repeat(self.d_inner, 1))
        self.D = nn.Parameter(torch.ones(self.d_inner))

    def _ssm_inputs(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """Step sizes before the softplus (the scan applies it), A, B and C."""
        dt, B, C = self.x_proj(x).split([self.dt_rank, self.d_state, self.d_state], dim=-1)
        return self.dt_proj(dt), -torch.exp(self.A_log), B, C

    def forward(self, h: Tensor, layout: Layout) -> Tensor:
        """The whole sequence at once; ``layout`` gives resets and padding."""
        x, z = self.in_proj(h).chunk(2, dim=-1)
        # Copied so that the scan's saved gate input does not keep the whole projection alive.
        z = z.contiguous()
        x = x * layout.valid.unsqueeze(-1)
        if self.conv1d is not None:
            x = self._causal_conv(x)
        x = F.silu(x)
        dt, A, B, C = self._ssm_inputs(x)
        y = cuda_selective_scan(x, dt, A, B, C, self.D, z, layout)
        if y is None:
            keep = (~layout.reset).to(x.dtype)
            y = selective_scan(x, dt, A, B, C, self.D, z, keep)
        out: Tensor = self.out_proj(y)
        return out

    def _causal_conv(self, x: Tensor) -> Tensor:
        """Depthwise causal convolution along time (``compiled_conv.py``)."""
        assert self.conv1d is not None and self.conv1d.bias is not None
        return causal_conv(x, self.conv1d.weight.squeeze(1), self.conv1d.bias)

    def initial_state(self, batch: int, random: bool) -> tuple[Tensor | None, Tensor]:
        """Zero (or uniform) convolution window and scan state."""
        weight = self.in_proj.weight
        conv = (
            weight.new_zeros(batch, self.d_inner, self.d_conv) if self.conv1d is not None else None
        )
        ssm = weight.new_zeros(batch, self.d_inner, self.d_state)
        if random:
            conv = None if conv is None else uniform_like(conv)
            ssm = uniform_like(ssm)
        return conv, ssm

    def step(
        self, h: Tensor, state: tuple[Tensor | None, Tensor]
    ) -> tuple[Tensor, tuple[Tensor | None, Tensor]]:
        """One token: ``(batch, d_model)`` in and out."""
        conv_state, ssm = state
        x, z = self.in_proj(h).chunk(2, dim=-1)
        conv = self.conv1d
        if conv is not None and conv.bias is not None and conv_state is not None:
            conv_state = torch.cat([conv_state[..., 1:], x.unsqueeze(-1)], dim=-1)
            x = (conv_state * conv.weight.squeeze(1)).sum(-1) + conv.bias
        x = F.silu(x)
        dt, A, B, C = self._ssm_inputs(x)
        ssm, y = scan_step(ssm, x, F.softplus(dt), A, B, C)
        y = (y + x * self.D) * F.silu(z)
        return self.out_proj(y), (conv_state, ssm)


class FeedForward(nn.Module):
    """``LayerNorm(W2 GELU(W1 x) + x)``: the position-wise layer after RESeL's Mamba block."""

    def __init__(self, width: int, eps: float) -> None:
        super().__init__()
        self.w_1 = Linear(width, width)
        self.w_2 = Linear(width, width)
        self.norm = nn.LayerNorm(width, eps=eps)
        nn.init.zeros_(self.w_1.bias)
        nn.init.zeros_(self.w_2.bias)

    def forward(self, x: Tensor) -> Tensor:
        """Apply to every token."""
        out: Tensor = self.norm(self.w_2(F.gelu(self.w_1(x))) + x)
        return out


class MambaCore(Core):
    """``blocks`` Mamba blocks (residual, pre-RMSNorm) and a feed-forward or normalized head."""

    def __init__(
        self,
        width: int,
        d_state: int = 64,
        d_conv: int = 8,
        expand: int = 2,
        blocks: int = 1,
        feedforward: bool = True,
    ) -> None:
        super().__init__()
        eps = 1e-8  # BlockList.norm_epsilon in the RESeL code
        self.norms = nn.ModuleList(RMSNorm(width, eps) for _ in range(blocks))
        self.mixers = nn.ModuleList(
            Mamba(width, d_state, d_conv, expand, blocks) for _ in range(blocks)
        )
        self.head: nn.Module
        if feedforward:
            self.head = FeedForward(width, eps)
        else:
            self.head = nn.Sequential(RMSNorm(width, eps), Linear(width, width, bias=False))
        self.gap = max(d_conv - 1, 0)

    def forward(self, x: Tensor, layout: Layout) -> Tensor:
        """Run the blocks over packed trajectories."""
        residual: Tensor | None = None
        for norm, mixer in zip(self.norms, self.mixers, strict=True):
            residual = x if residual is None else x + residual
            x = mixer(norm(residual), layout)
        assert residual is not None
        out: Tensor = self.head(x + residual)
        return out

    def initial_state(self, batch: int, random: bool = False) -> MambaState:
        """One (convolution window, scan state) pair per block."""
        return [cast(Mamba, mixer).initial_state(batch, random) for mixer in self.mixers]

    def step(self, x: Tensor, state: Any) -> tuple[Tensor, MambaState]:
        """One token through every block."""
        residual: Tensor | None = None
        new_state: MambaState = []
        for norm, mixer, block_state in zip(self.norms, self.mixers, state, strict=True):
            residual = x if residual is None else x + residual
            x, block_state = cast(Mamba, mixer).step(norm(residual), block_state)
            new_state.append(block_state)
        assert residual is not None
        return self.head(x + residual), new_state
