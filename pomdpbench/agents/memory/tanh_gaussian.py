"""Tanh-squashed diagonal Gaussians, alone or joint over several parts.

S2PG's SAC-RS policy (robfiras/s2pg ``SACRecurrentPolicy``) draws one diagonal Gaussian over
the concatenation (action, next internal state z'), squashes every coordinate with tanh and
computes the log-probability *separately* for the action part and the z' part, each with its
own tanh correction, so each part gets its own temperature (target entropies -|A| and -|z|).
A diagonal Gaussian over a concatenation is the product of Gaussians over the parts, so
:func:`sample_joint` samples each part independently and returns one log-probability per part;
their sum is the joint log-probability.

The correction is ``log |d tanh(u)/du| = log(1 - tanh(u)^2)``, written stably as
``2 (log 2 - u - softplus(-2u))`` (the form CleanRL and Stable-Baselines3 use).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import torch
import torch.nn.functional as F

LOG_STD_MIN, LOG_STD_MAX = -5.0, 2.0
"""Bounds of :func:`squash_log_std` (CleanRL ``sac_continuous_action.py``)."""
HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


class Squashed(NamedTuple):
    """A reparameterized sample in (-1, 1) and its log-probability (summed over the last axis)."""

    value: torch.Tensor
    log_prob: torch.Tensor


def squash_log_std(raw: torch.Tensor) -> torch.Tensor:
    """Map an unbounded network output smoothly into [LOG_STD_MIN, LOG_STD_MAX]."""
    return LOG_STD_MIN + 0.5 * (LOG_STD_MAX - LOG_STD_MIN) * (torch.tanh(raw) + 1.0)


def tanh_log_prob(
    pre_tanh: torch.Tensor,
    mean: torch.Tensor,
    log_std: torch.Tensor,
    std: torch.Tensor | None = None,
) -> torch.Tensor:
    """``log p(tanh(u))`` for ``u ~ N(mean, exp(log_std)^2)``, summed over the last axis.

    ``std`` may pass ``exp(log_std)`` already computed (one graph node, as the sampler has it).
    """
    std = log_std.exp() if std is None else std
    gaussian = -0.5 * ((pre_tanh - mean) / std) ** 2 - log_std - 0.5 * math.log(2 * math.pi)
    correction = 2.0 * (math.log(2.0) - pre_tanh - F.softplus(-2.0 * pre_tanh))
    return gaussian.sum(-1) - correction.sum(-1)


def sample_tanh_gaussian(mean: torch.Tensor, log_std: torch.Tensor) -> Squashed:
    """A reparameterized ``tanh(mean + std * eps)`` and its tanh-corrected log-probability.

    The Gaussian term is written with the drawn noise: ``((u - mean) / std)^2`` is ``eps^2``,
    so the term is ``-eps^2 / 2 - log_std - log(2 pi) / 2`` and its gradient is ``-1`` for
    ``log_std`` and 0 for ``mean``, exactly (autograd through :func:`tanh_log_prob`'s general
    form gets the same to rounding, through four more operations each way). Measured on one
    core, draw and gradient at batch 256: see docs/agents.md ("What the updates do").
    """
    std = log_std.exp()
    eps = torch.randn_like(mean)
    pre_tanh = mean + std * eps
    gaussian = (-0.5 * eps.square() - log_std).sum(-1) - HALF_LOG_2PI * mean.shape[-1]
    correction = 2.0 * (math.log(2.0) - pre_tanh - F.softplus(-2.0 * pre_tanh))
    return Squashed(torch.tanh(pre_tanh), gaussian - correction.sum(-1))


def sample_joint(parts: Sequence[tuple[torch.Tensor, torch.Tensor]]) -> list[Squashed]:
    """Sample a joint diagonal tanh-Gaussian given as ``[(mean, log_std), ...]`` per part.

    Returns one :class:`Squashed` per part, in order; each log-probability carries only its
    own part's tanh correction, and their sum is the joint log-probability.
    """
    return [sample_tanh_gaussian(mean, log_std) for mean, log_std in parts]


def squashed_log_prob(
    value: torch.Tensor, mean: torch.Tensor, log_std: torch.Tensor, eps: float = 1e-6
) -> torch.Tensor:
    """Log-probability of a stored squashed ``value`` in (-1, 1).

    For an on-policy ratio's old sample: through ``atanh`` of the value clipped ``eps``
    inside the bounds.
    """
    clipped = value.clamp(-1.0 + eps, 1.0 - eps)
    return tanh_log_prob(torch.atanh(clipped), mean, log_std)


def gaussian_log_prob(
    value: torch.Tensor, mean: torch.Tensor, log_std: torch.Tensor
) -> torch.Tensor:
    """Unsquashed diagonal Gaussian log-density summed over the last axis.

    PPO-RS's single Gaussian over [a, z'], whose z' is neither clipped nor squashed.
    """
    return (
        -0.5 * ((value - mean) / log_std.exp()) ** 2 - log_std - 0.5 * math.log(2 * math.pi)
    ).sum(-1)
