"""The memory parts an off-policy learner (SAC, TD3) takes, and the batches they build.

A part answers four questions for its learner, which stays the same for every mechanism:

* **acting** — :meth:`MemoryPart.act_input` turns one :class:`AgentInput` and the agent state
  into the actor's input ``x`` (and, for ``rs``, the mean of the next internal state);
  :meth:`MemoryPart.advance` gives the next agent state once the learner has drawn its sample;
* **storing** — :meth:`MemoryPart.store` writes the transition into a
  :class:`~pomdpbench.agents.memory.sequence_replay.SequenceReplay` with what the part needs
  later (the internal state the step started from and the one it produced);
* **training** — :meth:`MemoryPart.batch` samples and builds :class:`MemoryBatch`: the actor's
  input at t (with gradient through the part's own parameters) and at t + 1 (without), and the
  critic's inputs at t and t + 1;
* **the critic's view** — the privileged state (``info["state"]``) when the task has one and
  the part uses it (S2PG's critics on the robust and memory suites), else what the actor sees.

This module holds the interface and the feed-forward parts ``mlp`` and ``window-L``; the
recurrent ones (``bptt-L``, ``rs``, ``gru-seq``) are in
:mod:`~pomdpbench.agents.memory.recurrent`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from pomdpbench.agents.memory.sequence_replay import SequenceReplay
from pomdpbench.agents.memory.window import WindowStacker, windows_from_sequences
from pomdpbench.agents.protocol import AgentInput, Transition


@dataclass(frozen=True)
class PartContext:
    """What a part knows of its task and learner."""

    obs_size: int
    action_size: int
    """Length of an encoded action: |A| for Box, n (one-hot) for Discrete."""
    discrete: bool
    privileged_size: int
    """Length of the privileged state the critic reads; 0 when not used."""
    device: torch.device


class MemoryBatch(NamedTuple):
    """A training batch of N samples as the learner consumes it."""

    x: torch.Tensor
    """``(N, F)`` actor input at t; carries gradient into the part's actor parameters."""
    next_x: torch.Tensor
    """``(N, F)`` actor input at t + 1 (no gradient)."""
    critic_source: Any
    """What :meth:`MemoryPart.critic_inputs` turns into the critic's inputs at t and t + 1."""
    action: torch.Tensor
    """``(N, stored action)``: the action (index for Discrete)."""
    reward: torch.Tensor
    done: torch.Tensor
    z_mean: torch.Tensor | None = None
    """``rs`` only: ``(N, Z)`` mean of the next internal state at t (with gradient)."""
    next_z_mean: torch.Tensor | None = None
    z_taken: torch.Tensor | None = None
    """``rs`` only: ``(N, Z)`` the next internal state that was stored for the transition."""
    steps: np.ndarray | None = None
    """Step numbers of the samples (``rs`` refreshes their stored next states)."""


class PassThrough(nn.Module):
    """The critic encoder of parts whose critic inputs need no network: ``(c, c') -> (c, c')``."""

    def forward(self, source: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, ...]:
        """Return the pair unchanged."""
        return source


class MemoryPart(nn.Module):
    """Base of the parts; a part without parameters is an empty module."""

    name = "mlp"
    state_size = 0
    """Length of the internal state stored per step (0: none)."""
    stochastic_state_size = 0
    """``rs``: length of z, drawn by the learner jointly with the action."""

    def __init__(self, ctx: PartContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.actor_input_size = ctx.obs_size
        self.critic_input_size = ctx.privileged_size or ctx.obs_size
        self._memo: tuple[np.ndarray | None, np.ndarray | None] = (None, None)

    # ------------------------------------------------------------------ acting
    def initial_state(self) -> Any:
        """The agent state at an episode start."""
        return None

    def act_input(self, inp: AgentInput, state: Any) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Actor input ``(1, F)`` for this step (and ``(1, Z)`` z mean for ``rs``)."""
        return self._tensor(inp.obs).unsqueeze(0), None

    def advance(self, state: Any, z: np.ndarray | None) -> Any:
        """The agent state after this step (``z``: the learner's draw of z', ``rs`` only)."""
        return state

    def critic_encoder(self) -> nn.Module:
        """The module turning ``critic_source`` into critic inputs (copied for the target)."""
        return PassThrough()

    # ---------------------------------------------------------------- storing
    def store(
        self, buffer: SequenceReplay, t: Transition, prev_action: np.ndarray, prev_reward: float
    ) -> None:
        """Write transition ``t`` with what the last act saw and the internal states it made."""
        state, next_state = self._memo
        buffer.add(
            t.obs,
            t.action,
            t.reward,
            t.next_obs,
            t.terminated,
            t.terminated or t.truncated,
            t.episode_start,
            prev_action=prev_action,
            prev_reward=prev_reward,
            priv=t.privileged,
            next_priv=t.next_privileged,
            state=state,
            next_state=next_state,
        )

    # --------------------------------------------------------------- training
    def batch(self, buffer: SequenceReplay, batch_size: int) -> MemoryBatch:
        """A uniform batch of transitions; the critic reads the privileged state if used."""
        rows = buffer.sample_positions(batch_size)
        obs, next_obs = self._rows(buffer, "obs", rows), self._rows(buffer, "next_obs", rows)
        critic = self._privileged(buffer, rows) or (obs, next_obs)
        return self._finish(buffer, rows, obs, next_obs, critic)

    # ---------------------------------------------------------------- helpers
    def _tensor(self, array: np.ndarray) -> torch.Tensor:
        return torch.tensor(array, dtype=torch.float32, device=self.ctx.device)  # copies

    def _rows(self, buffer: SequenceReplay, name: str, rows: np.ndarray) -> torch.Tensor:
        return buffer.tensor(name, rows, self.ctx.device)

    def _privileged(
        self, buffer: SequenceReplay, rows: np.ndarray
    ) -> tuple[torch.Tensor, torch.Tensor] | None:
        if not self.ctx.privileged_size:
            return None
        return self._rows(buffer, "priv", rows), self._rows(buffer, "next_priv", rows)

    def _encoded_action(self, action: torch.Tensor) -> torch.Tensor:
        """The stored action as the float vector a policy reads as its previous action."""
        if self.ctx.discrete:
            return F.one_hot(action[..., 0].long(), self.ctx.action_size).float()
        return action

    def _finish(
        self,
        buffer: SequenceReplay,
        rows: np.ndarray,
        x: torch.Tensor,
        next_x: torch.Tensor,
        critic_source: Any,
        **extra: Any,
    ) -> MemoryBatch:
        return MemoryBatch(
            x=x,
            next_x=next_x,
            critic_source=critic_source,
            action=self._rows(buffer, "action", rows),
            reward=self._rows(buffer, "reward", rows),
            done=self._rows(buffer, "done", rows),
            **extra,
        )


class MLPMemory(MemoryPart):
    """``mlp``: the current observation only (the vanilla, memoryless learner)."""


class OracleMemory(MemoryPart):
    """``oracle``: the actor reads the privileged full state in place of the observation.

    On a task without one (e.g. the -F twins of the sanity and classic suites) the
    observation already is the full state, and the part is :class:`MLPMemory`.
    """

    name = "oracle"

    def __init__(self, ctx: PartContext) -> None:
        super().__init__(ctx)
        self.actor_input_size = ctx.privileged_size or ctx.obs_size

    def act_input(self, inp: AgentInput, state: Any) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The privileged state when the task has one, else the observation."""
        source = inp.privileged if self.ctx.privileged_size else inp.obs
        assert source is not None, "the oracle needs info['state']: set wants_privileged"
        return self._tensor(source).unsqueeze(0), None

    def batch(self, buffer: SequenceReplay, batch_size: int) -> MemoryBatch:
        """Transitions; actor and critic both read the full state."""
        rows = buffer.sample_positions(batch_size)
        pair = self._privileged(buffer, rows)
        if pair is None:
            pair = (self._rows(buffer, "obs", rows), self._rows(buffer, "next_obs", rows))
        return self._finish(buffer, rows, pair[0], pair[1], pair)


class WindowMemory(MemoryPart):
    """``window-L``: the flattened last L observations, zero-filled at an episode start."""

    name = "window"

    def __init__(self, ctx: PartContext, length: int) -> None:
        super().__init__(ctx)
        self.length = length
        self.stacker = WindowStacker(length, ctx.obs_size)
        self.actor_input_size = self.stacker.size
        self.critic_input_size = ctx.privileged_size or self.stacker.size

    def initial_state(self) -> np.ndarray:
        """The zero window."""
        return self.stacker.initial()

    def act_input(self, inp: AgentInput, state: Any) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The window with the current observation pushed in (it becomes the next state)."""
        window = self.stacker.push(state, inp.obs)
        self._window = window
        return self._tensor(window).unsqueeze(0), None

    def advance(self, state: Any, z: np.ndarray | None) -> np.ndarray:
        """The window just built by :meth:`act_input`."""
        return self._window

    def batch(self, buffer: SequenceReplay, batch_size: int) -> MemoryBatch:
        """Windows rebuilt from S2PG sequences ending at the sampled steps, and their next."""
        seq = buffer.sample_sequences(batch_size, self.length)
        obs = self._rows(buffer, "obs", seq.rows)  # (B, L, obs)
        lengths = torch.as_tensor(seq.lengths, device=self.ctx.device)
        x = windows_from_sequences(obs, lengths)
        rows = seq.rows[np.arange(len(seq.lengths)), seq.lengths - 1]
        next_obs = self._rows(buffer, "next_obs", rows)
        next_x = torch.cat([x[:, self.ctx.obs_size :], next_obs], -1)
        critic = self._privileged(buffer, rows) or (x, next_x)
        return self._finish(buffer, rows, x, next_x, critic)
