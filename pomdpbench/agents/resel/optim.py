"""Context-encoder-specific learning rates: two AdamW parameter groups (RESeL Sec. 4.2).

The encoder stack (MLP, core, MLP) trains at ``encoder_lr``; everything else in the network
(pre-encoders, the observation and action maps, the policy or critic MLP) at ``lr``. AdamW with
weight decay 0 (``policy_l2_norm = value_l2_norm = 0`` in the RESeL code), no gradient
clipping, no schedule (reference/notes-resel-code.md §3).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch import nn

ENCODER_GROUP = "encoder"
OTHER_GROUP = "other"


def adamw(groups: list[dict[str, Any]], lr: float, weight_decay: float) -> torch.optim.Optimizer:
    """AdamW, fused where this torch has a fused kernel for the device (see ``nets.adam``)."""
    try:
        return torch.optim.AdamW(groups, lr=lr, weight_decay=weight_decay, fused=True)
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.AdamW(groups, lr=lr, weight_decay=weight_decay)


def two_rate_adamw(
    model: nn.Module, encoder_params: Iterable[nn.Parameter], lr: float, encoder_lr: float
) -> torch.optim.Optimizer:
    """AdamW over ``model`` with ``encoder_params`` at ``encoder_lr`` and the rest at ``lr``."""
    encoder = list(encoder_params)
    encoder_ids = {id(p) for p in encoder}
    other = [p for p in model.parameters() if id(p) not in encoder_ids]
    groups = [
        {"params": encoder, "lr": encoder_lr, "name": ENCODER_GROUP},
        {"params": other, "lr": lr, "name": OTHER_GROUP},
    ]
    return adamw(groups, lr=lr, weight_decay=0.0)
