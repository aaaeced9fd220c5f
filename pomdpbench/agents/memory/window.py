"""``window-L``: the policy sees the last L observations, oldest first, zeros before the start.

S2PG's window baselines (robfiras/s2pg ``SACWindowActorNetwork``, ``TD3WindowActorNetwork``,
``PPOWindowNetwork``) feed an MLP with the flattened last L masked observations, the window
zero-filled at reset and no previous action (``use_prev_action=False``).

Two views of one rule:

* at act time the agent state *is* the window: :meth:`WindowStacker.initial` gives the zero
  window of an episode start and :meth:`WindowStacker.push` shifts the current observation in;
* at training time :func:`windows_from_sequences` rebuilds the same windows from a replay
  buffer's right-padded sequences (see :mod:`~pomdpbench.agents.memory.sequence_replay`), so
  the buffer stores each observation once instead of L times.
"""

from __future__ import annotations

import numpy as np
import torch


class WindowStacker:
    """The window of the last ``length`` observations of size ``obs_size``, as a flat vector."""

    def __init__(self, length: int, obs_size: int) -> None:
        if length < 1:
            raise ValueError(f"window length must be at least 1, got {length}")
        self.length, self.obs_size = length, obs_size

    @property
    def size(self) -> int:
        """Length of the flat window: ``length * obs_size``."""
        return self.length * self.obs_size

    def initial(self) -> np.ndarray:
        """The window at an episode start: all zeros (nothing seen yet)."""
        return np.zeros(self.size, dtype=np.float32)

    def push(self, window: np.ndarray, obs: np.ndarray) -> np.ndarray:
        """A new window: ``window`` shifted one observation left, ``obs`` at the end.

        Returns a fresh array; the given window is not modified (a caller may keep it).
        """
        out = np.empty(self.size, dtype=np.float32)
        out[: -self.obs_size] = window[self.obs_size :]
        out[-self.obs_size :] = np.asarray(obs, dtype=np.float32).reshape(-1)
        return out


def windows_from_sequences(obs: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Flat windows ending at each sequence's last valid step.

    Args:
        obs: ``(B, L, obs)`` right-padded sequences (valid steps first, then padding), as
            :meth:`SequenceReplay.sample_sequences` returns them; each starts no earlier than
            its episode start.
        lengths: ``(B,)`` number of valid steps of each sequence, 1..L.

    Returns:
        ``(B, L * obs)``: the valid steps moved to the end, zeros before them — exactly what
        :class:`WindowStacker` held when the last valid step was acted on.
    """
    batch, length, _ = obs.shape
    # Left-pad: position j of the window holds valid step j - (L - len), else zero.
    positions = torch.arange(length, device=obs.device).unsqueeze(0)  # (1, L)
    source = positions - (length - lengths.unsqueeze(1))  # (B, L)
    valid = source >= 0
    gathered = obs.gather(1, source.clamp(min=0).unsqueeze(-1).expand_as(obs))
    return (gathered * valid.unsqueeze(-1)).reshape(batch, -1)
