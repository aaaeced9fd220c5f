"""TD3 with a memory part (Fujimoto et al. 2018, arXiv 1802.09477), continuous actions only.

A deterministic tanh actor, twin critics, clipped double-Q targets with target-policy
smoothing (noise 0.2 clipped to 0.5), delayed actor and target updates, Gaussian exploration
noise. The memory part (:mod:`pomdpbench.agents.memory`) gives the actor its input and the
critic its view.

With the ``rs`` part this is S2PG's TD3-RS (robfiras/s2pg ``rs/td3_rs.py``): the next internal
state z' is the part's GRU output, explored with ``z' = clip(z' + N(0, z_noise), -1, 1)``,
smoothed in the target with noise ``0.5 * z_noise`` clipped to ``1.25 * z_noise``; the actor
loss is ``-Q(s, z, pi_a, pi_z', a_prev)``, and on actor-update steps the deterministic z' is
written back into the replay (``new_state_update_tau``).

TD3 cannot act in a Discrete space: :meth:`TD3.check_task` refuses such a task before any run
starts and names the alternative.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from pomdpbench.agents.config import at_least, fraction
from pomdpbench.agents.memory.factory import MemoryName
from pomdpbench.agents.nets import adam, ensemble_member, ensemble_mlp, mlp, soft_update
from pomdpbench.agents.offpolicy import OffPolicyAgent
from pomdpbench.registry.specs import TaskSpec


@dataclass(frozen=True)
class TD3Config:
    """Hyperparameters; defaults are TD3's (Fujimoto et al. 2018, Sec. 6.1) unless noted."""

    hidden_sizes: tuple[int, ...] = field(default=(256, 256), metadata=at_least(1))
    actor_hidden_sizes: tuple[int, ...] | None = field(default=None, metadata=at_least(1))
    actor_lr: float = field(default=1e-3, metadata=at_least(0))
    critic_lr: float = field(default=1e-3, metadata=at_least(0))
    gamma: float = field(default=0.99, metadata=fraction())
    tau: float = field(default=0.005, metadata=fraction())
    batch_size: int = field(default=100, metadata=at_least(1))
    buffer_size: int = field(default=1_000_000, metadata=at_least(1))
    learning_starts: int = field(default=10000, metadata=at_least(0))
    """Uniform random actions and no updates before this many steps (S2PG initial replay)."""
    updates_per_step: int = field(default=1, metadata=at_least(0))
    exploration_noise: float = field(default=0.1, metadata=at_least(0))
    policy_noise: float = field(default=0.2, metadata=at_least(0))
    noise_clip: float = field(default=0.5, metadata=at_least(0))
    policy_delay: int = field(default=2, metadata=at_least(1))
    metrics_every: int = field(default=1000, metadata=at_least(1))
    privileged_critic: bool = False
    memory: MemoryName = "mlp"
    memory_length: int = field(default=1, metadata=at_least(1))
    gru_hidden: int = field(default=32, metadata=at_least(1))
    embedding: int = field(default=128, metadata=at_least(1))
    """GRU parts' observation and previous-action embedding (S2PG TD3: 128)."""
    action_embedding: int = field(default=16, metadata=at_least(1))
    reward_embedding: int = field(default=16, metadata=at_least(1))
    z_noise: float = field(default=0.01, metadata=at_least(0))
    """``rs``: exploration noise on z' (S2PG ``std_hidden``)."""
    new_state_update_tau: float = field(default=1.0, metadata=fraction())


class TD3(OffPolicyAgent):
    """TD3 behind the pomdpbench Agent protocol; the memory part comes from the config."""

    Config = TD3Config
    agent_id = "td3"
    cfg: TD3Config
    _last_actor_loss: torch.Tensor | None = None
    """The loss of the latest delayed actor step (reported by the updates between them)."""

    @classmethod
    def check_task(cls, task: TaskSpec) -> str | None:
        """TD3's actor is deterministic and continuous: refuse a Discrete action space."""
        if not task.action_space.startswith("Discrete"):
            return None
        return (
            f"{cls.agent_id} acts only in continuous (Box) action spaces and {task.id} has "
            f"{task.action_space} actions: run it on the credit-cont suite's -cont variant "
            "(e.g. KeyToDoor-60-cont-v0), or use a SAC agent (sac-mlp, sac-rs, ...)"
        )

    def _build(self) -> None:
        cfg, n, z = self.cfg, self.n_actions, self.memory.stochastic_state_size
        actor_hidden = (
            cfg.hidden_sizes if cfg.actor_hidden_sizes is None else cfg.actor_hidden_sizes
        )
        self.actor = mlp(self.memory.actor_input_size, actor_hidden, n).to(self.device)
        critic_in = self.memory.critic_input_size + z + n
        self.critic = ensemble_mlp(2, critic_in, cfg.hidden_sizes, 1).to(self.device)
        self.actor_target = mlp(self.memory.actor_input_size, actor_hidden, n).to(self.device)
        self.actor_target.load_state_dict(self.actor.state_dict())
        self.actor_target.requires_grad_(False)

    def _optimizers(self) -> None:
        cfg = self.cfg
        self.actor_opt = adam([*self.actor.parameters(), *self.memory.parameters()], cfg.actor_lr)
        critic_params = [*self.critic.parameters(), *self.critic_encoder.parameters()]
        self.critic_opt = adam(critic_params, cfg.critic_lr)

    def _choose(
        self, x: torch.Tensor, z_mean: torch.Tensor | None, deterministic: bool, explore: bool
    ) -> tuple[Any, np.ndarray | None]:
        """The actor's action plus Gaussian noise (none when deterministic), clipped."""
        action = torch.tanh(self.actor(x)[0])
        z = None if z_mean is None else z_mean[0]
        if not deterministic:
            noise = torch.randn_like(action) * self.cfg.exploration_noise
            action = (action + noise).clamp(-1.0, 1.0)
            if z is not None:
                z = (z + torch.randn_like(z) * self.cfg.z_noise).clamp(-1.0, 1.0)
        return action.cpu().numpy(), None if z is None else z.cpu().numpy()

    def _update_once(self) -> dict[str, torch.Tensor]:
        cfg = self.cfg
        mb = self.memory.batch(self.buffer, cfg.batch_size)
        c, _ = self.critic_encoder(mb.critic_source)

        # Critic: clipped double-Q target with target-policy smoothing.
        with torch.no_grad():
            _, next_c = self.critic_encoder_target(mb.critic_source)
            next_a = torch.tanh(self.actor_target(mb.next_x))
            noise = (torch.randn_like(next_a) * cfg.policy_noise).clamp(
                -cfg.noise_clip, cfg.noise_clip
            )
            next_a = (next_a + noise).clamp(-1.0, 1.0)
            if mb.next_z_mean is not None:
                z_noise = torch.randn_like(mb.next_z_mean) * 0.5 * cfg.z_noise
                z_noise = z_noise.clamp(-1.25 * cfg.z_noise, 1.25 * cfg.z_noise)
                next_c = torch.cat([next_c, (mb.next_z_mean + z_noise).clamp(-1.0, 1.0)], -1)
            next_q = self.critic_target(torch.cat([next_c, next_a], -1)).min(0).values.squeeze(-1)
            target = mb.reward + cfg.gamma * (1.0 - mb.done) * next_q
        c_taken = c if mb.z_taken is None else torch.cat([c, mb.z_taken], -1)
        q = self.critic(torch.cat([c_taken, mb.action], -1)).squeeze(-1)
        critic_loss = (q - target).pow(2).mean(-1).sum()
        self.critic_opt.zero_grad(set_to_none=True)
        critic_loss.backward()
        self.critic_opt.step()
        metrics = {"critic_loss": critic_loss.detach()}
        if self.updates % cfg.policy_delay:
            # No actor step this time: report the latest one's loss, or a metrics_every that
            # the delay divides (the default 1000 and 2) would never show an actor loss.
            if self._last_actor_loss is not None:
                metrics["actor_loss"] = self._last_actor_loss
            return metrics

        # Delayed actor: ascend the first critic; then the targets follow.
        self.critic.requires_grad_(False)
        c_pi = c.detach() if mb.z_mean is None else torch.cat([c.detach(), mb.z_mean], -1)
        q_pi = ensemble_member(self.critic, 0, torch.cat([c_pi, torch.tanh(self.actor(mb.x))], -1))
        actor_loss = -q_pi.mean()
        self.critic.requires_grad_(True)
        self.actor_opt.zero_grad(set_to_none=True)
        actor_loss.backward()
        self.actor_opt.step()
        if mb.z_mean is not None and mb.steps is not None:
            fresh = mb.z_mean.detach().cpu().numpy()
            self.buffer.refresh_next_state(mb.steps, fresh, cfg.new_state_update_tau)
        self._soft_update_targets()
        soft_update(self.actor_target, self.actor, cfg.tau)
        metrics["actor_loss"] = self._last_actor_loss = actor_loss.detach()
        return metrics

    def _modules(self) -> dict[str, Any]:
        return {
            "memory": self.memory,
            "actor": self.actor,
            "actor_target": self.actor_target,
            "critic": self.critic,
            "critic_target": self.critic_target,
            "critic_encoder": self.critic_encoder,
            "critic_encoder_target": self.critic_encoder_target,
            "actor_opt": self.actor_opt,
            "critic_opt": self.critic_opt,
        }
