"""What every context-encoder core shares: the batch layout and the state-passing contract.

A *core* is the sequence model in the middle of RESeL's context encoder (Mamba, GRU,
Transformer, or a position-wise layer for the memoryless comparison). It sees a batch of rows;
a row holds one or more whole trajectories, described by a :class:`Layout`:

* ``reset[b, t]`` is true at the first token of every trajectory: the hidden state restarts
  there (RESeL App. C.2's hidden-reset flag);
* ``valid[b, t]`` is false on padding (slots between packed trajectories and at a row's end).

Cores whose :attr:`Core.packs` is true accept several trajectories per row (they need
:attr:`Core.gap` padding slots between two of them); the GRU takes one trajectory per row,
starting at column 0. For acting, :meth:`Core.step` advances one token with a carried state, and
must give the same outputs as :meth:`Core.forward` over the whole sequence.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import torch
from torch import Tensor, nn

from pomdpbench.agents.nets import Linear


class Layout(NamedTuple):
    """Where trajectories start and which slots are padding: two ``(rows, length)`` bool masks."""

    reset: Tensor
    valid: Tensor

    @staticmethod
    def single(batch: int, length: int, device: torch.device | str = "cpu") -> Layout:
        """``batch`` rows each holding one trajectory of ``length`` tokens."""
        reset = torch.zeros(batch, length, dtype=torch.bool, device=device)
        reset[:, 0] = True
        return Layout(reset, torch.ones(batch, length, dtype=torch.bool, device=device))


class Core(nn.Module):
    """Base class of the sequence cores; see the module docstring for the contract."""

    packs: bool = True
    """Whether a row may hold several trajectories separated by resets."""
    gap: int = 0
    """Padding slots needed between two trajectories packed in one row."""

    def forward(self, x: Tensor, layout: Layout) -> Tensor:
        """Map ``(rows, length, width)`` inputs to outputs of the same shape."""
        raise NotImplementedError

    def initial_state(self, batch: int, random: bool = False) -> Any:
        """The state before the first token (zeros; uniform in [-1, 1] when ``random``)."""
        raise NotImplementedError

    def step(self, x: Tensor, state: Any) -> tuple[Tensor, Any]:
        """Advance ``(batch, width)`` inputs by one token."""
        raise NotImplementedError


class PositionWise(Core):
    """A linear layer applied to each token alone: the memoryless "FC" core of RESeL Table 3."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.linear = Linear(width, width)

    def forward(self, x: Tensor, layout: Layout) -> Tensor:
        """Apply the layer token by token (no information flows along time)."""
        out: Tensor = self.linear(x)
        return out

    def initial_state(self, batch: int, random: bool = False) -> None:
        """No state."""
        return None

    def step(self, x: Tensor, state: None) -> tuple[Tensor, None]:
        """Apply the layer to one token."""
        return self.linear(x), None


def uniform_like(tensor: Tensor) -> Tensor:
    """Uniform noise in [-1, 1] shaped like ``tensor`` (the RESeL code's random initial hidden)."""
    return torch.rand_like(tensor).mul_(2.0).sub_(1.0)
