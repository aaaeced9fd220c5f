"""PPO's actor-critic networks, one per memory mechanism, behind one small interface.

The learner (:mod:`~pomdpbench.agents.ppo.learner`) owns the distributions, the rollout and
the loss; a model only maps inputs to a *head* (the Gaussian mean, or Discrete logits), S2PG's
mean of z' where it has one, and a value. Acting runs one step from the memory the harness
carries; training rebuilds every step's inputs from the rollout (:class:`Batch`):

* ``mlp`` / ``window-L`` (:class:`WindowModel`): two MLPs on the flattened last L observations,
  zero-filled before an episode start (S2PG ``PPONetwork`` / ``PPOWindowNetwork``);
* ``bptt-L`` (:class:`BPTTModel`): a GRU actor unrolled with gradient over S2PG's truncated
  sequences from the stored hidden state of their first step, and a separate GRU critic from
  zeros (robfiras/s2pg ``PPO_BPTT``, ``PPOActorBPTTNetwork``, ``PPOCriticBPTTNetwork``);
* ``rs`` (:class:`RSModel`): one GRU step from the stored z gives the mean of z' and, through a
  linear layer, of the action; V(s, z, a_prev) is an MLP; no gradient flows through time
  (S2PG ``StatefulPolicyPPO_joint_prev_a``, ``PPONetwork_prev_a``);
* ``gru`` (:class:`GRUModel`): pomdp-baselines' PPO-GRU (ikostrikov/pytorch-a2c-ppo-acktr-gail
  ``MLPBase(recurrent=True)``): a GRU shared by actor and critic, trained on rollout segments
  from their stored hidden state, tanh heads.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import nn

from pomdpbench.agents.memory.gru import EmbeddedGRU
from pomdpbench.agents.memory.window import WindowStacker, windows_from_sequences
from pomdpbench.agents.nets import Linear, mlp
from pomdpbench.agents.ppo.rollout import chunk_indices, sequence_indices

Normalize = Callable[[np.ndarray], np.ndarray]
ACTIVATIONS: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "tanh": nn.Tanh}


@dataclass
class Batch:
    """One rollout as tensors; observations already standardized."""

    obs: torch.Tensor
    next_obs: torch.Tensor
    prev_action: torch.Tensor
    action_enc: torch.Tensor
    episode_start: np.ndarray
    state_in: torch.Tensor
    state_next: torch.Tensor
    prefix: torch.Tensor
    """``(L - 1, obs)``: the observations before the rollout's first step in its episode
    (window models only; zeros where there were none)."""
    prefix_valid: int


class Acted(NamedTuple):
    """What one acting step gives the learner."""

    head: torch.Tensor
    z_mean: torch.Tensor | None
    state_in: np.ndarray
    """The memory acted from, as stored in the rollout."""
    next_state: Any
    """The memory to hand back (rs: replaced by the sampled z')."""


class Evaluated(NamedTuple):
    """Training outputs for some rollout steps."""

    rows: torch.Tensor
    head: torch.Tensor
    z_mean: torch.Tensor | None
    value: torch.Tensor


def _tensor(x: np.ndarray, device: torch.device) -> torch.Tensor:
    return torch.from_numpy(np.array(x, np.float32, ndmin=1)).to(device).unsqueeze(0)


class WindowModel(nn.Module):
    """Actor and critic MLPs on the last ``length`` observations (``length=1``: memoryless)."""

    stochastic_state = False

    def __init__(
        self, obs_size: int, head_size: int, length: int, hidden: Sequence[int], activation: str
    ) -> None:
        super().__init__()
        act = ACTIVATIONS[activation]
        self.length, self.obs_size = length, obs_size
        self.stacker = WindowStacker(length, obs_size)
        self.state_size = 0
        self.actor = mlp(length * obs_size, hidden, head_size, act)
        self.critic = mlp(length * obs_size, hidden, 1, act)

    def initial_state(self) -> tuple[np.ndarray, int] | None:
        """Memoryless: None; a window: the raw zero window and how many entries are real."""
        return None if self.length == 1 else (self.stacker.initial(), 0)

    def window(self, raw: np.ndarray, valid: int, normalize: Normalize) -> np.ndarray:
        """The standardized window with the entries before the episode start kept at zero."""
        frames = normalize(raw.reshape(self.length, self.obs_size)).astype(np.float32)
        frames[: self.length - valid] = 0.0
        return frames.reshape(-1)

    def act(
        self, obs: np.ndarray, prev_action: np.ndarray, state: Any, normalize: Normalize
    ) -> Acted:
        """One step: push the observation into the window and read the actor."""
        device = next(self.parameters()).device
        if self.length == 1:
            return Acted(self.actor(_tensor(normalize(obs), device)), None, np.zeros(0), None)
        raw, valid = state
        raw = self.stacker.push(raw, obs)
        valid = min(valid + 1, self.length)
        x = _tensor(self.window(raw, valid, normalize), device)
        return Acted(self.actor(x), None, np.zeros(0), (raw, valid))

    def prepare(self, batch: Batch) -> dict[str, torch.Tensor]:
        """Every step's window and the window after it, from the observations stored once."""
        if self.length == 1:
            return {"x": batch.obs, "x_next": batch.next_obs}
        pad = self.length - 1
        ext_obs = torch.cat([batch.prefix, batch.obs])
        ext_start = np.zeros(pad + len(batch.obs), bool)
        ext_start[pad:] = batch.episode_start
        if batch.prefix_valid:
            ext_start[pad - batch.prefix_valid] = True
        index, lengths = sequence_indices(ext_start, self.length)
        index, lengths = index[pad:], lengths[pad:]
        seqs = ext_obs[torch.as_tensor(index, device=ext_obs.device)]
        x = windows_from_sequences(seqs, torch.as_tensor(lengths, device=ext_obs.device))
        frames = x.view(len(x), self.length, self.obs_size)
        x_next = torch.cat([frames[:, 1:], batch.next_obs.unsqueeze(1)], 1).reshape(len(x), -1)
        return {"x": x, "x_next": x_next}

    def units(self, prep: dict[str, torch.Tensor]) -> int:
        """Training units: single steps."""
        return len(prep["x"])

    def evaluate(self, prep: dict[str, torch.Tensor], units: torch.Tensor) -> Evaluated:
        """Head and value of the given steps."""
        x = prep["x"][units]
        return Evaluated(units, self.actor(x), None, self.critic(x).squeeze(-1))

    def next_values(self, prep: dict[str, torch.Tensor]) -> torch.Tensor:
        """V of each step's next window."""
        return self.critic(prep["x_next"]).squeeze(-1)


class RSModel(nn.Module):
    """S2PG's stateful policy: z' ~ N(GRU(obs, a_prev; z), std), a ~ N(W GRU(.), std)."""

    stochastic_state = True

    def __init__(
        self,
        obs_size: int,
        action_enc_size: int,
        head_size: int,
        state_size: int,
        embedding: int,
        hidden: Sequence[int],
        activation: str,
    ) -> None:
        super().__init__()
        self.state_size = state_size
        self.gru = EmbeddedGRU(obs_size, action_enc_size, state_size, embedding, embedding)
        self.head = Linear(state_size, head_size)
        critic_in = obs_size + state_size + action_enc_size
        self.critic = mlp(critic_in, hidden, 1, ACTIVATIONS[activation])

    def initial_state(self) -> np.ndarray:
        """Z = 0 at an episode start (S2PG)."""
        return np.zeros(self.state_size, np.float32)

    def act(
        self, obs: np.ndarray, prev_action: np.ndarray, state: Any, normalize: Normalize
    ) -> Acted:
        """One GRU step from z: the means of a and z' (the learner samples z')."""
        device = self.head.weight.device
        z_mean = self.gru.step(
            _tensor(normalize(obs), device), _tensor(prev_action, device), _tensor(state, device)
        )
        return Acted(self.head(z_mean), z_mean, np.asarray(state, np.float32), None)

    def prepare(self, batch: Batch) -> Batch:
        """Steps are independent given the stored z: nothing to rebuild."""
        return batch

    def units(self, prep: Batch) -> int:
        """Training units: single steps."""
        return len(prep.obs)

    def evaluate(self, prep: Batch, units: torch.Tensor) -> Evaluated:
        """Means of (a, z') and V(s, z, a_prev), from the stored z with no gradient in time."""
        obs, prev, z = prep.obs[units], prep.prev_action[units], prep.state_in[units]
        z_mean = self.gru.step(obs, prev, z)
        value = self.critic(torch.cat([obs, z, prev], -1)).squeeze(-1)
        return Evaluated(units, self.head(z_mean), z_mean, value)

    def next_values(self, prep: Batch) -> torch.Tensor:
        """V(s', z', a): GAE over (s, z) as S2PG computes it."""
        x = torch.cat([prep.next_obs, prep.state_next, prep.action_enc], -1)
        return self.critic(x).squeeze(-1)


class BPTTModel(nn.Module):
    """GRU actor trained by truncated backpropagation; separate GRU critic from zeros."""

    stochastic_state = False

    def __init__(
        self,
        obs_size: int,
        action_enc_size: int,
        head_size: int,
        state_size: int,
        embedding: int,
        length: int,
    ) -> None:
        super().__init__()
        self.state_size, self.length = state_size, length
        self.actor_gru = EmbeddedGRU(obs_size, action_enc_size, state_size, embedding, embedding)
        self.head = Linear(state_size, head_size)
        self.critic_gru = EmbeddedGRU(obs_size, action_enc_size, state_size, embedding, embedding)
        self.value = Linear(state_size, 1)

    def initial_state(self) -> np.ndarray:
        """Zero hidden state at an episode start."""
        return np.zeros(self.state_size, np.float32)

    def act(
        self, obs: np.ndarray, prev_action: np.ndarray, state: Any, normalize: Normalize
    ) -> Acted:
        """One GRU step; the new hidden state is the next memory."""
        device = self.head.weight.device
        hidden = self.actor_gru.step(
            _tensor(normalize(obs), device), _tensor(prev_action, device), _tensor(state, device)
        )
        return Acted(
            self.head(hidden), None, np.asarray(state, np.float32), hidden[0].cpu().numpy()
        )

    def prepare(self, batch: Batch) -> dict[str, Any]:
        """S2PG's truncated sequence of every step (``sequence_indices``)."""
        index, lengths = sequence_indices(batch.episode_start, self.length)
        device = batch.obs.device
        return {
            "batch": batch,
            "index": torch.as_tensor(index, device=device),
            "last": torch.as_tensor(lengths - 1, device=device),
        }

    def units(self, prep: dict[str, Any]) -> int:
        """Training units: one sequence per step."""
        return len(prep["last"])

    def _read(
        self,
        gru: EmbeddedGRU,
        obs: torch.Tensor,
        prev: torch.Tensor,
        h0: torch.Tensor,
        last: torch.Tensor,
    ) -> torch.Tensor:
        out = gru.unroll(obs, prev, h0)
        return out[torch.arange(len(last), device=out.device), last]

    def evaluate(self, prep: dict[str, Any], units: torch.Tensor) -> Evaluated:
        """Unroll the sequences ending at ``units``; read the outputs at their last valid step."""
        batch: Batch = prep["batch"]
        index, last = prep["index"][units], prep["last"][units]
        obs, prev = batch.obs[index], batch.prev_action[index]
        h0 = batch.state_in[index[:, 0]]
        hidden = self._read(self.actor_gru, obs, prev, h0, last)
        zeros = torch.zeros_like(h0)
        value = self.value(self._read(self.critic_gru, obs, prev, zeros, last)).squeeze(-1)
        return Evaluated(units, self.head(hidden), None, value)

    def next_values(self, prep: dict[str, Any]) -> torch.Tensor:
        """The critic on each sequence shifted one step ahead (S2PG ``compute_gae``)."""
        batch: Batch = prep["batch"]
        index, last = prep["index"], prep["last"]
        obs, prev = batch.next_obs[index], batch.action_enc[index]
        zeros = torch.zeros(len(last), self.state_size, device=obs.device)
        return self.value(self._read(self.critic_gru, obs, prev, zeros, last)).squeeze(-1)


class GRUModel(nn.Module):
    """pomdp-baselines' PPO-GRU: GRU on the observation shared by tanh actor and critic heads."""

    stochastic_state = False

    def __init__(
        self, obs_size: int, head_size: int, state_size: int, hidden: Sequence[int], length: int
    ) -> None:
        super().__init__()
        self.state_size, self.length = state_size, length
        self.gru = nn.GRU(obs_size, state_size, batch_first=True)
        for name, param in self.gru.named_parameters():  # ikostrikov's MLPBase init
            nn.init.orthogonal_(param) if "weight" in name else nn.init.zeros_(param)
        self.actor = mlp(state_size, hidden, head_size, nn.Tanh)
        self.critic = mlp(state_size, hidden, 1, nn.Tanh)

    def initial_state(self) -> np.ndarray:
        """Zero hidden state at an episode start."""
        return np.zeros(self.state_size, np.float32)

    def act(
        self, obs: np.ndarray, prev_action: np.ndarray, state: Any, normalize: Normalize
    ) -> Acted:
        """One GRU step on the observation alone (ikostrikov's policy takes no previous action)."""
        device = next(self.parameters()).device
        x, h = _tensor(normalize(obs), device), _tensor(state, device)
        out, _ = self.gru(x.unsqueeze(1), h.unsqueeze(0))
        hidden = out[:, 0]
        return Acted(
            self.actor(hidden), None, np.asarray(state, np.float32), hidden[0].cpu().numpy()
        )

    def prepare(self, batch: Batch) -> dict[str, Any]:
        """Segments of at most ``length`` steps within one episode (``chunk_indices``)."""
        index, lengths = chunk_indices(batch.episode_start, self.length)
        device = batch.obs.device
        valid = np.arange(self.length)[None, :] < lengths[:, None]
        return {
            "batch": batch,
            "index": torch.as_tensor(index, device=device),
            "valid": torch.as_tensor(valid, device=device),
        }

    def units(self, prep: dict[str, Any]) -> int:
        """Training units: segments."""
        return len(prep["index"])

    def _unroll(
        self, prep: dict[str, Any], units: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        batch: Batch = prep["batch"]
        index, valid = prep["index"][units], prep["valid"][units]
        longest = int(valid.sum(1).max())  # pad to the longest segment of this batch only
        index, valid = index[:, :longest], valid[:, :longest]
        h0 = batch.state_in[index[:, 0]].unsqueeze(0)
        out, _ = self.gru(batch.obs[index], h0)
        return index[valid], out[valid]

    def evaluate(self, prep: dict[str, Any], units: torch.Tensor) -> Evaluated:
        """Unroll whole segments from their stored hidden state; every valid step counts."""
        rows, hidden = self._unroll(prep, units)
        return Evaluated(rows, self.actor(hidden), None, self.critic(hidden).squeeze(-1))

    def next_values(self, prep: dict[str, Any]) -> torch.Tensor:
        """V after one more GRU step on each step's next observation."""
        batch: Batch = prep["batch"]
        rows, hidden = self._unroll(prep, torch.arange(self.units(prep), device=batch.obs.device))
        ordered = torch.empty_like(hidden)
        ordered[rows] = hidden
        out, _ = self.gru(batch.next_obs.unsqueeze(1), ordered.unsqueeze(0))
        return self.critic(out[:, 0]).squeeze(-1)
