"""SAC with a memory part: continuous (tanh-Gaussian) and discrete (SAC-Discrete) actions.

Continuous actions follow SAC (Haarnoja et al. 2018, arXiv 1812.05905): a tanh-squashed
Gaussian policy, twin critics with a clipped double-Q target, automatic entropy tuning to
``-ratio * |A|``. Discrete actions follow SAC-Discrete (Christodoulou 2019, arXiv 1910.07207),
as pomdp-baselines' ``sacd``: a categorical policy, critics with one value per action,
expectations over actions instead of samples, target entropy ``ratio * log|A|``.

The memory part (:mod:`pomdpbench.agents.memory`) gives the actor its input and the critic its
view. With the ``rs`` part the policy also draws the next internal state z' from a
tanh-Gaussian around the part's GRU output, S2PG's SAC-RS (robfiras/s2pg ``rs/sac_rs.py``):
the critic reads (s, z, a_prev) and (a, z'), z' has its own temperature ``alpha_z`` with target
entropy ``-|z|``, the TD target subtracts only ``alpha * log pi(a')`` (the launchers'
``add_hidden_entropy=False``), and after each actor update the drawn z' is written back into
the replay (``new_state_update_tau``).

Time-limit truncations bootstrap; only ``terminated`` stops the target.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from pomdpbench.agents.config import at_least, fraction, positive
from pomdpbench.agents.ensemble_min import min_over_members
from pomdpbench.agents.memory.factory import MemoryName
from pomdpbench.agents.memory.tanh_gaussian import sample_tanh_gaussian, squash_log_std
from pomdpbench.agents.nets import adam, ensemble_mlp, mlp
from pomdpbench.agents.offpolicy import OffPolicyAgent, Scalar, descend_together


@dataclass(frozen=True)
class SACConfig:
    """Hyperparameters; defaults are SAC's (Haarnoja et al. 2018, Table 1) unless noted.

    Learning rates may be 0 (a frozen network: the learners' tests use it); below 0 is refused.
    """

    hidden_sizes: tuple[int, ...] = field(default=(256, 256), metadata=at_least(1))
    """Critic MLP (and the actor head unless ``actor_hidden_sizes`` is given)."""
    actor_hidden_sizes: tuple[int, ...] | None = field(default=None, metadata=at_least(1))
    actor_lr: float = field(default=3e-4, metadata=at_least(0))
    critic_lr: float = field(default=3e-4, metadata=at_least(0))
    alpha_lr: float = field(default=3e-4, metadata=at_least(0))
    gamma: float = field(default=0.99, metadata=fraction())
    tau: float = field(default=0.005, metadata=fraction())
    """Target smoothing: target <- (1 - tau) target + tau online."""
    batch_size: int = field(default=256, metadata=at_least(1))
    buffer_size: int = field(default=1_000_000, metadata=at_least(1))
    learning_starts: int = field(default=5000, metadata=at_least(0))
    """Uniform random actions and no updates before this many steps (CleanRL's default)."""
    actor_warmup: int = field(default=0, metadata=at_least(0))
    """No actor update before this many steps (S2PG's ``warmup_transitions``)."""
    updates_per_step: int = field(default=1, metadata=at_least(0))
    initial_alpha: float = field(default=1.0, metadata=positive())
    autotune_alpha: bool = True
    target_entropy_ratio: float = field(default=1.0, metadata=at_least(0))
    """Continuous: target entropy -ratio*|A|. Discrete: ratio*log|A| (pomdp-baselines uses 0.7)."""
    metrics_every: int = field(default=1000, metadata=at_least(1))
    """Report losses every this many updates (reading them costs a sync on a GPU)."""
    privileged_critic: bool = False
    """Critic reads info["state"] on tasks that expose one (S2PG's privileged critic)."""
    memory: MemoryName = "mlp"
    memory_length: int = field(default=1, metadata=at_least(1))
    """L of ``window-L`` and ``bptt-L``; the segment length of ``gru-seq``."""
    gru_hidden: int = field(default=32, metadata=at_least(1))
    """GRU width; for ``rs`` the size of z (S2PG: 32)."""
    embedding: int = field(default=256, metadata=at_least(1))
    """Observation (and previous-action) embedding of the GRU parts (S2PG SAC: 256)."""
    action_embedding: int = field(default=16, metadata=at_least(1))
    reward_embedding: int = field(default=16, metadata=at_least(1))
    """``gru-seq`` only: previous action and reward embeddings (pomdp-baselines: 16 and 16)."""
    initial_alpha_z: float = field(default=0.01, metadata=positive())
    alpha_z_lr: float = field(default=3e-4, metadata=at_least(0))
    new_state_update_tau: float = field(default=1.0, metadata=fraction())
    """``rs``: blend of the refreshed z' into the replay (S2PG launchers: 1.0)."""


class SAC(OffPolicyAgent):
    """SAC behind the pomdpbench Agent protocol; the memory part comes from the config."""

    Config = SACConfig
    agent_id = "sac"
    cfg: SACConfig

    def _build(self) -> None:
        cfg, n, z = self.cfg, self.n_actions, self.memory.stochastic_state_size
        actor_hidden = (
            cfg.hidden_sizes if cfg.actor_hidden_sizes is None else cfg.actor_hidden_sizes
        )
        critic_in = self.memory.critic_input_size + z
        if self.discrete:  # logits, then log-std of z'
            self.actor = mlp(self.memory.actor_input_size, actor_hidden, n + z).to(self.device)
            self.critic = ensemble_mlp(2, critic_in, cfg.hidden_sizes, n).to(self.device)
            self.target_entropy = cfg.target_entropy_ratio * float(np.log(n))
        else:  # mean and log-std of the action, then log-std of z'
            self.actor = mlp(self.memory.actor_input_size, actor_hidden, 2 * n + z).to(self.device)
            self.critic = ensemble_mlp(2, critic_in + n, cfg.hidden_sizes, 1).to(self.device)
            self.target_entropy = -cfg.target_entropy_ratio * n
        self.target_entropy_z = -float(z)  # S2PG: -|z|
        self.log_alpha = Scalar(float(np.log(cfg.initial_alpha)), self.device)
        self.log_alpha_z = Scalar(float(np.log(cfg.initial_alpha_z)), self.device)

    def _optimizers(self) -> None:
        cfg = self.cfg
        self.actor_opt = adam([*self.actor.parameters(), *self.memory.parameters()], cfg.actor_lr)
        critic_params = [*self.critic.parameters(), *self.critic_encoder.parameters()]
        self.critic_opt = adam(critic_params, cfg.critic_lr)
        self.alpha_opt = adam(self.log_alpha.parameters(), cfg.alpha_lr)
        self.alpha_z_opt = adam(self.log_alpha_z.parameters(), cfg.alpha_z_lr)

    # ---------------------------------------------------------------- policy
    def _policy(
        self, x: torch.Tensor, z_mean: torch.Tensor | None
    ) -> tuple[Any, Any, torch.Tensor | None, torch.Tensor | None]:
        """Action draw, its log-prob (per action if discrete), z' draw and its log-prob."""
        out = self.actor(x)
        n = self.n_actions
        if self.discrete:
            head, rest = out[..., :n], out[..., n:]
            action: Any = F.log_softmax(head, -1)  # log pi over all actions
            log_prob: Any = None
        else:
            mean, log_std = out[..., :n], squash_log_std(out[..., n : 2 * n])
            action, log_prob = sample_tanh_gaussian(mean, log_std)
            rest = out[..., 2 * n :]
        if z_mean is None:
            return action, log_prob, None, None
        z, log_prob_z = sample_tanh_gaussian(z_mean, squash_log_std(rest))
        return action, log_prob, z, log_prob_z

    def _choose(
        self, x: torch.Tensor, z_mean: torch.Tensor | None, deterministic: bool, explore: bool
    ) -> tuple[Any, np.ndarray | None]:
        """Sample (or the mode when deterministic: tanh of the means, argmax of the logits)."""
        n = self.n_actions
        if deterministic:
            out = self.actor(x)[0]
            z = None if z_mean is None else torch.tanh(z_mean[0]).cpu().numpy()
            if self.discrete:
                return int(out[:n].argmax()), z
            return torch.tanh(out[:n]).cpu().numpy(), z
        action, _, z_draw, _ = self._policy(x, z_mean)
        z = None if z_draw is None else z_draw[0].cpu().numpy()
        if self.discrete:
            return int(torch.multinomial(action[0].exp(), 1)), z
        return action[0].cpu().numpy(), z

    # ---------------------------------------------------------------- learning
    def _update_once(self) -> dict[str, torch.Tensor]:
        cfg = self.cfg
        mb = self.memory.batch(self.buffer, cfg.batch_size)
        alpha = self.log_alpha.value.detach().exp()
        c, _ = self.critic_encoder(mb.critic_source)

        # Critic: regress both heads on the clipped double-Q soft target.
        with torch.no_grad():
            _, next_c = self.critic_encoder_target(mb.critic_source)
            next_a, next_log_prob, next_z, _ = self._policy(mb.next_x, mb.next_z_mean)
            if next_z is not None:
                next_c = torch.cat([next_c, next_z], -1)
            if self.discrete:
                next_q = self.critic_target(next_c).min(0).values  # (N, |A|)
                next_v = (next_a.exp() * (next_q - alpha * next_a)).sum(-1)
            else:
                next_q = self.critic_target(torch.cat([next_c, next_a], -1))
                next_v = next_q.min(0).values.squeeze(-1) - alpha * next_log_prob
            target = mb.reward + cfg.gamma * (1.0 - mb.done) * next_v
        c_taken = c if mb.z_taken is None else torch.cat([c, mb.z_taken], -1)
        if self.discrete:
            index = mb.action.long().expand(2, -1, -1)  # (2, N, 1)
            q = self.critic(c_taken).gather(-1, index).squeeze(-1)  # (2, N)
        else:
            q = self.critic(torch.cat([c_taken, mb.action], -1)).squeeze(-1)
        critic_loss = (q - target).pow(2).mean(-1).sum()
        self.critic_opt.zero_grad(set_to_none=True)
        critic_loss.backward()
        self.critic_opt.step()
        metrics = {"critic_loss": critic_loss.detach(), "alpha": alpha}
        if self.steps < cfg.actor_warmup:
            self._soft_update_targets()
            return metrics

        # Actor and temperatures: the critic is frozen so no gradient is computed for it.
        self.critic.requires_grad_(False)
        action, log_prob, z, log_prob_z = self._policy(mb.x, mb.z_mean)
        c_pi = c.detach() if z is None else torch.cat([c.detach(), z], -1)
        if self.discrete:
            pi = action.exp()
            q_pi = self.critic(c_pi).min(0).values
            actor_loss = (pi * (alpha * action - q_pi)).sum(-1).mean()
            entropy = -(pi * action).sum(-1).mean()
        else:
            q_pi = min_over_members(self.critic, torch.cat([c_pi, action], -1))
            actor_loss = (alpha * log_prob - q_pi).mean()
            entropy = -log_prob.mean()
        if log_prob_z is not None:
            alpha_z = self.log_alpha_z.value.detach().exp()
            actor_loss = actor_loss + (alpha_z * log_prob_z).mean()
        self.critic.requires_grad_(True)
        steps = [(actor_loss, self.actor_opt)]
        if cfg.autotune_alpha:
            alpha_loss = self.log_alpha.value * (entropy.detach() - self.target_entropy)
            steps.append((alpha_loss, self.alpha_opt))
        if z is not None and log_prob_z is not None:
            entropy_z = -log_prob_z.detach().mean()
            alpha_z_loss = self.log_alpha_z.value * (entropy_z - self.target_entropy_z)
            steps.append((alpha_z_loss, self.alpha_z_opt))
            metrics.update(alpha_z=alpha_z, entropy_z=entropy_z)
        descend_together(steps)
        if z is not None:
            assert mb.steps is not None
            fresh = z.detach().cpu().numpy()
            self.buffer.refresh_next_state(mb.steps, fresh, cfg.new_state_update_tau)

        self._soft_update_targets()
        metrics.update(actor_loss=actor_loss.detach(), entropy=entropy.detach())
        return metrics

    def _modules(self) -> dict[str, Any]:
        return {
            "memory": self.memory,
            "actor": self.actor,
            "critic": self.critic,
            "critic_target": self.critic_target,
            "critic_encoder": self.critic_encoder,
            "critic_encoder_target": self.critic_encoder_target,
            "log_alpha": self.log_alpha,
            "log_alpha_z": self.log_alpha_z,
            "actor_opt": self.actor_opt,
            "critic_opt": self.critic_opt,
            "alpha_opt": self.alpha_opt,
            "alpha_z_opt": self.alpha_z_opt,
        }
