"""``resel``: Recurrent off-policy RL with a context-Encoder-Specific Learning rate (RESeL).

Luo et al., "Efficient Recurrent Off-Policy RL Requires a Context-Encoder-Specific Learning
Rate", NeurIPS 2024: Sec. 4, Algorithm 1, App. C and D.3, with the details of the public code
FanmingL/Recurrent-Offpolicy-RL (``sac_full_length_rnn_redq_sep_optim``; reference/
notes-resel-code.md §3). One update per environment step once the random warm-up is over:

1. sample whole trajectories (at least ``batch_size`` transitions) stacked with reset flags;
2. critic: REDQ target from the minimum of 2 of the 8 target heads, chosen at random, with the
   next action from the current policy, ``y = r + gamma (1 - done) guard(min Q' - alpha log pi)``;
   loss = sum over heads of the mean squared error (Eq. 19); target soft update 0.995;
3. every second update, policy (Eq. 20: ``alpha log pi`` minus the mean of the 8 heads, the
   critic's embedding detached) and temperature (towards entropy ``-|A|``).

Acting is one token at a time with the carried encoder state. Where the paper and the code
differ, docs/resel.md says which this follows and why.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from torch import Tensor

from pomdpbench.agents.grad_norm import gradient_norms
from pomdpbench.agents.nets import soft_update
from pomdpbench.agents.protocol import AgentContext, AgentInput, Transition, action_size
from pomdpbench.agents.resel.buffer import TrajectoryBatch, TrajectoryBuffer
from pomdpbench.agents.resel.config import (
    ReselConfig,
    ReselGRUConfig,
    ReselMambaConfig,
    ReselTransformerConfig,
    drop_other_encoders,
)
from pomdpbench.agents.resel.encoders import CoreKind
from pomdpbench.agents.resel.guard import QValueGuard
from pomdpbench.agents.resel.networks import (
    Actor,
    Critic,
    Tokens,
    categorical_log_probs,
    gaussian_sample,
)
from pomdpbench.agents.resel.optim import ENCODER_GROUP, adamw, two_rate_adamw
from pomdpbench.errors import ConfigError

ActState = tuple[Any, np.ndarray] | None
"""(encoder state, last observation); None before the first step of an episode."""


class Resel:
    """RESeL with the Mamba context encoder behind the pomdpbench Agent protocol."""

    wants_privileged = False
    Config: type[ReselConfig] = ReselMambaConfig
    encoder_kind: CoreKind = "mamba"
    agent_id = "resel"

    @classmethod
    def finalize_config(
        cls, values: Mapping[str, Any], overrides: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """The run's configuration: the family's shared suite file without other cores' keys."""
        return drop_other_encoders(cls.Config, values, overrides)

    def __init__(self, ctx: AgentContext[ReselConfig]) -> None:
        self.cfg = cfg = ctx.config
        _check(cfg, self.encoder_kind, self.agent_id)
        self.device = torch.device(ctx.device)
        self.action_space = ctx.action_space
        self.action_space.seed(ctx.seed)
        self.discrete = isinstance(ctx.action_space, spaces.Discrete)
        self.obs_size = int(np.prod(ctx.observation_space.shape or (1,)))
        self.action_size = action_size(ctx.action_space)
        self._one_hot = np.eye(self.action_size, dtype=np.float32)
        sizes = (self.obs_size, self.action_size, self.discrete, cfg, self.encoder_kind)
        self.actor = Actor(*sizes).to(self.device)
        self.critic = Critic(*sizes).to(self.device)
        self.critic_target = copy.deepcopy(self.critic).requires_grad_(False)
        self.actor_opt = two_rate_adamw(
            self.actor, self.actor.encoder.stack_parameters(), cfg.policy_lr, cfg.policy_encoder_lr
        )
        self.critic_opt = two_rate_adamw(
            self.critic, self.critic.encoder.stack_parameters(), cfg.value_lr, cfg.value_encoder_lr
        )
        self.log_alpha = torch.zeros((), device=self.device, requires_grad=True)
        # torch's default AdamW weight decay (0.01), as the RESeL code builds this optimizer.
        self.alpha_opt = adamw([{"params": [self.log_alpha]}], lr=cfg.alpha_lr, weight_decay=0.01)
        self.target_entropy = -cfg.target_entropy_ratio * self.action_size
        self.guard = QValueGuard(decay=0.0 if self.discrete else 1e-3)
        capacity = min(cfg.buffer_size, max(ctx.budget, 1))
        self.buffer = TrajectoryBuffer(capacity, self.obs_size, self.action_size, seed=ctx.seed)
        self.rng = np.random.default_rng(ctx.seed + 1)  # REDQ's choice of target heads
        self.steps = 0
        self.updates = 0
        self.warming_up = True

    # ------------------------------------------------------------------ acting
    def initial_state(self) -> ActState:
        """None: the state is made at the first step, when it is known whether this is training."""
        return None

    @torch.no_grad()
    def act(self, inp: AgentInput, state: ActState, deterministic: bool) -> tuple[Any, ActState]:
        """Uniform actions during warm-up, else the policy one token at a time."""
        if state is None:
            random = self.cfg.random_initial_hidden and not deterministic
            state = (self.actor.encoder.initial_state(1, random), np.zeros_like(inp.obs))
        core_state, last_obs = state
        if not deterministic and self.warming_up:
            return self.action_space.sample(), (core_state, inp.obs)
        tokens = Tokens(
            obs=self._row(inp.obs),
            last_obs=self._row(last_obs),
            last_action=self._row(inp.prev_action),
            last_reward=self._row(np.array([inp.prev_reward])),
        )
        out, core_state = self.actor.step(tokens, core_state)
        if self.discrete:
            log_probs = categorical_log_probs(out[0])
            index = log_probs.argmax() if deterministic else torch.multinomial(log_probs.exp(), 1)
            return int(index), (core_state, inp.obs)
        action, _ = gaussian_sample(out[0], deterministic)
        return action.cpu().numpy(), (core_state, inp.obs)

    def _row(self, array: np.ndarray) -> Tensor:
        return torch.tensor(array, dtype=torch.float32, device=self.device).view(1, -1)

    def observe(self, transition: Transition) -> None:
        """Store the transition; warm-up ends at the first episode end past ``learning_starts``."""
        action = transition.action
        if self.discrete:
            action = self._one_hot[int(action)]
        self.buffer.add(
            transition.obs,
            action,
            transition.reward,
            transition.next_obs,
            transition.terminated,
            transition.truncated,
            transition.episode_start,
        )
        self.steps += 1
        ended = transition.terminated or transition.truncated
        if self.warming_up and ended and self.steps >= self.cfg.learning_starts:
            self.warming_up = False

    # ---------------------------------------------------------------- learning
    def update(self) -> dict[str, float]:
        """One RESeL update per environment step after the warm-up."""
        if self.warming_up or len(self.buffer) == 0:
            return {}
        # Reported before counting the update, so on a policy step when metrics_every is a
        # multiple of policy_update_every (1000 and 2): the policy's loss, entropy and
        # gradient norm are then among the metrics (counted after, they never were).
        report = self.updates % self.cfg.metrics_every == 0
        losses = self.learn(self.sample())
        self.updates += 1
        if report:
            metrics = {name: float(value) for name, value in losses.items()}
            return metrics | gradient_norms(policy=self.actor_opt, critic=self.critic_opt)
        return {}

    def sample(self) -> TrajectoryBatch:
        """A stacked batch laid out for this agent's encoder core."""
        core = self.actor.encoder.core
        return self.buffer.sample(self.cfg.batch_size, core.packs, core.gap, self.device)

    def learn(self, batch: TrajectoryBatch) -> dict[str, Tensor]:
        """Critic step, target update, and every ``policy_update_every`` the policy and alpha."""
        cfg = self.cfg
        policy_step = self.updates % cfg.policy_update_every == 0
        tokens, layout = batch.tokens, batch.layout
        obs = _flat(tokens.obs)
        now, nxt = batch.step, batch.step + 1
        alpha = self._alpha()

        # The policy at every token: current steps for its loss, next steps for the target.
        with torch.set_grad_enabled(policy_step):
            policy_out = _flat(self.actor(tokens, layout))

        # REDQ target: min over 2 random target heads, next action from the current policy.
        with torch.no_grad():
            embedding = _flat(self.critic_target.encoder(tokens, layout))[nxt]
            chosen = self.rng.choice(cfg.ensemble_size, cfg.target_heads, replace=False)
            heads = torch.as_tensor(chosen, device=self.device)
            next_value = self._soft_value(
                policy_out[nxt].detach(), embedding, obs[nxt], heads, alpha
            )
            if cfg.q_value_guard:
                next_value = self.guard.clamp(next_value)
            target = batch.reward + cfg.gamma * (1.0 - batch.done) * next_value
            if cfg.q_value_guard:
                self.guard.update(target)

        # Critic: squared error summed over the heads, averaged over transitions (Eq. 19).
        embedding = _flat(self.critic.encoder(tokens, layout))[now]
        q = self._q_taken(embedding, obs[now], batch.action)
        critic_loss = (q - target).pow(2).mean(-1).sum()
        self.critic_opt.zero_grad(set_to_none=True)
        critic_loss.backward()
        self.critic_opt.step()
        soft_update(self.critic_target, self.critic, 1.0 - cfg.target_update_factor)
        losses = {"critic_loss": critic_loss.detach(), "q_mean": q.detach().mean(), "alpha": alpha}
        if policy_step:
            losses.update(self._policy_step(tokens, batch, policy_out[now], obs[now], alpha))
        return losses

    def _policy_step(
        self, tokens: Tokens, batch: TrajectoryBatch, out: Tensor, obs: Tensor, alpha: Tensor
    ) -> dict[str, Tensor]:
        """Policy loss against the mean of the heads (Eq. 20), then the temperature."""
        with torch.no_grad():  # the critic's embedding is detached (``detach_embedding=True``)
            embedding = _flat(self.critic.encoder(tokens, batch.layout))[batch.step]
        self.critic.requires_grad_(False)
        if self.discrete:
            log_probs = categorical_log_probs(out)
            q = self.critic.q_values(embedding, obs, None).mean(0)
            actor_loss = (log_probs.exp() * (alpha * log_probs - q)).sum(-1).mean()
            entropy = -(log_probs.exp() * log_probs).sum(-1).mean()
        else:
            action, log_prob = gaussian_sample(out)
            q = self.critic.q_values(embedding, obs, action).mean(0).squeeze(-1)
            actor_loss = (alpha * log_prob - q).mean()
            entropy = -log_prob.mean()
        self.critic.requires_grad_(True)
        self.actor_opt.zero_grad(set_to_none=True)
        actor_loss.backward()
        self.actor_opt.step()
        if not self.discrete:  # the RESeL code keeps alpha fixed for discrete actions
            alpha_loss = self.log_alpha * (entropy.detach() - self.target_entropy)
            self.alpha_opt.zero_grad(set_to_none=True)
            alpha_loss.backward()
            self.alpha_opt.step()
            with torch.no_grad():
                self.log_alpha.clamp_(max=self.cfg.log_alpha_max)
        return {"actor_loss": actor_loss.detach(), "entropy": entropy.detach()}

    def _alpha(self) -> Tensor:
        if self.discrete:
            return torch.tensor(self.cfg.discrete_alpha, device=self.device)
        return self.log_alpha.detach().exp()

    def _soft_value(
        self, out: Tensor, embedding: Tensor, obs: Tensor, heads: Tensor, alpha: Tensor
    ) -> Tensor:
        """``min_{j in heads} Q'_j - alpha log pi`` at the next steps (expected for discrete)."""
        if self.discrete:
            log_probs = categorical_log_probs(out)
            q = self.critic_target.q_values(embedding, obs, None, heads).min(0).values
            return (log_probs.exp() * (q - alpha * log_probs)).sum(-1)
        action, log_prob = gaussian_sample(out)
        q = self.critic_target.q_values(embedding, obs, action, heads).min(0).values.squeeze(-1)
        return q - alpha * log_prob

    def _q_taken(self, embedding: Tensor, obs: Tensor, action: Tensor) -> Tensor:
        """``(ensemble, M)`` values of the actions in the batch."""
        if self.discrete:
            q = self.critic.q_values(embedding, obs, None)
            index = action.argmax(-1).view(1, -1, 1).expand(q.shape[0], -1, 1)
            return q.gather(-1, index).squeeze(-1)
        return self.critic.q_values(embedding, obs, action).squeeze(-1)

    # ------------------------------------------- action variation (RESeL Fig. 3; diagnostics)
    def variation_inputs(self) -> TrajectoryBatch:
        """About ten batches of whole trajectories, one per row from column 0 (column = step)."""
        return self.buffer.sample(10 * self.cfg.batch_size, False, 0, self.device)

    @torch.no_grad()
    def policy_outputs(self, inputs: TrajectoryBatch) -> tuple[np.ndarray, np.ndarray]:
        """Deterministic actions (probabilities when discrete) at every step, and the mask."""
        out = self.actor(inputs.tokens, inputs.layout)
        if self.discrete:
            actions = categorical_log_probs(out).exp()
        else:
            actions, _ = gaussian_sample(out, deterministic=True)
        return actions.cpu().numpy(), inputs.layout.valid.cpu().numpy()

    def policy_gradient_step(self, encoder_lr: float, other_lr: float) -> None:
        """One policy (and temperature) step with the policy optimizer's rates set to these."""
        for group in self.actor_opt.param_groups:
            group["lr"] = encoder_lr if group["name"] == ENCODER_GROUP else other_lr
        batch = self.sample()
        out = _flat(self.actor(batch.tokens, batch.layout))[batch.step]
        self._policy_step(
            batch.tokens, batch, out, _flat(batch.tokens.obs)[batch.step], self._alpha()
        )

    # ------------------------------------------------------------ persistence
    _STATEFUL = ("actor", "critic", "critic_target", "actor_opt", "critic_opt", "alpha_opt")
    """Attributes saved through their ``state_dict``."""

    def save(self, directory: Path) -> None:
        """Networks, optimizers, temperature, guard, counters, generators and the buffer."""
        directory.mkdir(parents=True, exist_ok=True)
        state = {name: getattr(self, name).state_dict() for name in self._STATEFUL}
        state.update(
            config=asdict(self.cfg),
            log_alpha=self.log_alpha.detach().clone(),
            guard=asdict(self.guard),
            counters=(self.steps, self.updates, self.warming_up),
            rng=self.rng.bit_generator.state,
            action_rng=self.action_space.np_random.bit_generator.state,
        )
        torch.save(state, directory / "resel.pt")
        self.buffer.save(directory / "buffer.npz")

    def load(self, directory: Path) -> None:
        """Read back what :meth:`save` wrote."""
        state = torch.load(directory / "resel.pt", map_location=self.device, weights_only=False)
        for name in self._STATEFUL:
            getattr(self, name).load_state_dict(state[name])
        with torch.no_grad():
            self.log_alpha.copy_(state["log_alpha"])
        self.guard = QValueGuard(**state["guard"])
        self.steps, self.updates, self.warming_up = state["counters"]
        self.rng.bit_generator.state = state["rng"]
        self.action_space.np_random.bit_generator.state = state["action_rng"]
        self.buffer.load(directory / "buffer.npz")


class ReselGRU(Resel):
    """RESeL with a GRU context encoder (RESeL Fig. 12)."""

    Config = ReselGRUConfig
    encoder_kind: CoreKind = "gru"
    agent_id = "resel-gru"


class ReselSameLR(Resel):
    """The LR_CE ablation (RESeL Sec. 5.1, Fig. 11c): each context encoder at its network's rate.

    Everything else is ``resel``'s, suite files included (``config_dir`` "resel"): only
    ``policy_encoder_lr`` becomes ``policy_lr`` and ``value_encoder_lr`` becomes ``value_lr``,
    after every layer of the configuration. :meth:`finalize_config` is applied by the sweep
    planner, so the stored configuration shows the rates actually used; the constructor ties
    the built config's rates too, so an agent built any other way is the same ablation.
    """

    agent_id = "resel-same-lr"
    TIED = {"policy_encoder_lr": "policy_lr", "value_encoder_lr": "value_lr"}

    @classmethod
    def finalize_config(
        cls, values: Mapping[str, Any], overrides: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """``values`` with the encoder rates tied to the other rates.

        Raises:
            ConfigError: if ``--set`` names an encoder rate (it would be ignored).
        """
        values = super().finalize_config(values, overrides)
        named = sorted(set(overrides or {}) & set(cls.TIED))
        if named:
            raise ConfigError(
                f"{cls.agent_id} ties {', '.join(named)} to the other rates: set "
                f"{', '.join(cls.TIED[key] for key in named)} instead (or use --agent resel)"
            )
        defaults = cls.Config()
        tied = {key: values.get(other, getattr(defaults, other)) for key, other in cls.TIED.items()}
        return {**values, **tied}

    def __init__(self, ctx: AgentContext[ReselConfig]) -> None:
        cfg = ctx.config
        tied = {key: getattr(cfg, other) for key, other in self.TIED.items()}
        super().__init__(replace(ctx, config=replace(cfg, **tied)))


class ReselTransformer(Resel):
    """RESeL with a causal Transformer context encoder (RESeL Fig. 12)."""

    Config = ReselTransformerConfig
    encoder_kind: CoreKind = "transformer"
    agent_id = "resel-transformer"


def _check(cfg: ReselConfig, kind: CoreKind, agent_id: str) -> None:
    """Reject settings that cannot work, naming the fix."""
    if cfg.random_initial_hidden and kind == "transformer":
        raise ConfigError(
            f"{agent_id}: random_initial_hidden has no meaning for an attention encoder: "
            "set random_initial_hidden=false"
        )
    if not 1 <= cfg.target_heads <= cfg.ensemble_size:
        raise ConfigError(
            f"{agent_id}: target_heads={cfg.target_heads} must be between 1 and "
            f"ensemble_size={cfg.ensemble_size}"
        )
    if cfg.batch_size < 1 or cfg.policy_update_every < 1 or not cfg.encoder_hidden:
        raise ConfigError(
            f"{agent_id}: batch_size and policy_update_every must be at least 1 and "
            "encoder_hidden must name at least one width"
        )


def _flat(x: Tensor) -> Tensor:
    """``(rows, length, size) -> (rows * length, size)``."""
    return x.reshape(-1, x.shape[-1])
