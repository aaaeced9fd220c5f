"""``sac-mlp``: memoryless Soft Actor-Critic, continuous or discrete actions.

Continuous actions follow SAC (Haarnoja et al. 2018, arXiv 1812.05905): a tanh-squashed
Gaussian policy, twin critics with a clipped double-Q target, automatic entropy tuning to
``-ratio * |A|``. Discrete actions follow SAC-Discrete (Christodoulou 2019, arXiv 1910.07207),
as pomdp-baselines' ``sacd``: a categorical policy, critics that output one value per action,
expectations over actions instead of samples, target entropy ``ratio * log|A|``.

Time-limit truncations bootstrap; only ``terminated`` stops the target. The agent sees the
current observation only: it is the memoryless reference of the benchmark.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
import torch.nn.functional as F
from gymnasium import spaces
from torch import nn

from pomdpbench.agents.config import at_least, build_config, fraction, positive
from pomdpbench.agents.nets import adam, ensemble_mlp, mlp, soft_update
from pomdpbench.agents.protocol import AgentContext, AgentInput, Transition
from pomdpbench.agents.replay import ReplayBuffer

LOG_STD_MIN, LOG_STD_MAX = -5.0, 2.0  # CleanRL sac_continuous_action.py


@dataclass(frozen=True)
class SACConfig:
    """Hyperparameters; defaults are SAC's (Haarnoja et al. 2018, Table 1) unless noted."""

    hidden_sizes: tuple[int, ...] = field(default=(256, 256), metadata=at_least(1))
    actor_lr: float = field(default=3e-4, metadata=positive())
    critic_lr: float = field(default=3e-4, metadata=positive())
    alpha_lr: float = field(default=3e-4, metadata=positive())
    gamma: float = field(default=0.99, metadata=fraction())
    tau: float = field(default=0.005, metadata=fraction())
    """Target smoothing: target <- (1 - tau) target + tau online."""
    batch_size: int = field(default=256, metadata=at_least(1))
    buffer_size: int = field(default=1_000_000, metadata=at_least(1))
    learning_starts: int = field(default=5000, metadata=at_least(0))
    """Uniform random actions and no updates before this many steps (CleanRL's default)."""
    updates_per_step: int = field(default=1, metadata=at_least(0))
    initial_alpha: float = field(default=1.0, metadata=positive())
    autotune_alpha: bool = True
    target_entropy_ratio: float = field(default=1.0, metadata=at_least(0))
    """Continuous: target entropy -ratio*|A|. Discrete: ratio*log|A| (pomdp-baselines uses 0.7)."""
    metrics_every: int = field(default=1000, metadata=at_least(1))
    """Report losses every this many updates (reading them costs a sync on a GPU)."""


class GaussianActor(nn.Module):
    """Tanh-squashed diagonal Gaussian policy."""

    def __init__(self, obs_size: int, action_size: int, hidden: tuple[int, ...]) -> None:
        super().__init__()
        self.net = mlp(obs_size, hidden, 2 * action_size)

    def forward(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and log-std of the pre-tanh Gaussian."""
        mean, log_std = self.net(obs).chunk(2, dim=-1)
        log_std = LOG_STD_MIN + 0.5 * (LOG_STD_MAX - LOG_STD_MIN) * (torch.tanh(log_std) + 1.0)
        return mean, log_std

    def sample(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """A reparameterized action in [-1, 1] and its log-probability (tanh-corrected)."""
        mean, log_std = self(obs)
        std = log_std.exp()
        pre_tanh = mean + std * torch.randn_like(mean)
        action = torch.tanh(pre_tanh)
        log_prob = (-0.5 * ((pre_tanh - mean) / std) ** 2 - log_std - 0.5 * np.log(2 * np.pi)).sum(
            -1
        )
        # log(1 - tanh(u)^2) written stably as 2 (log 2 - u - softplus(-2u)).
        log_prob = log_prob - (2.0 * (np.log(2.0) - pre_tanh - F.softplus(-2.0 * pre_tanh))).sum(-1)
        return action, log_prob


class SACMLP:
    """Memoryless SAC behind the pomdpbench Agent protocol."""

    wants_privileged = False
    Config = SACConfig

    def __init__(self, ctx: AgentContext) -> None:
        self.cfg = build_config(SACConfig, ctx.config, "sac-mlp")
        self.device = torch.device(ctx.device)
        self.action_space = ctx.action_space
        self.action_space.seed(ctx.seed)
        obs_size = int(np.prod(ctx.observation_space.shape or (1,)))
        self.discrete = isinstance(ctx.action_space, spaces.Discrete)
        cfg = self.cfg
        if self.discrete:
            assert isinstance(ctx.action_space, spaces.Discrete)
            self.n_actions = int(ctx.action_space.n)
            self.actor: nn.Module = mlp(obs_size, cfg.hidden_sizes, self.n_actions)
            self.critic = ensemble_mlp(2, obs_size, cfg.hidden_sizes, self.n_actions)
            self.target_entropy = cfg.target_entropy_ratio * float(np.log(self.n_actions))
            stored_action_size = 1
        else:
            self.n_actions = int(np.prod(ctx.action_space.shape or (1,)))
            self.actor = GaussianActor(obs_size, self.n_actions, cfg.hidden_sizes)
            self.critic = ensemble_mlp(2, obs_size + self.n_actions, cfg.hidden_sizes, 1)
            self.target_entropy = -cfg.target_entropy_ratio * self.n_actions
            stored_action_size = self.n_actions
        self.actor.to(self.device)
        self.critic.to(self.device)
        self._gaussian = cast(GaussianActor, self.actor)  # typed view, used when continuous
        self.critic_target = copy.deepcopy(self.critic).requires_grad_(False)
        self.log_alpha = torch.tensor(
            np.log(cfg.initial_alpha), dtype=torch.float32, device=self.device, requires_grad=True
        )
        self.actor_opt = adam(self.actor.parameters(), lr=cfg.actor_lr)
        self.critic_opt = adam(self.critic.parameters(), lr=cfg.critic_lr)
        self.alpha_opt = adam([self.log_alpha], lr=cfg.alpha_lr)
        capacity = min(cfg.buffer_size, max(ctx.budget, 1))
        self.buffer = ReplayBuffer(capacity, obs_size, stored_action_size, seed=ctx.seed)
        self.steps = 0
        self.updates = 0

    # ------------------------------------------------------------------ acting
    def initial_state(self) -> None:
        """Memoryless: no state."""
        return None

    @torch.no_grad()
    def act(self, inp: AgentInput, state: None, deterministic: bool) -> tuple[Any, None]:
        """Uniform actions during warm-up, then the policy (its mode when deterministic)."""
        if not deterministic and self.steps < self.cfg.learning_starts:
            return self.action_space.sample(), None
        obs = torch.as_tensor(inp.obs, dtype=torch.float32, device=self.device).unsqueeze(0)
        if self.discrete:
            logits = self.actor(obs)[0]
            if deterministic:
                return int(logits.argmax()), None
            return int(torch.multinomial(logits.softmax(-1), 1)), None
        if deterministic:
            mean, _ = self.actor(obs)
            return torch.tanh(mean)[0].cpu().numpy(), None
        action, _ = self._gaussian.sample(obs)
        return action[0].cpu().numpy(), None

    def observe(self, transition: Transition) -> None:
        """Store the transition; only termination (not truncation) stops bootstrapping."""
        self.buffer.add(
            transition.obs, transition.action, transition.reward, transition.next_obs,
            transition.terminated,
        )  # fmt: skip
        self.steps += 1

    # ---------------------------------------------------------------- learning
    def update(self) -> dict[str, float]:
        """``updates_per_step`` gradient steps once warm-up is over."""
        if self.steps < self.cfg.learning_starts:
            return {}
        metrics: dict[str, float] = {}
        for _ in range(self.cfg.updates_per_step):
            losses = self._update_once()
            self.updates += 1
            if self.updates % self.cfg.metrics_every == 0:
                metrics = {name: float(value) for name, value in losses.items()}
        return metrics

    def _update_once(self) -> dict[str, torch.Tensor]:
        cfg = self.cfg
        batch = self.buffer.sample(cfg.batch_size, self.device)
        alpha = self.log_alpha.detach().exp()
        obs, next_obs = batch.obs, batch.next_obs

        # Critic: regress both heads on the clipped double-Q soft target.
        with torch.no_grad():
            if self.discrete:
                next_log_pi = F.log_softmax(self.actor(next_obs), dim=-1)
                next_q = self.critic_target(next_obs).min(0).values  # (B, |A|)
                next_v = (next_log_pi.exp() * (next_q - alpha * next_log_pi)).sum(-1)
            else:
                next_action, next_log_prob = self._gaussian.sample(next_obs)
                next_q = self.critic_target(torch.cat([next_obs, next_action], -1))
                next_v = next_q.min(0).values.squeeze(-1) - alpha * next_log_prob
            target = batch.reward + cfg.gamma * (1.0 - batch.done) * next_v
        if self.discrete:
            index = batch.action.long().expand(2, -1, -1)  # (2, B, 1)
            q = self.critic(obs).gather(-1, index).squeeze(-1)  # (2, B)
        else:
            q = self.critic(torch.cat([obs, batch.action], -1)).squeeze(-1)
        critic_loss = (q - target).pow(2).mean(-1).sum()
        self.critic_opt.zero_grad(set_to_none=True)
        critic_loss.backward()
        self.critic_opt.step()

        # Actor and temperature: the critic is frozen so no gradient is computed for it.
        self.critic.requires_grad_(False)
        if self.discrete:
            log_pi = F.log_softmax(self.actor(obs), dim=-1)
            pi = log_pi.exp()
            q_pi = self.critic(obs).min(0).values
            actor_loss = (pi * (alpha * log_pi - q_pi)).sum(-1).mean()
            entropy = -(pi * log_pi).sum(-1).mean()
        else:
            action, log_prob = self._gaussian.sample(obs)
            q_pi = self.critic(torch.cat([obs, action], -1)).min(0).values.squeeze(-1)
            actor_loss = (alpha * log_prob - q_pi).mean()
            entropy = -log_prob.mean()
        self.critic.requires_grad_(True)
        self.actor_opt.zero_grad(set_to_none=True)
        actor_loss.backward()
        self.actor_opt.step()
        if cfg.autotune_alpha:
            alpha_loss = self.log_alpha * (entropy.detach() - self.target_entropy)
            self.alpha_opt.zero_grad(set_to_none=True)
            alpha_loss.backward()
            self.alpha_opt.step()

        soft_update(self.critic_target, self.critic, cfg.tau)
        return {
            "critic_loss": critic_loss.detach(),
            "actor_loss": actor_loss.detach(),
            "alpha": alpha,
            "entropy": entropy.detach(),
        }

    # ------------------------------------------------------------ persistence
    def save(self, directory: Path) -> None:
        """Networks, optimizers, temperature, counters, the buffer and the action sampler."""
        directory.mkdir(parents=True, exist_ok=True)
        torch.save(
            {
                "config": asdict(self.cfg),
                "actor": self.actor.state_dict(),
                "critic": self.critic.state_dict(),
                "critic_target": self.critic_target.state_dict(),
                "log_alpha": self.log_alpha.detach().clone(),
                "actor_opt": self.actor_opt.state_dict(),
                "critic_opt": self.critic_opt.state_dict(),
                "alpha_opt": self.alpha_opt.state_dict(),
                "steps": self.steps,
                "updates": self.updates,
                "action_rng": self.action_space.np_random.bit_generator.state,
            },
            directory / "sac.pt",
        )
        self.buffer.save(directory / "buffer.npz")

    def load(self, directory: Path) -> None:
        """Read back what :meth:`save` wrote."""
        state = torch.load(directory / "sac.pt", map_location=self.device, weights_only=False)
        self.actor.load_state_dict(state["actor"])
        self.critic.load_state_dict(state["critic"])
        self.critic_target.load_state_dict(state["critic_target"])
        with torch.no_grad():
            self.log_alpha.copy_(state["log_alpha"])
        self.actor_opt.load_state_dict(state["actor_opt"])
        self.critic_opt.load_state_dict(state["critic_opt"])
        self.alpha_opt.load_state_dict(state["alpha_opt"])
        self.steps, self.updates = state["steps"], state["updates"]
        self.action_space.np_random.bit_generator.state = state["action_rng"]
        self.buffer.load(directory / "buffer.npz")
