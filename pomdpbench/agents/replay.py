"""A transition replay buffer for memoryless off-policy agents.

Preallocated numpy arrays, uniform sampling from the agent's own seeded generator (so a
resumed run samples the same batches), and a compact save/load of the filled part only.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch


class Batch(NamedTuple):
    """A sampled batch as tensors: (B, obs), (B, act), (B,), (B, obs), (B,)."""

    obs: torch.Tensor
    action: torch.Tensor
    reward: torch.Tensor
    next_obs: torch.Tensor
    done: torch.Tensor
    """1.0 where the episode terminated (no bootstrap); time-limit truncations stay 0.0."""


class ReplayBuffer:
    """Ring buffer of ``capacity`` transitions."""

    def __init__(self, capacity: int, obs_size: int, action_size: int, seed: int) -> None:
        self.capacity = capacity
        self.obs = np.zeros((capacity, obs_size), dtype=np.float32)
        self.next_obs = np.zeros((capacity, obs_size), dtype=np.float32)
        self.action = np.zeros((capacity, action_size), dtype=np.float32)
        self.reward = np.zeros(capacity, dtype=np.float32)
        self.done = np.zeros(capacity, dtype=np.float32)
        self.size = 0
        self.cursor = 0
        self.rng = np.random.default_rng(seed)

    def add(
        self, obs: np.ndarray, action: np.ndarray | int, reward: float, next_obs: np.ndarray,
        terminated: bool,
    ) -> None:  # fmt: skip
        """Store one transition, overwriting the oldest when full."""
        i = self.cursor
        self.obs[i] = obs
        self.action[i] = action
        self.reward[i] = reward
        self.next_obs[i] = next_obs
        self.done[i] = terminated
        self.cursor = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, batch_size: int, device: torch.device) -> Batch:
        """A uniform batch (with replacement) as float tensors on ``device``."""
        idx = self.rng.integers(0, self.size, size=batch_size)
        return Batch(
            obs=torch.from_numpy(self.obs[idx]).to(device),
            action=torch.from_numpy(self.action[idx]).to(device),
            reward=torch.from_numpy(self.reward[idx]).to(device),
            next_obs=torch.from_numpy(self.next_obs[idx]).to(device),
            done=torch.from_numpy(self.done[idx]).to(device),
        )

    def save(self, path: Path) -> None:
        """Write the filled part and the sampler's generator state."""
        n = self.size
        np.savez(
            path,
            obs=self.obs[:n], next_obs=self.next_obs[:n], action=self.action[:n],
            reward=self.reward[:n], done=self.done[:n],
            meta=np.array([self.size, self.cursor], dtype=np.int64),
            rng=np.frombuffer(json.dumps(self.rng.bit_generator.state).encode(), dtype=np.uint8),
        )  # fmt: skip

    def load(self, path: Path) -> None:
        """Read back what :meth:`save` wrote."""
        with np.load(path) as data:
            n = int(data["meta"][0])
            self.size, self.cursor = n, int(data["meta"][1])
            for name in ("obs", "next_obs", "action", "reward", "done"):
                getattr(self, name)[:n] = data[name]
            self.rng.bit_generator.state = json.loads(bytes(data["rng"]).decode())
