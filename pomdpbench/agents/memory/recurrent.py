"""Recurrent memory parts: ``bptt-L``, ``rs`` (S2PG) and ``gru-seq`` (MF-RNN).

* :class:`BPTTMemory` — S2PG's BPTT baselines (robfiras/s2pg ``bptt_pI/sac_bptt_pI.py``,
  ``td3_bptt_pI.py``): a GRU over (observation, previous action) trained by truncated
  backpropagation on sequences of at most L steps sampled as ``SequenceReplayMemory`` does,
  the GRU started from the hidden state stored for the sequence's first step; the loss is taken
  at the sampled (last) step. The actor reads ``[GRU output, observation]``.
* :class:`RSMemory` — S2PG's stochastic internal state (``rs/sac_rs.py``, ``rs/td3_rs.py``):
  one GRU step from the stored z_t gives the mean of z'; the learner draws z' jointly with the
  action, no gradient flows through time, and the critic reads (s, z, a_prev) plus (a, z').
* :class:`GRUSeqMemory` — pomdp-baselines' MF-RNN (``policies/models/policy_rnn.py``):
  separate actor and critic GRUs over (observation, previous action, previous reward), zero
  hidden state at the start of every sampled segment, every valid step of the segment a
  training sample.

Without a privileged state the BPTT critic reads the actor's GRU output, detached, with the
observation (the original's BPTT critics always had the privileged state; a feed-forward critic
on the observation alone could not value a memory task).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from pomdpbench.agents.memory.gru import EmbeddedGRU
from pomdpbench.agents.memory.parts import MemoryBatch, MemoryPart, PartContext
from pomdpbench.agents.memory.sequence_replay import SequenceReplay
from pomdpbench.agents.protocol import AgentInput


class BPTTMemory(MemoryPart):
    """``bptt-L``: a GRU policy trained by truncated BPTT on S2PG's sequences."""

    name = "bptt"

    def __init__(self, ctx: PartContext, length: int, hidden: int, embedding: int) -> None:
        super().__init__(ctx)
        self.length = length
        self.state_size = hidden
        self.gru = EmbeddedGRU(ctx.obs_size, ctx.action_size, hidden, embedding, embedding)
        self.actor_input_size = hidden + ctx.obs_size
        self.critic_input_size = ctx.privileged_size or hidden + ctx.obs_size

    def initial_state(self) -> np.ndarray:
        """Zero hidden state at an episode start."""
        return np.zeros(self.state_size, dtype=np.float32)

    def act_input(self, inp: AgentInput, state: Any) -> tuple[torch.Tensor, torch.Tensor | None]:
        """One GRU step from the hidden state; remembers (h_{t-1}, h_t) for the buffer."""
        obs = self._tensor(inp.obs).unsqueeze(0)
        hidden = self.gru.step(
            obs, self._tensor(inp.prev_action).unsqueeze(0), self._tensor(state).unsqueeze(0)
        )
        self._memo = (np.asarray(state, np.float32), hidden[0].cpu().numpy())
        return torch.cat([hidden, obs], -1), None

    def advance(self, state: Any, z: np.ndarray | None) -> np.ndarray:
        """The GRU's new hidden state."""
        assert self._memo[1] is not None
        return self._memo[1]

    def batch(self, buffer: SequenceReplay, batch_size: int) -> MemoryBatch:
        """Unroll over sequences ending at the sampled steps; one more step gives t + 1."""
        seq = buffer.sample_sequences(batch_size, self.length)
        index = np.arange(len(seq.lengths))
        rows = seq.rows[index, seq.lengths - 1]
        obs = self._rows(buffer, "obs", seq.rows)
        prev = self._rows(buffer, "prev_action", seq.rows)
        start = self._rows(buffer, "state", seq.rows[:, 0])
        out = self.gru.unroll(obs, prev, start)  # (B, L, H)
        hidden = out[torch.as_tensor(index), torch.as_tensor(seq.lengths - 1)]
        obs_t, next_obs = self._rows(buffer, "obs", rows), self._rows(buffer, "next_obs", rows)
        action = self._encoded_action(self._rows(buffer, "action", rows))
        with torch.no_grad():
            next_hidden = self.gru.step(next_obs, action, hidden.detach())
        x = torch.cat([hidden, obs_t], -1)
        next_x = torch.cat([next_hidden, next_obs], -1)
        critic = self._privileged(buffer, rows) or (x.detach(), next_x)
        return self._finish(buffer, rows, x, next_x, critic)


class RSMemory(MemoryPart):
    """``rs``: S2PG's stochastic internal state z, drawn with the action, no BPTT."""

    name = "rs"

    def __init__(self, ctx: PartContext, z_size: int, embedding: int) -> None:
        super().__init__(ctx)
        self.state_size = self.stochastic_state_size = z_size
        self.gru = EmbeddedGRU(ctx.obs_size, ctx.action_size, z_size, embedding, embedding)
        self.actor_input_size = z_size + ctx.obs_size
        s = ctx.privileged_size or ctx.obs_size
        self.critic_input_size = s + z_size + ctx.action_size  # (s, z, a_prev); (a, z') follow

    def initial_state(self) -> np.ndarray:
        """Z = 0 at an episode start (S2PG resets the internal state to zeros)."""
        return np.zeros(self.state_size, dtype=np.float32)

    def act_input(self, inp: AgentInput, state: Any) -> tuple[torch.Tensor, torch.Tensor | None]:
        """One GRU step from z_t: the actor input and the mean of z'."""
        obs = self._tensor(inp.obs).unsqueeze(0)
        z_mean = self.gru.step(
            obs, self._tensor(inp.prev_action).unsqueeze(0), self._tensor(state).unsqueeze(0)
        )
        self._z = np.asarray(state, np.float32)
        return torch.cat([z_mean, obs], -1), z_mean

    def advance(self, state: Any, z: np.ndarray | None) -> np.ndarray:
        """The learner's draw z' is the next internal state."""
        assert z is not None
        z = np.asarray(z, np.float32).reshape(self.state_size)
        self._memo = (self._z, z)
        return z

    def batch(self, buffer: SequenceReplay, batch_size: int) -> MemoryBatch:
        """Transitions with their stored (z, z'); the critic source is (s, z, a_prev) at t, t+1."""
        rows = buffer.sample_positions(batch_size)
        obs, next_obs = self._rows(buffer, "obs", rows), self._rows(buffer, "next_obs", rows)
        prev = self._rows(buffer, "prev_action", rows)
        z, z_next = self._rows(buffer, "state", rows), self._rows(buffer, "next_state", rows)
        action = self._encoded_action(self._rows(buffer, "action", rows))
        z_mean = self.gru.step(obs, prev, z)
        with torch.no_grad():
            next_z_mean = self.gru.step(next_obs, action, z_next)
        s, next_s = self._privileged(buffer, rows) or (obs, next_obs)
        critic = (torch.cat([s, z, prev], -1), torch.cat([next_s, z_next, action], -1))
        return self._finish(
            buffer,
            rows,
            torch.cat([z_mean, obs], -1),
            torch.cat([next_z_mean, next_obs], -1),
            critic,
            z_mean=z_mean,
            next_z_mean=next_z_mean,
            z_taken=z_next,
            steps=buffer.step_of(rows),
        )


class SegmentCritic(nn.Module):
    """MF-RNN's critic GRU: token sequences to critic inputs at t and t + 1 (valid steps)."""

    def __init__(self, gru: EmbeddedGRU) -> None:
        super().__init__()
        self.gru = gru

    def forward(self, source: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, torch.Tensor]:
        """``source`` = (obs, prev_action, prev_reward, valid) tokens of length L + 1."""
        obs, prev, reward, valid = source
        out = self.gru.unroll(
            obs, prev, torch.zeros(obs.shape[0], self.gru.hidden_size, device=obs.device), reward
        )
        feats = torch.cat([out, obs], -1)
        return feats[:, :-1][valid], feats[:, 1:][valid]


class GRUSeqMemory(MemoryPart):
    """``gru-seq``: MF-RNN's separate actor and critic GRUs on zero-started segments."""

    name = "gru-seq"

    def __init__(
        self,
        ctx: PartContext,
        length: int,
        hidden: int,
        obs_embedding: int,
        action_embedding: int,
        reward_embedding: int,
    ) -> None:
        super().__init__(ctx)
        self.length, self.state_size = length, 0
        sizes = (
            ctx.obs_size,
            ctx.action_size,
            hidden,
            obs_embedding,
            action_embedding,
            reward_embedding,
        )
        self.gru = EmbeddedGRU(*sizes)
        self._critic_gru_sizes = sizes
        self.actor_input_size = self.critic_input_size = hidden + ctx.obs_size

    def initial_state(self) -> np.ndarray:
        """Zero hidden state at an episode start."""
        return np.zeros(self.gru.hidden_size, dtype=np.float32)

    def act_input(self, inp: AgentInput, state: Any) -> tuple[torch.Tensor, torch.Tensor | None]:
        """One actor-GRU step over (obs, previous action, previous reward)."""
        obs = self._tensor(inp.obs).unsqueeze(0)
        reward = self._tensor(np.array([inp.prev_reward]))
        self._hidden = self.gru.step(
            obs,
            self._tensor(inp.prev_action).unsqueeze(0),
            self._tensor(state).unsqueeze(0),
            reward,
        )
        return torch.cat([self._hidden, obs], -1), None

    def advance(self, state: Any, z: np.ndarray | None) -> np.ndarray:
        """The actor GRU's new hidden state."""
        return self._hidden[0].cpu().numpy()

    def critic_encoder(self) -> nn.Module:
        """The critic's own GRU (its target copy is the target critic's)."""
        return SegmentCritic(EmbeddedGRU(*self._critic_gru_sizes))

    def batch(self, buffer: SequenceReplay, batch_size: int) -> MemoryBatch:
        """Segments of at most L steps ending at sampled steps, every valid step a sample."""
        seq = buffer.sample_sequences(batch_size, self.length)
        b, length = seq.rows.shape
        index = np.arange(b)
        last = seq.rows[index, seq.lengths - 1]
        tokens_obs = np.concatenate(
            [buffer.obs[seq.rows], np.zeros_like(buffer.obs[seq.rows[:, :1]])], 1
        )
        tokens_obs[index, seq.lengths] = buffer.next_obs[last]
        tokens_prev = np.concatenate(
            [buffer.prev_action[seq.rows], np.zeros_like(buffer.prev_action[seq.rows[:, :1]])], 1
        )
        action_rows = torch.as_tensor(buffer.action[last], device=self.ctx.device)
        tokens_prev[index, seq.lengths] = self._encoded_action(action_rows).cpu().numpy()
        tokens_rew = np.concatenate([buffer.prev_reward[seq.rows], np.zeros((b, 1), np.float32)], 1)
        tokens_rew[index, seq.lengths] = buffer.reward[last]
        # Zero the first token's previous action and reward: a segment starts from scratch
        # (pomdp-baselines prepends a dummy a_0 = r_0 = 0 to every sampled subsequence).
        tokens_prev[:, 0] = 0.0
        tokens_rew[:, 0] = 0.0
        t = self._tensor
        obs, prev, rew = t(tokens_obs), t(tokens_prev), t(tokens_rew)
        valid = torch.as_tensor(seq.mask > 0, device=self.ctx.device)
        out = self.gru.unroll(
            obs, prev, torch.zeros(b, self.gru.hidden_size, device=obs.device), rew
        )
        feats = torch.cat([out, obs], -1)
        x, next_x = feats[:, :-1][valid], feats[:, 1:][valid].detach()
        flat = seq.rows[seq.mask > 0]
        return MemoryBatch(
            x=x,
            next_x=next_x,
            critic_source=(obs, prev, rew, valid),
            action=self._rows(buffer, "action", flat),
            reward=self._rows(buffer, "reward", flat),
            done=self._rows(buffer, "done", flat),
        )
