"""GRU encoders of the recurrent baselines.

* :class:`EmbeddedGRU` — S2PG's BPTT / RS actor trunk (robfiras/s2pg
  ``SACBPTTActorNetwork``, ``SACRecurrentActorNetwork``, ``TD3ActorBPTTNetwork``): the
  observation and the previous action are each embedded (Linear + ReLU), concatenated and fed
  to a one-layer GRU whose hidden state is the policy's memory. With ``reward_embedding > 0``
  the previous reward is embedded too, as pomdp-baselines' MF-RNN does (``policy_rnn.py``:
  observation 32, action 16, reward 16 for PyBullet).

Both run one step at act time (:meth:`EmbeddedGRU.step`) and a padded batch of sequences at
training time (:meth:`EmbeddedGRU.unroll`), starting from given hidden states.
"""

from __future__ import annotations

import torch
from torch import nn

from pomdpbench.agents.nets import Linear


class EmbeddedGRU(nn.Module):
    """Embed (obs, previous action[, previous reward]) and run a one-layer GRU."""

    def __init__(
        self,
        obs_size: int,
        action_size: int,
        hidden_size: int,
        obs_embedding: int,
        action_embedding: int,
        reward_embedding: int = 0,
    ) -> None:
        super().__init__()
        self.hidden_size = hidden_size
        self.embed_obs = nn.Sequential(Linear(obs_size, obs_embedding), nn.ReLU())
        self.embed_action = (
            nn.Sequential(Linear(action_size, action_embedding), nn.ReLU())
            if action_embedding > 0
            else None
        )
        self.embed_reward = (
            nn.Sequential(Linear(1, reward_embedding), nn.ReLU()) if reward_embedding > 0 else None
        )
        width = obs_embedding + max(action_embedding, 0) + max(reward_embedding, 0)
        self.gru = nn.GRU(width, hidden_size, batch_first=True)

    def _inputs(
        self, obs: torch.Tensor, prev_action: torch.Tensor, prev_reward: torch.Tensor | None
    ) -> torch.Tensor:
        parts = [self.embed_obs(obs)]
        if self.embed_action is not None:
            parts.append(self.embed_action(prev_action))
        if self.embed_reward is not None:
            assert prev_reward is not None, "this GRU embeds the previous reward: pass it"
            parts.append(self.embed_reward(prev_reward.unsqueeze(-1)))
        return torch.cat(parts, -1)

    def unroll(
        self,
        obs: torch.Tensor,
        prev_action: torch.Tensor,
        hidden: torch.Tensor,
        prev_reward: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Outputs ``(B, T, H)`` of sequences ``(B, T, ·)`` started from ``hidden (B, H)``.

        Padding after a sequence's end only affects outputs after it (the GRU is causal), so
        right-padded batches need no packing: read each output at its own valid positions.
        """
        out, _ = self.gru(self._inputs(obs, prev_action, prev_reward), hidden.unsqueeze(0))
        return out

    def step(
        self,
        obs: torch.Tensor,
        prev_action: torch.Tensor,
        hidden: torch.Tensor,
        prev_reward: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """One step for a batch ``(B, ·)``: the next hidden state ``(B, H)``."""
        reward = None if prev_reward is None else prev_reward.unsqueeze(1)
        out = self.unroll(obs.unsqueeze(1), prev_action.unsqueeze(1), hidden, reward)
        return out[:, 0]
