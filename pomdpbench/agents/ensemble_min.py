"""The minimum over a frozen critic ensemble, with a backward pass through the chosen member only.

SAC's actor ascends ``min(Q1(s, a), Q2(s, a))`` with the critics frozen: per sample, the
gradient with respect to the action comes from whichever critic is lower, and is exactly zero
through the other. Autograd still runs every member's backward pass over every row (a batched
matrix product covers all members), so half of that work multiplies zeros. Here each member's
backward pass runs only on the rows where it is the minimum: the same gradient with one
member's worth of matrix products instead of two, and no autograd graph in the forward pass.
Measured on one core (AMD EPYC), forward and backward of SAC's twin 256 x 256 critic for the
actor's loss at batch 256: see docs/agents.md ("What the updates do to be fast").

Only ensembles of :class:`~pomdpbench.agents.nets.EnsembleLinear` layers with ReLU between them
and one output per member (a continuous-action critic), frozen and fed one shared input, take
this path; anything else goes through autograd unchanged.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from pomdpbench.agents import onednn
from pomdpbench.agents.nets import EnsembleLinear


def min_over_members(net: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``net(x).min(0).values.squeeze(-1)``: ``x`` is ``(B, in)``, the result ``(B,)``."""
    layers = list(net.children())
    linear, between = layers[::2], layers[1::2]
    fits = (
        x.dim() == 2
        and len(layers) % 2 == 1
        and all(isinstance(layer, EnsembleLinear) for layer in linear)
        and all(isinstance(layer, nn.ReLU) for layer in between)
        and linear[-1].out_size == 1
        and not any(p.requires_grad for p in net.parameters())
    )
    if not fits:
        return net(x).min(0).values.squeeze(-1)
    weights = [layer.weight for layer in linear]
    biases = [layer.bias for layer in linear]
    result: torch.Tensor = _MinOverMembers.apply(x, weights, biases)
    return result


class _MinOverMembers(torch.autograd.Function):
    """Forward: every member on every row. Backward: each member on the rows it won."""

    @staticmethod
    def forward(
        ctx: Any, x: torch.Tensor, weights: list[torch.Tensor], biases: list[torch.Tensor]
    ) -> torch.Tensor:
        hidden = []  # each hidden layer's output after its ReLU, (E, B, H)
        h = x.unsqueeze(0).expand(weights[0].shape[0], -1, -1)
        for weight, bias in zip(weights[:-1], biases[:-1], strict=True):
            if onednn.members_fit(h, weight):
                h = onednn.ensemble_products(h, weight, bias).relu_()
            else:
                h = torch.baddbmm(bias, h, weight).relu_()
            hidden.append(h)
        q = (h * weights[-1].transpose(1, 2)).sum(-1) + biases[-1][:, :, 0]  # as scalar_heads
        values, winner = q.min(0)
        ctx.save_for_backward(winner, *hidden)
        ctx.weights = weights
        return values

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None, None]:
        winner, *hidden = ctx.saved_tensors
        weights: list[torch.Tensor] = ctx.weights
        grad_x = grad.new_zeros(grad.shape[0], weights[0].shape[1])
        for member in range(weights[0].shape[0]):
            rows = (winner == member).nonzero().squeeze(-1)
            if rows.numel() == 0:
                continue
            g = grad[rows, None] * weights[-1][member].transpose(0, 1)  # (n, H)
            for layer in range(len(hidden) - 1, -1, -1):
                kept = hidden[layer][member].index_select(0, rows)
                g = torch.ops.aten.threshold_backward(g, kept, 0.0)  # ReLU's backward
                g = onednn.addmm(None, g, weights[layer][member].transpose(0, 1))
            grad_x.index_copy_(0, rows, g)
        return grad_x, None, None
