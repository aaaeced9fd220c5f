"""Gradient norms for the training metrics that the evaluations store.

RESeL's Fig. 4 plots the norm of the policy gradient over training (before any rescaling), and
the leaderboard's "Training stability" section shows the same for every agent that reports it.
The norms are read at reporting time from the gradients the last backward pass left in each
optimizer's parameters (``zero_grad`` runs at the start of the next step, so they are still
there), so an agent pays for them once per ``metrics_every`` updates, not on every update.
"""

from __future__ import annotations

import torch


def gradient_norm(optimizer: torch.optim.Optimizer) -> float | None:
    """Euclidean norm of all gradients held by ``optimizer``'s parameters; None before any."""
    grads = [
        p.grad for group in optimizer.param_groups for p in group["params"] if p.grad is not None
    ]
    if not grads:
        return None
    return float(torch.nn.utils.get_total_norm(grads))


def gradient_norms(**optimizers: torch.optim.Optimizer) -> dict[str, float]:
    """``{"<name>_grad_norm": norm}`` for each optimizer that holds gradients."""
    norms = {name: gradient_norm(optimizer) for name, optimizer in optimizers.items()}
    return {f"{name}_grad_norm": norm for name, norm in norms.items() if norm is not None}
