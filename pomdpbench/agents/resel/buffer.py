"""Replay of whole trajectories and the stacked batches RESeL trains on (RESeL App. C.2).

Only complete trajectories are sampled. A batch holds at least ``min_transitions`` transitions
of whole trajectories, drawn without replacement in random order until the count is reached
(``NestedMemoryArray.sample_trajs`` / ``MemoryArray._traj_ind_sample`` in the RESeL code).

A trajectory of T transitions becomes T + 1 *tokens* ``(o_k, o_{k-1}, a_{k-1}, r_{k-1})``,
k = 0..T, with zeros before the first step — the paper's extended sequences of Eq. (16): the
outputs at tokens 0..T-1 serve the current step, those at tokens 1..T the next one, so one
encoder pass gives both (the RESeL code gets the same from a padding slot that holds o_0).

For cores that pack, trajectories are stacked along time into rows no longer than the longest
trajectory (first fit, longest first), separated by ``gap`` padding slots and flagged with a
reset at each first token, so short trajectories fill rows instead of being padded; other
cores get one trajectory per row, padded at the end.
"""

from __future__ import annotations

import json
from collections import deque
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
from torch import Tensor

from pomdpbench.agents.resel.encoders import Layout
from pomdpbench.agents.resel.networks import Tokens


class Trajectory(NamedTuple):
    """One stored trajectory: T + 1 observations, T actions (float vectors) and rewards."""

    obs: np.ndarray
    action: np.ndarray
    reward: np.ndarray
    terminated: bool
    """The last transition ended the task (no bootstrap from the final observation)."""


class TrajectoryBatch(NamedTuple):
    """A stacked batch. ``step`` indexes the flattened ``rows * length`` token positions."""

    tokens: Tokens
    layout: Layout
    step: Tensor
    """``(M,)`` flat position of each transition's token; its next token is at ``step + 1``."""
    action: Tensor
    """``(M, action_size)`` the action taken (one-hot for discrete actions)."""
    reward: Tensor
    done: Tensor
    """``(M,)`` 1.0 where the transition terminated the task (time limits stay 0.0)."""


def pack_rows(lengths: list[int], gap: int) -> list[list[int]]:
    """Group trajectories of ``lengths`` tokens into rows of at most ``max(lengths)`` slots.

    First fit, longest first; each trajectory after the first in a row costs ``gap`` slots more.
    """
    capacity = max(lengths)
    rows: list[list[int]] = []
    used: list[int] = []
    for index in sorted(range(len(lengths)), key=lambda i: -lengths[i]):
        for r, filled in enumerate(used):
            if filled + gap + lengths[index] <= capacity:
                rows[r].append(index)
                used[r] = filled + gap + lengths[index]
                break
        else:
            rows.append([index])
            used.append(lengths[index])
    return rows


class TrajectoryBuffer:
    """Whole trajectories, at most ``capacity`` transitions, the oldest evicted first."""

    def __init__(self, capacity: int, obs_size: int, action_size: int, seed: int) -> None:
        self.capacity = capacity
        self.obs_size = obs_size
        self.action_size = action_size
        self.trajectories: deque[Trajectory] = deque()
        self.transitions = 0
        self._open: list[tuple[np.ndarray, np.ndarray, float, np.ndarray]] = []
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return len(self.trajectories)

    def add(
        self,
        obs: np.ndarray,
        action: np.ndarray,
        reward: float,
        next_obs: np.ndarray,
        terminated: bool,
        truncated: bool,
        episode_start: bool,
    ) -> None:
        """Append one transition; an episode start closes a trajectory left open (truncation)."""
        if episode_start and self._open:
            self._close(terminated=False)
        self._open.append((obs, action, reward, next_obs))
        if terminated or truncated:
            self._close(terminated)

    def _close(self, terminated: bool) -> None:
        steps = self._open
        self._open = []
        obs = np.empty((len(steps) + 1, self.obs_size), dtype=np.float32)
        obs[:-1] = [s[0] for s in steps]
        obs[-1] = steps[-1][3]
        action = np.asarray([s[1] for s in steps], dtype=np.float32).reshape(len(steps), -1)
        reward = np.asarray([s[2] for s in steps], dtype=np.float32)
        self.trajectories.append(Trajectory(obs, action, reward, bool(terminated)))
        self.transitions += len(steps)
        while self.transitions > self.capacity and len(self.trajectories) > 1:
            self.transitions -= len(self.trajectories.popleft().reward)

    def sample_indices(self, min_transitions: int) -> list[int]:
        """Random trajectories, without replacement, until they hold ``min_transitions``."""
        chosen: list[int] = []
        total = 0
        for index in self.rng.permutation(len(self.trajectories)):
            chosen.append(int(index))
            total += len(self.trajectories[index].reward)
            if total >= min_transitions:
                break
        return chosen

    def sample(
        self, min_transitions: int, packs: bool, gap: int, device: torch.device
    ) -> TrajectoryBatch:
        """A stacked batch of whole trajectories as tensors on ``device``."""
        return self.stack(
            [self.trajectories[i] for i in self.sample_indices(min_transitions)], packs, gap, device
        )

    def stack(
        self, trajectories: list[Trajectory], packs: bool, gap: int, device: torch.device
    ) -> TrajectoryBatch:
        """Lay ``trajectories`` out in rows (see the module docstring)."""
        lengths = [len(t.reward) + 1 for t in trajectories]
        rows = pack_rows(lengths, gap) if packs else [[i] for i in range(len(trajectories))]
        width = max(sum(lengths[i] for i in row) + gap * (len(row) - 1) for row in rows)
        shape = (len(rows), width)
        obs = np.zeros((*shape, self.obs_size), dtype=np.float32)
        last_obs = np.zeros_like(obs)
        last_action = np.zeros((*shape, self.action_size), dtype=np.float32)
        last_reward = np.zeros((*shape, 1), dtype=np.float32)
        reset = np.zeros(shape, dtype=bool)
        valid = np.zeros(shape, dtype=bool)
        step: list[np.ndarray] = []
        for r, row in enumerate(rows):
            start = 0
            for i in row:
                traj, n = trajectories[i], lengths[i]
                end = start + n
                obs[r, start:end] = traj.obs
                last_obs[r, start + 1 : end] = traj.obs[:-1]
                last_action[r, start + 1 : end] = traj.action
                last_reward[r, start + 1 : end, 0] = traj.reward
                reset[r, start] = True
                valid[r, start:end] = True
                step.append(r * width + np.arange(start, end - 1))
                start = end + gap
        order = [i for row in rows for i in row]
        action = np.concatenate([trajectories[i].action for i in order])
        reward = np.concatenate([trajectories[i].reward for i in order])
        done = np.concatenate([_done_flags(trajectories[i]) for i in order])

        def put(array: np.ndarray) -> Tensor:
            return torch.from_numpy(array).to(device)

        return TrajectoryBatch(
            tokens=Tokens(put(obs), put(last_obs), put(last_action), put(last_reward)),
            layout=Layout(put(reset), put(valid)),
            step=put(np.concatenate(step)),
            action=put(action),
            reward=put(reward),
            done=put(done),
        )

    def save(self, path: Path) -> None:
        """Write every trajectory, the open one and the sampler's generator state."""
        closed = list(self.trajectories)
        lengths = np.array([len(t.reward) for t in closed], dtype=np.int64)
        np.savez(
            path,
            lengths=lengths,
            terminated=np.array([t.terminated for t in closed], dtype=bool),
            obs=_concat([t.obs for t in closed], (0, self.obs_size)),
            action=_concat([t.action for t in closed], (0, self.action_size)),
            reward=_concat([t.reward for t in closed], (0,)),
            open_obs=_concat([s[0][None] for s in self._open], (0, self.obs_size)),
            open_action=_concat(
                [np.reshape(s[1], (1, -1)) for s in self._open], (0, self.action_size)
            ),
            open_reward=np.array([s[2] for s in self._open], dtype=np.float32),
            open_next_obs=_concat([s[3][None] for s in self._open], (0, self.obs_size)),
            rng=np.frombuffer(json.dumps(self.rng.bit_generator.state).encode(), dtype=np.uint8),
        )

    def load(self, path: Path) -> None:
        """Read back what :meth:`save` wrote."""
        with np.load(path) as data:
            self.trajectories.clear()
            obs_at = act_at = 0
            for length, terminated in zip(data["lengths"], data["terminated"], strict=True):
                n = int(length)
                self.trajectories.append(
                    Trajectory(
                        data["obs"][obs_at : obs_at + n + 1],
                        data["action"][act_at : act_at + n],
                        data["reward"][act_at : act_at + n],
                        bool(terminated),
                    )
                )
                obs_at, act_at = obs_at + n + 1, act_at + n
            self.transitions = act_at
            self._open = [
                (o, a, float(r), n)
                for o, a, r, n in zip(
                    data["open_obs"],
                    data["open_action"],
                    data["open_reward"],
                    data["open_next_obs"],
                    strict=True,
                )
            ]
            self.rng.bit_generator.state = json.loads(bytes(data["rng"]).decode())


def _done_flags(traj: Trajectory) -> np.ndarray:
    done = np.zeros(len(traj.reward), dtype=np.float32)
    done[-1] = float(traj.terminated)
    return done


def _concat(arrays: list[np.ndarray], empty_shape: tuple[int, ...]) -> np.ndarray:
    return (
        np.concatenate(arrays).astype(np.float32) if arrays else np.zeros(empty_shape, np.float32)
    )
