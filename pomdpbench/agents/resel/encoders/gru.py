"""The GRU core of RESeL-GRU (RESeL Sec. 5.1, Fig. 12): ``torch.nn.GRU`` on one trajectory per row.

The RESeL code's ``gru`` layer is ``torch.nn.GRU(batch_first=True)`` and never packs several
trajectories into one row for it (``allow_nest_stack`` in ``offpolicy_rnn/algorithm/sac.py``):
each row starts at column 0 with a zero state and is padded at its end, so padding can only
follow the outputs that matter and never changes them.
"""

from __future__ import annotations

from torch import Tensor, nn

from pomdpbench.agents.resel.encoders.base import Core, Layout, uniform_like


class GRUCore(Core):
    """A single-layer GRU of ``width`` units."""

    packs = False

    def __init__(self, width: int) -> None:
        super().__init__()
        self.gru = nn.GRU(width, width, batch_first=True)

    def forward(self, x: Tensor, layout: Layout) -> Tensor:
        """Run each row from a zero state; rows must hold one trajectory starting at column 0."""
        if bool((layout.reset[:, 1:] & layout.valid[:, 1:]).any()):
            raise ValueError("the GRU core takes one trajectory per row (reset only at column 0)")
        out, _ = self.gru(x)
        return out

    def initial_state(self, batch: int, random: bool = False) -> Tensor:
        """``(1, batch, width)`` zeros, or uniform in [-1, 1]."""
        weight = next(self.gru.parameters())
        state = weight.new_zeros(1, batch, self.gru.hidden_size)
        return uniform_like(state) if random else state

    def step(self, x: Tensor, state: Tensor) -> tuple[Tensor, Tensor]:
        """One token."""
        out, state = self.gru(x.unsqueeze(1), state)
        return out.squeeze(1), state
