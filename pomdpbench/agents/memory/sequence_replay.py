"""One replay buffer for every off-policy memory part: transitions, sequences, internal states.

It stores each step once, with the episode it belongs to, and answers three questions:

* a uniform batch of transitions (``mlp``, ``rs``): :meth:`SequenceReplay.sample_positions`,
  drawn as the former memoryless ``sac-mlp`` buffer drew them (uniform rows with replacement
  from the same seeded generator), so ``sac-mlp`` kept its results batch for batch;
* a batch of sequences ending at sampled steps (``window``, ``bptt``, ``gru-seq``):
  :meth:`SequenceReplay.sample_sequences` follows S2PG's ``SequenceReplayMemory``
  (robfiras/s2pg ``s2pg/utils/replay_memory.py``): for a sampled step i the sequence is
  ``[max(i - L + 1, episode start), i]``, right-padded to L; the stored internal state of its
  first step is where a GRU starts. Unlike the original, a sequence also never reaches past the
  oldest stored step once the ring buffer wraps (its quirk 8 in notes-s2pg-code.md);
* the stored internal states of S2PG's ``rs`` policies, refreshed after actor updates by
  :meth:`SequenceReplay.refresh_next_state` (``set_next_state`` with ``new_state_update_tau``):
  the next state of transition i and the state of transition i + 1, but never across an
  episode end.

Steps are numbered from 0 in the order they were added (``total`` so far); step k lives at row
``k % capacity``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

_FIELDS = (
    "obs",
    "next_obs",
    "action",
    "prev_action",
    "reward",
    "prev_reward",
    "done",
    "ended",
    "first",
    "priv",
    "next_priv",
    "state",
    "next_state",
)


class Sequences(NamedTuple):
    """Rows of the sampled sequences and where each one's valid part ends."""

    last: np.ndarray
    """``(B,)`` step number of each sampled transition (the last valid step of its sequence)."""
    rows: np.ndarray
    """``(B, L)`` buffer rows of the sequence, right-padded by repeating the last valid row."""
    lengths: np.ndarray
    """``(B,)`` number of valid steps, 1..L."""
    mask: np.ndarray
    """``(B, L)`` float32, 1.0 on valid steps and 0.0 on the padding."""


class SequenceReplay:
    """Ring buffer of ``capacity`` steps with episode boundaries and optional internal states.

    Args:
        capacity: steps kept.
        obs_size: length of an observation.
        action_size: length of a stored action (1 for a Discrete action's index).
        prev_action_size: length of the encoded previous action (one-hot for Discrete).
        privileged_size: length of ``info["state"]`` (0 when not stored).
        state_size: length of an internal state (z of ``rs``, a GRU hidden state; 0 if none).
        seed: seed of the sampler's own generator (saved with the buffer).
    """

    def __init__(
        self,
        capacity: int,
        obs_size: int,
        action_size: int,
        prev_action_size: int,
        privileged_size: int,
        state_size: int,
        seed: int,
    ) -> None:
        self.capacity = capacity
        f32 = np.float32
        self.obs = np.zeros((capacity, obs_size), f32)
        self.next_obs = np.zeros((capacity, obs_size), f32)
        self.action = np.zeros((capacity, action_size), f32)
        self.prev_action = np.zeros((capacity, prev_action_size), f32)
        self.reward = np.zeros(capacity, f32)
        self.prev_reward = np.zeros(capacity, f32)
        self.done = np.zeros(capacity, f32)
        """1.0 where the episode terminated (no bootstrap); time limits stay 0.0."""
        self.ended = np.zeros(capacity, bool)
        """The transition ended its episode (terminated or truncated)."""
        self.first = np.zeros(capacity, np.int64)
        """Step number of the first step of the transition's episode."""
        self.priv = np.zeros((capacity, privileged_size), f32)
        self.next_priv = np.zeros((capacity, privileged_size), f32)
        self.state = np.zeros((capacity, state_size), f32)
        self.next_state = np.zeros((capacity, state_size), f32)
        self.total = 0
        self.rng = np.random.default_rng(seed)

    @property
    def size(self) -> int:
        """Steps currently stored."""
        return min(self.total, self.capacity)

    @property
    def oldest(self) -> int:
        """Step number of the oldest stored step."""
        return self.total - self.size

    def add(
        self,
        obs: np.ndarray,
        action: np.ndarray | int,
        reward: float,
        next_obs: np.ndarray,
        terminated: bool,
        ended: bool,
        episode_start: bool,
        prev_action: np.ndarray | None = None,
        prev_reward: float = 0.0,
        priv: np.ndarray | None = None,
        next_priv: np.ndarray | None = None,
        state: np.ndarray | None = None,
        next_state: np.ndarray | None = None,
    ) -> None:
        """Store one step, overwriting the oldest when full."""
        k, i = self.total, self.total % self.capacity
        previous = (k - 1) % self.capacity
        starts = episode_start or k == 0 or bool(self.ended[previous])
        self.first[i] = k if starts else self.first[previous]
        self.obs[i], self.next_obs[i], self.action[i] = obs, next_obs, action
        self.reward[i], self.done[i], self.ended[i] = reward, terminated, ended
        self.prev_reward[i] = prev_reward
        if prev_action is not None:
            self.prev_action[i] = prev_action
        if priv is not None and self.priv.shape[1]:
            self.priv[i], self.next_priv[i] = priv, next_priv
        if state is not None:
            self.state[i], self.next_state[i] = state, next_state
        self.total = k + 1

    # ---------------------------------------------------------------- sampling
    def sample_positions(self, batch_size: int) -> np.ndarray:
        """Rows of a uniform batch of transitions (with replacement)."""
        return self.rng.integers(0, self.size, size=batch_size)

    def step_of(self, rows: np.ndarray) -> np.ndarray:
        """Step numbers of buffer ``rows`` (the newest step stored in each row)."""
        cursor = self.total % self.capacity
        return self.total - 1 - (cursor - 1 - rows) % self.capacity

    def sample_sequences(self, batch_size: int, length: int) -> Sequences:
        """Sequences of at most ``length`` steps ending at uniformly sampled steps."""
        rows = self.sample_positions(batch_size)
        return self.sequences_ending_at(self.step_of(rows), length)

    def sequences_ending_at(self, last: np.ndarray, length: int) -> Sequences:
        """The sequences ``[max(i - L + 1, episode start, oldest), i]`` for steps ``last``."""
        first = np.maximum(last - length + 1, self.first[last % self.capacity])
        first = np.maximum(first, self.oldest)
        lengths = last - first + 1
        offsets = np.arange(length)
        steps = np.minimum(first[:, None] + offsets, last[:, None])
        mask = (offsets[None, :] < lengths[:, None]).astype(np.float32)
        return Sequences(last, steps % self.capacity, lengths, mask)

    def tensor(self, name: str, rows: np.ndarray, device: torch.device) -> torch.Tensor:
        """Field ``name`` at ``rows`` (any shape) as a float tensor on ``device``."""
        return torch.from_numpy(getattr(self, name)[rows].astype(np.float32)).to(device)

    # ------------------------------------------------------ internal states
    def refresh_next_state(self, last: np.ndarray, new_state: np.ndarray, tau: float) -> None:
        """Blend freshly computed next internal states into the stored ones.

        S2PG's ``set_next_state``: ``next_state[i]`` and, when step i + 1 is stored and
        continues i's episode, ``state[i + 1]`` become ``tau * new + (1 - tau) * old``.
        """
        rows = last % self.capacity
        self.next_state[rows] = tau * new_state + (1.0 - tau) * self.next_state[rows]
        after = last + 1
        follows = after < self.total
        follows[follows] &= ~self.ended[rows[follows]]
        follows[follows] &= self.first[after[follows] % self.capacity] != after[follows]
        next_rows = after[follows] % self.capacity
        self.state[next_rows] = tau * new_state[follows] + (1.0 - tau) * self.state[next_rows]

    # ------------------------------------------------------------ persistence
    def save(self, path: Path) -> None:
        """Write the stored rows (in row order) and the sampler's generator state."""
        n = self.size
        arrays = {name: getattr(self, name)[:n] for name in _FIELDS}
        rng = json.dumps(self.rng.bit_generator.state).encode()
        np.savez(
            path, meta=np.array([self.total], np.int64), rng=np.frombuffer(rng, np.uint8), **arrays
        )

    def load(self, path: Path) -> None:
        """Read back what :meth:`save` wrote."""
        with np.load(path) as data:
            self.total = int(data["meta"][0])
            n = self.size
            for name in _FIELDS:
                getattr(self, name)[:n] = data[name]
            self.rng.bit_generator.state = json.loads(bytes(data["rng"]).decode())
