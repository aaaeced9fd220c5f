"""The on-policy side of PPO: the rollout, GAE over it, and the sequences cut from it.

A rollout is one stream of consecutive training steps (the harness runs one environment). It
holds each step's raw observation once; the recurrent and window memories rebuild what they
need from it:

* :func:`sequence_indices` gives, for every step ``i``, the steps ``[max(i - L + 1, episode
  start), i]`` of S2PG's truncated sequences (robfiras/s2pg ``PPO_BPTT.transform_to_sequences``,
  the on-policy twin of ``SequenceReplayMemory``), right-padded to ``L``;
* :func:`chunk_indices` cuts the rollout into pieces of at most ``L`` steps that never cross an
  episode start, for the GRU policy trained on whole segments (pomdp-baselines' PPO-GRU);
* :func:`gae` computes generalized advantages (Schulman et al. 2016) from the value of every
  step and of the state that followed it, so a time limit or a rollout cut by a checkpoint
  bootstraps from the value of the observation that came next, and only ``terminated`` stops it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

_FIELDS = (
    "obs",
    "next_obs",
    "prev_action",
    "action",
    "action_enc",
    "reward",
    "terminated",
    "ended",
    "episode_start",
    "state_in",
    "state_next",
)


class Rollout:
    """A fixed-capacity stream of training steps, filled by ``add`` and emptied by ``clear``."""

    def __init__(
        self, capacity: int, obs_size: int, action_enc_size: int, action_size: int, state_size: int
    ) -> None:
        self.capacity = capacity
        self.obs = np.zeros((capacity, obs_size), np.float32)
        self.next_obs = np.zeros((capacity, obs_size), np.float32)
        self.prev_action = np.zeros((capacity, action_enc_size), np.float32)
        """The previous action as the harness encoded it (one-hot if Discrete)."""
        self.action = np.zeros((capacity, action_size), np.float32)
        """What the policy sampled: the unclipped Gaussian sample, or the Discrete index."""
        self.action_enc = np.zeros((capacity, action_enc_size), np.float32)
        """The action as the next step's previous action (what the environment received)."""
        self.reward = np.zeros(capacity, np.float32)
        self.terminated = np.zeros(capacity, bool)
        self.ended = np.zeros(capacity, bool)
        """terminated or truncated: the next step starts a new episode."""
        self.episode_start = np.zeros(capacity, bool)
        self.state_in = np.zeros((capacity, state_size), np.float32)
        """The memory the policy acted from (a GRU hidden state, S2PG's z; empty if none)."""
        self.state_next = np.zeros((capacity, state_size), np.float32)
        """The memory the policy handed on (the next hidden state, S2PG's sampled z')."""
        self.size = 0

    @property
    def full(self) -> bool:
        """True when the rollout holds ``capacity`` steps and is due for an update."""
        return self.size == self.capacity

    def add(self, **step: np.ndarray | float | bool) -> None:
        """Append one step; every field of ``_FIELDS`` must be given."""
        i = self.size
        for name in _FIELDS:
            getattr(self, name)[i] = step[name]
        self.size += 1

    def clear(self) -> None:
        """Forget the steps (the arrays are reused)."""
        self.size = 0

    def cut_before(self) -> np.ndarray:
        """``cut[i]``: step ``i + 1`` does not continue step ``i``'s episode in this rollout.

        True after a terminal or time limit, before an episode start the harness began without
        ending the previous episode (a resumed run), and at the last step.
        """
        n = self.size
        cut = self.ended[:n].copy()
        cut[:-1] |= self.episode_start[1:n]
        if n:
            cut[-1] = True
        return cut

    def save(self, path: Path) -> None:
        """Write the filled part (a checkpoint may cut a rollout midway)."""
        np.savez(
            path, size=self.size, **{name: getattr(self, name)[: self.size] for name in _FIELDS}
        )

    def load(self, path: Path) -> None:
        """Read back what :meth:`save` wrote."""
        with np.load(path) as data:
            self.size = int(data["size"])
            for name in _FIELDS:
                getattr(self, name)[: self.size] = data[name]


def gae(
    values: np.ndarray,
    next_values: np.ndarray,
    rewards: np.ndarray,
    terminated: np.ndarray,
    cut: np.ndarray,
    gamma: float,
    lam: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Generalized advantages and value targets (``advantages + values``).

    ``delta_t = r_t + gamma (1 - terminated_t) V(next state of t) - V(s_t)`` and
    ``A_t = delta_t + gamma lam A_{t+1}``, the chain restarting wherever ``cut[t]`` is set (see
    :meth:`Rollout.cut_before`). This is MushroomRL's ``compute_gae`` as S2PG runs it, with the
    value of step t's own next state where MushroomRL also uses it.
    """
    advantages = np.zeros_like(values)
    running = 0.0
    for t in range(len(values) - 1, -1, -1):
        delta = rewards[t] + gamma * (1.0 - terminated[t]) * next_values[t] - values[t]
        running = delta + (0.0 if cut[t] else gamma * lam * running)
        advantages[t] = running
    return advantages, advantages + values


def sequence_indices(episode_start: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray]:
    """For every step, the indices of the up to ``length`` steps ending there in its episode.

    Returns:
        ``(index, lengths)``: ``index[i, :lengths[i]]`` are the steps ``max(i - L + 1, s_i) .. i``
        where ``s_i`` is the latest episode start at or before ``i`` (or 0, the rollout's first
        step); the rest of the row is padding and repeats step ``i`` (mask it with ``lengths``).
    """
    n = len(episode_start)
    starts = np.where(episode_start, np.arange(n), 0)
    latest_start = np.maximum.accumulate(starts) if n else starts
    steps = np.arange(n)
    begin = np.maximum(steps - length + 1, latest_start)
    lengths = steps - begin + 1
    offsets = np.arange(length)
    index = begin[:, None] + offsets[None, :]
    index = np.where(offsets[None, :] < lengths[:, None], index, steps[:, None])
    return index, lengths


def chunk_indices(episode_start: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray]:
    """Cut ``0 .. n-1`` into consecutive pieces of at most ``length`` steps within one episode.

    Returns:
        ``(index, lengths)`` of shape ``(pieces, length)`` and ``(pieces,)``, right-padded like
        :func:`sequence_indices` (padding repeats the piece's last step).
    """
    n = len(episode_start)
    firsts: list[int] = []
    run = 0
    for i in range(n):
        if i == 0 or episode_start[i] or run == length:
            firsts.append(i)
            run = 0
        run += 1
    bounds = np.array([*firsts, n])
    begin, lengths = bounds[:-1], np.diff(bounds)
    offsets = np.arange(length)
    index = begin[:, None] + np.minimum(offsets[None, :], lengths[:, None] - 1)
    return index, lengths


class RunningMeanStd:
    """Running mean and variance, merged batch by batch (Chan et al.'s parallel update).

    Observation standardization as MushroomRL's ``StandardizationPreprocessor`` and SB3's
    ``VecNormalize`` keep it.
    """

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.mean = np.zeros(shape, np.float64)
        self.var = np.ones(shape, np.float64)
        self.count = 1e-4

    def update(self, batch: np.ndarray) -> None:
        """Fold a batch ``(n, *shape)`` into the statistics."""
        if len(batch) == 0:
            return
        mean, var, n = batch.mean(0), batch.var(0), len(batch)
        delta, total = mean - self.mean, self.count + n
        self.mean = self.mean + delta * n / total
        self.var = (self.var * self.count + var * n + delta**2 * self.count * n / total) / total
        self.count = total

    def state(self) -> dict[str, np.ndarray | float]:
        """The statistics, for a checkpoint."""
        return {"mean": self.mean.copy(), "var": self.var.copy(), "count": self.count}

    def set_state(self, state: dict[str, np.ndarray | float]) -> None:
        """Restore :meth:`state`."""
        self.mean = np.asarray(state["mean"], np.float64)
        self.var = np.asarray(state["var"], np.float64)
        self.count = float(state["count"])
