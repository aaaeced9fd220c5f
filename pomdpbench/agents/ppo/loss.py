"""PPO's objective (Schulman et al. 2017, arXiv 1707.06347), apart so it is checkable by hand.

:func:`clipped_losses` is the clipped surrogate and the value error of one minibatch;
:class:`Targets` is what one update learns towards (see ``PPO.targets``).
"""

from __future__ import annotations

from typing import NamedTuple

import torch


class Targets(NamedTuple):
    """What one update learns towards, one entry per rollout step."""

    action: torch.Tensor
    state_next: torch.Tensor
    old_log_prob: torch.Tensor
    values: torch.Tensor
    next_values: torch.Tensor
    advantages: torch.Tensor
    returns: torch.Tensor


def clipped_losses(
    log_prob: torch.Tensor,
    old_log_prob: torch.Tensor,
    advantages: torch.Tensor,
    value: torch.Tensor,
    old_value: torch.Tensor,
    returns: torch.Tensor,
    clip_eps: float,
    clip_value: bool,
) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
    """PPO's clipped surrogate and the mean squared value error.

    The surrogate is ``-mean(min(rho A, clip(rho, 1-eps, 1+eps) A))``; with ``clip_value`` the
    value error is ikostrikov's ``max`` of the plain and the clipped-change errors.
    """
    log_ratio = log_prob - old_log_prob
    ratio = log_ratio.exp()
    clipped = ratio.clamp(1.0 - clip_eps, 1.0 + clip_eps)
    policy_loss = -torch.min(ratio * advantages, clipped * advantages).mean()
    value_error = (value - returns).pow(2)
    if clip_value:
        value_clipped = old_value + (value - old_value).clamp(-clip_eps, clip_eps)
        value_error = torch.max(value_error, (value_clipped - returns).pow(2))
    with torch.no_grad():
        info = {
            "approx_kl": ((ratio - 1) - log_ratio).mean(),  # Schulman's k3 estimator
            "clip_fraction": ((ratio - 1).abs() > clip_eps).float().mean(),
        }
    return policy_loss, value_error.mean(), info
