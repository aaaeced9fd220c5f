"""Small network building blocks shared by the shipped agents.

:class:`EnsembleLinear` evaluates E independent linear layers in one batched matmul: twin
critics (SAC, TD3) and REDQ's critic ensembles run as one module, one forward for all members.
Measured for SAC's twin 256 x 256 critic, forward and backward at batch 256 on one core (CPU
time, best of 7 interleaved rounds): this batched matmul 3.21 ms, two separate ``nn.Linear``
critics 2.92 ms, ``torch.func.stack_module_state`` + ``vmap`` 3.96 ms; in the whole SAC update
the batched matmul and a loop of per-member matmuls came out level (11.32 and 11.46 ms), so
the batched form stays: one module, one call, no slower. (Measured again with the one-output
heads below: the whole update batched and looped level again, 9.33 and 9.52 ms, best of 20.)
Layers with one output per member are the exception (:func:`scalar_heads`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import torch
from torch import nn

from pomdpbench.agents import onednn


def hidden_activation(activation: type[nn.Module]) -> nn.Module:
    """The activation after a hidden layer; ReLU works in place.

    A hidden layer's output is used only by its activation, so ReLU may overwrite it: one
    fewer (batch x width) tensor allocated and written per layer, forward and backward give
    the same numbers. Measured: a 256 x 256 SAC update 11.32 -> 10.86 ms (4%), one core.
    """
    return nn.ReLU(inplace=True) if activation is nn.ReLU else activation()


def mlp(
    in_size: int,
    hidden: Sequence[int],
    out_size: int,
    activation: type[nn.Module] = nn.ReLU,
) -> nn.Sequential:
    """``Linear -> activation`` for each hidden width, then a linear output layer."""
    layers: list[nn.Module] = []
    width = in_size
    for size in hidden:
        layers += [Linear(width, size), hidden_activation(activation)]
        width = size
    layers.append(Linear(width, out_size))
    return nn.Sequential(*layers)


class Linear(nn.Linear):
    """``nn.Linear`` (same parameters, same state dict) whose large CPU products use oneDNN.

    See :mod:`pomdpbench.agents.onednn`: a 256 x 256 layer at batch 256 computes in half of
    MKL's time on an AMD CPU; small products (acting, one row) keep ``F.linear``.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x @ weight.T + bias`` over the last dimension of ``x``."""
        return onednn.linear(x, self.weight, self.bias)


class EnsembleLinear(nn.Module):
    """E linear layers applied to E batches at once: ``(E, B, in) -> (E, B, out)``.

    Initialized like ``nn.Linear`` (uniform in +-1/sqrt(in)) independently per member.
    """

    def __init__(self, ensemble: int, in_size: int, out_size: int) -> None:
        super().__init__()
        self.ensemble, self.in_size, self.out_size = ensemble, in_size, out_size
        bound = 1.0 / math.sqrt(in_size)
        self.weight = nn.Parameter(torch.empty(ensemble, in_size, out_size).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(ensemble, 1, out_size).uniform_(-bound, bound))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply member e to ``x[e]``; an input of shape (B, in) is shared by all members."""
        return _ensemble_linear(x, self.weight, self.bias)

    def members(self, indices: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Members ``indices`` alone: ``x`` is shared ``(B, in)`` or theirs ``(len, B, in)``."""
        return _ensemble_linear(x, self.weight[indices], self.bias[indices])

    def member(self, index: int, x: torch.Tensor) -> torch.Tensor:
        """Member ``index`` alone on a shared input ``(B, in) -> (B, out)``."""
        weight, bias = self.weight[index : index + 1], self.bias[index : index + 1]
        if onednn.members_fit(x, weight):
            return onednn.ensemble_products(x, weight, bias)[0]
        return torch.addmm(self.bias[index], x, self.weight[index])

    def extra_repr(self) -> str:
        """Shape summary shown by ``print(module)``."""
        return f"ensemble={self.ensemble}, in={self.in_size}, out={self.out_size}"


def _ensemble_linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """``x[e] @ weight[e] + bias[e]`` for every member e (``x`` shared when it is 2-D)."""
    if weight.shape[-1] == 1:
        return scalar_heads(x, weight, bias)
    if onednn.members_fit(x, weight):
        return onednn.ensemble_products(x, weight, bias)
    if x.dim() == 2:
        x = x.unsqueeze(0).expand(weight.shape[0], -1, -1)
    return torch.baddbmm(bias, x, weight)


SMALL_PRODUCT = 2**17
"""Input elements per member (512 KiB of float32) up to which :func:`scalar_heads` multiplies
and sums. Per member, not in all, so that a subset of an ensemble's members
(:func:`ensemble_members`) takes the same path, and gives the same bits, as the whole."""


def scalar_heads(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """E one-output linear layers (a critic's value heads), without MKL's batched product.

    MKL's batched matrix product is slow on this degenerate shape: a batch of matrix-vector
    products and, in the backward pass, of outer products, each several times a plain ``mm``.
    Small inputs are multiplied and summed: its (E, B, in) temporary stays in a core's cache.
    Larger ones go member by member through ``addmm`` (no temporary). Measured on one core,
    forward and backward: SAC's twin heads on a (2, 256, 256) input ``baddbmm`` 504 us,
    product and sum 136, per member 178; RESeL's eight heads on 2000 tokens 16.8, 9.1 (and
    16 MiB more peak memory) and 7.6 ms.
    """
    members = weight.shape[0]
    if x.shape[-2] * x.shape[-1] <= SMALL_PRODUCT:
        product = x.unsqueeze(0) if x.dim() == 2 else x
        return (product * weight.transpose(1, 2)).sum(-1, keepdim=True) + bias
    inputs = [x] * members if x.dim() == 2 else list(x.unbind(0))
    heads = zip(inputs, weight.unbind(0), bias.unbind(0), strict=True)
    return torch.stack([torch.addmm(b, member_x, w) for member_x, w, b in heads])


def ensemble_mlp(
    ensemble: int,
    in_size: int,
    hidden: Sequence[int],
    out_size: int,
    activation: type[nn.Module] = nn.ReLU,
) -> nn.Sequential:
    """An ensemble of E MLPs of the same shape, evaluated together."""
    layers: list[nn.Module] = []
    width = in_size
    for size in hidden:
        layers += [EnsembleLinear(ensemble, width, size), hidden_activation(activation)]
        width = size
    layers.append(EnsembleLinear(ensemble, width, out_size))
    return nn.Sequential(*layers)


def ensemble_member(net: nn.Module, index: int, x: torch.Tensor) -> torch.Tensor:
    """One member of an :func:`ensemble_mlp` on ``x`` ``(B, in)``, without running the others.

    TD3's actor ascends the first critic only: running both members and keeping one wasted a
    critic forward and, because a batched matmul's backward covers every member, a critic
    backward too. Measured: a td3-mlp update (batch 100, the actor every second one) 5.09 ->
    4.49 ms (12%), one core.
    """
    for layer in net.children():
        x = layer.member(index, x) if isinstance(layer, EnsembleLinear) else layer(x)
    return x


def ensemble_members(net: nn.Module, indices: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``net(x)[indices]`` for an ensemble MLP and ``x`` ``(B, in)``, without the other members.

    REDQ's target (RESeL) reads the minimum of 2 of the 8 target heads: running all 8 and
    keeping 2 did four times the target's work. Measured on one core at the paper's sizes, a
    whole RESeL update with the MLP encoder 575 -> 533 ms, with the GRU 1307 -> 1214 ms.
    """
    for layer in net.children():
        x = layer.members(indices, x) if isinstance(layer, EnsembleLinear) else layer(x)
    return x


@torch.no_grad()
def soft_update(target: nn.Module, online: nn.Module, tau: float) -> None:
    """``target <- (1 - tau) * target + tau * online`` for every parameter, in one fused call."""
    target_params: list[torch.Tensor] = list(target.parameters())
    online_params: list[torch.Tensor] = list(online.parameters())
    torch._foreach_lerp_(target_params, online_params, tau)


def adam(params: Iterable[Any], lr: float, eps: float = 1e-8) -> torch.optim.Optimizer:
    """Adam, fused where this torch has a fused kernel for the device.

    On a CPU the fused step is about 3x faster than the default for networks of this size
    (measured: 56 vs 168 microseconds for a 2 x 128 x 128 critic), which matters when one update
    runs per environment step. Older torch versions fall back to the default implementation.
    ``params`` may be parameter groups (dicts with their own ``lr``), as ``torch.optim`` takes.
    """
    params = list(params)
    try:
        return torch.optim.Adam(params, lr=lr, eps=eps, fused=True)
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.Adam(params, lr=lr, eps=eps)
