"""PPO's learning step: from a full rollout to the clipped-surrogate minibatch epochs.

:mod:`~pomdpbench.agents.ppo.learner` is the agent as the harness sees it (config, acting,
collecting the rollout through ``observe``, checkpoints); this module is what its ``update``
does once the rollout is full, apart so the learner reads as the agent and this as the
algorithm: the rollout as one :class:`~pomdpbench.agents.ppo.models.Batch` (observations
standardized with the statistics that acted), the log-probability and entropy of the stored
samples (one Gaussian over [a, z'] for ``ppo-rs``), the targets (old log-probabilities,
values, GAE advantages normalized over the rollout, value targets), then ``epochs`` passes of
shuffled minibatches of :func:`~pomdpbench.agents.ppo.loss.clipped_losses`, and new
observation statistics for the next rollout.

:class:`PPOUpdate` is a mixin of :class:`~pomdpbench.agents.ppo.learner.PPO`: it uses the
learner's networks, optimizer, rollout and generator and adds no state of its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from pomdpbench.agents.grad_norm import gradient_norm
from pomdpbench.agents.memory.tanh_gaussian import gaussian_log_prob
from pomdpbench.agents.ppo.loss import Targets, clipped_losses
from pomdpbench.agents.ppo.models import Batch
from pomdpbench.agents.ppo.rollout import Rollout, RunningMeanStd, gae

if TYPE_CHECKING:
    from pomdpbench.agents.ppo.learner import PPOConfig


class PPOUpdate:
    """``update`` and what it needs, over the attributes :class:`PPO` builds."""

    cfg: PPOConfig
    device: torch.device
    discrete: bool
    n_actions: int
    model: Any
    optimizer: torch.optim.Optimizer
    rollout: Rollout
    obs_rms: RunningMeanStd
    prefix: np.ndarray
    prefix_valid: int
    generator: torch.Generator
    updates: int

    def normalize(self, obs: np.ndarray) -> np.ndarray:
        """The learner's standardization (acting uses it too): see ``PPO.normalize``."""
        raise NotImplementedError

    def _log_std(self) -> torch.Tensor:
        """The learner's clamped state-independent log-std: see ``PPO._log_std``."""
        raise NotImplementedError

    def _log_prob(
        self, head: torch.Tensor, z_mean: torch.Tensor | None, action: torch.Tensor, z: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Log-probability and entropy of the stored sample; rs adds the z' part (one Gaussian)."""
        log_std = self._log_std()
        if self.discrete:
            dist = torch.distributions.Categorical(logits=head)
            log_prob, entropy = dist.log_prob(action[:, 0].long()), dist.entropy()
            z_log_std = log_std
        else:
            a_log_std = log_std[: self.n_actions]
            log_prob = gaussian_log_prob(action, head, a_log_std)
            entropy = (a_log_std + 0.5 * np.log(2 * np.pi * np.e)).sum().expand(len(head))
            z_log_std = log_std[self.n_actions :]
        if z_mean is not None:
            log_prob = log_prob + gaussian_log_prob(z, z_mean, z_log_std)
            entropy = entropy + (z_log_std + 0.5 * np.log(2 * np.pi * np.e)).sum()
        return log_prob, entropy

    def _batch(self) -> Batch:
        r, n, dev = self.rollout, self.rollout.size, self.device

        def t(x: np.ndarray) -> torch.Tensor:
            return torch.as_tensor(x[:n], device=dev)

        return Batch(
            obs=t(self.normalize(r.obs[:n])),
            next_obs=t(self.normalize(r.next_obs[:n])),
            prev_action=t(r.prev_action),
            action_enc=t(r.action_enc),
            episode_start=r.episode_start[:n].copy(),
            state_in=t(r.state_in),
            state_next=t(r.state_next),
            prefix_valid=self.prefix_valid,
            prefix=torch.as_tensor(self.normalize(self.prefix), device=dev),
        )

    @torch.no_grad()
    def targets(self, prep: Any) -> Targets:
        """Old log-probabilities, values, GAE advantages and value targets of the rollout.

        The parameters that acted are still the current ones (they change only here), so the
        recomputed log-probabilities are those of acting and every ratio starts at 1.
        """
        cfg, r, n = self.cfg, self.rollout, self.rollout.size
        action = torch.as_tensor(r.action[:n], device=self.device)
        state_next = torch.as_tensor(r.state_next[:n], device=self.device)
        old_log_prob = torch.zeros(n, device=self.device)
        values = torch.zeros(n, device=self.device)
        units = self.model.units(prep)
        for start in range(0, units, 256):
            ev = self.model.evaluate(
                prep, torch.arange(start, min(start + 256, units), device=self.device)
            )
            lp, _ = self._log_prob(ev.head, ev.z_mean, action[ev.rows], state_next[ev.rows])
            old_log_prob[ev.rows], values[ev.rows] = lp, ev.value
        next_values = self.model.next_values(prep)
        adv_np, ret_np = gae(
            values.cpu().numpy(),
            next_values.cpu().numpy(),
            r.reward[:n],
            r.terminated[:n].astype(np.float32),
            r.cut_before(),
            cfg.gamma,
            cfg.gae_lambda,
        )
        advantages = torch.as_tensor(adv_np, device=self.device)
        if cfg.normalize_advantage:
            advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
        returns = torch.as_tensor(ret_np, device=self.device)
        return Targets(action, state_next, old_log_prob, values, next_values, advantages, returns)

    def update(self) -> dict[str, float]:
        """Once the rollout is full: GAE, then ``epochs`` passes of clipped-PPO minibatches."""
        if not self.rollout.full:
            return {}
        cfg = self.cfg
        prep = self.model.prepare(self._batch())
        tg = self.targets(prep)
        units = self.model.units(prep)
        # As many minibatches as the rollout has minibatch_size steps, whatever the units are
        # (steps, or ppo-gru's segments, which episode ends make shorter than sequence_length).
        minibatches = max(1, self.rollout.size // cfg.minibatch_size)
        per_batch = -(-units // minibatches)
        stats: dict[str, list[torch.Tensor]] = {}
        for _ in range(cfg.epochs):
            order = torch.randperm(units, generator=self.generator, device=self.device)
            for start in range(0, units, per_batch):
                ev = self.model.evaluate(prep, order[start : start + per_batch])
                rows = ev.rows
                log_prob, entropy = self._log_prob(
                    ev.head, ev.z_mean, tg.action[rows], tg.state_next[rows]
                )
                policy_loss, value_loss, info = clipped_losses(
                    log_prob,
                    tg.old_log_prob[rows],
                    tg.advantages[rows],
                    ev.value,
                    tg.values[rows],
                    tg.returns[rows],
                    cfg.clip_eps,
                    cfg.clip_value_loss,
                )
                loss = policy_loss + cfg.vf_coef * value_loss - cfg.ent_coef * entropy.mean()
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if cfg.max_grad_norm > 0:
                    params = [p for group in self.optimizer.param_groups for p in group["params"]]
                    info["grad_norm"] = nn.utils.clip_grad_norm_(params, cfg.max_grad_norm)
                else:  # the same pre-clipping norm, for the training-stability plots
                    info["grad_norm"] = torch.as_tensor(gradient_norm(self.optimizer) or 0.0)
                self.optimizer.step()
                info |= {
                    "policy_loss": policy_loss,
                    "value_loss": value_loss,
                    "entropy": entropy.mean(),
                }
                for name, value in info.items():  # read once per update: no sync per step
                    stats.setdefault(name, []).append(value.detach())
        # New statistics for the next rollout; the episode in progress carries on with them.
        n = self.rollout.size
        if cfg.normalize_obs:
            self.obs_rms.update(self.rollout.obs[:n].astype(np.float64))
        self.rollout.clear()
        self.updates += 1
        return {name: float(torch.stack(values).double().mean()) for name, values in stats.items()}
