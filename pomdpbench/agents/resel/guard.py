"""The RESeL code's Q-value guard: clamp bootstrapped values to the range of past targets.

Not in the paper; present in every run of the public code (``QValueGuard`` in
FanmingL/Recurrent-Offpolicy-RL ``offpolicy_rnn/utility/q_value_guard.py``, used in
``sac_full_length_rnn_ensembleQ.py``). The first clamp adopts the range of the first batch; each
update widens the range to include the new targets, then pulls both ends toward the new
batch's extremes by ``decay`` (1e-3 for continuous actions, 0 for discrete). The code updates
with ``target * mask`` over a padded batch, so 0 always enters the range; :meth:`update` does
the same explicitly.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass
class QValueGuard:
    """Running [low, high] of the critic targets."""

    decay: float
    low: float = 0.0
    high: float = 0.0
    started: bool = False

    def clamp(self, value: Tensor) -> Tensor:
        """``value`` clamped to the running range (the first call adopts ``value``'s range)."""
        if not self.started:
            self.low, self.high = float(value.min()), float(value.max())
            self.started = True
        return value.clamp(self.low, self.high)

    def update(self, target: Tensor) -> None:
        """Widen the range to the new targets (and 0), then move it toward them by ``decay``."""
        extremes = torch.stack([target.min(), target.max()]).tolist()
        new_low, new_high = min(extremes[0], 0.0), max(extremes[1], 0.0)
        self.low = min(self.low, new_low)
        self.high = max(self.high, new_high)
        if self.decay > 0:
            self.low = (1 - self.decay) * self.low + self.decay * new_low
            self.high = (1 - self.decay) * self.high + self.decay * new_high
