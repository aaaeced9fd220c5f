"""The Mamba block's depthwise causal convolution, compiled on a CPU, else in plain PyTorch.

:func:`causal_conv` runs ``conv_forward``/``conv_backward`` of ``mamba_kernels.c`` where the
compiled scan runs (the same checks, logged reasons and ``POMDPBENCH_SCAN=torch`` switch:
:func:`.compiled_scan.kernel_for`), else :func:`torch_causal_conv`. Why: the PyTorch form's
backward pass goes through one ``addcmul`` and one slice per tap, and each slice's backward
writes a zero-padded copy of the whole input (8 of 4 MiB at the paper's sizes), which cost
27 ms a backward pass there against a few ms for one pass over the data.
"""

from __future__ import annotations

import ctypes
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from pomdpbench.agents.resel.encoders.compiled_scan import kernel_for


def torch_causal_conv(x: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
    """Depthwise causal convolution along time as ``width`` shifted multiply-adds.

    ``x`` is ``(batch, length, dim)``, ``weight`` ``(dim, width)``, ``bias`` ``(dim,)``.
    ``F.conv1d`` computes the same, but its depthwise CPU kernel was 10-50x slower here on
    these shapes, and this form needs no transposes.
    """
    length, width = x.shape[1], weight.shape[1]
    padded = F.pad(x, (0, 0, width - 1, 0))
    out = torch.addcmul(bias, padded[:, :length], weight[:, 0])
    for j in range(1, width):
        out = out.addcmul(padded[:, j : j + length], weight[:, j])
    return out


def causal_conv(x: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
    """:func:`torch_causal_conv`'s result, from the compiled kernel where it can run."""
    library = kernel_for(x)
    if library is None:
        return torch_causal_conv(x, weight, bias)
    if torch.is_grad_enabled() and any(t.requires_grad for t in (x, weight, bias)):
        out: Tensor = _CompiledConv.apply(x, weight, bias, library)
        return out
    return _forward(library, x, weight, bias)


def _name(base: str, dtype: torch.dtype) -> str:
    return f"{base}_{str(dtype).removeprefix('torch.')}"


def _forward(library: ctypes.CDLL, x: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
    x = x.detach().contiguous()
    taps = weight.detach().to(x.dtype).t().contiguous()  # (width, dim): a tap's row is contiguous
    bias = bias.detach().to(x.dtype).contiguous()
    out = torch.empty_like(x)
    batch, length, dim = x.shape
    function = getattr(library, _name("conv_forward", x.dtype))
    function(
        batch,
        length,
        dim,
        taps.shape[0],
        x.data_ptr(),
        taps.data_ptr(),
        bias.data_ptr(),
        out.data_ptr(),
    )
    return out


class _CompiledConv(torch.autograd.Function):
    """Autograd for the compiled convolution: saves the input and the weights."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, weight: Tensor, bias: Tensor, library: ctypes.CDLL) -> Tensor:
        ctx.library = library
        ctx.save_for_backward(x, weight)
        return _forward(library, x, weight, bias)

    @staticmethod
    def backward(ctx: Any, grad_out: Tensor) -> tuple[Tensor | None, ...]:
        x, weight = ctx.saved_tensors
        x = x.contiguous()
        grad_out = grad_out.to(x.dtype).contiguous()
        taps = weight.detach().to(x.dtype).t().contiguous()
        grad_x = torch.empty_like(x)
        grad_taps = torch.zeros_like(taps)
        grad_bias = x.new_zeros(x.shape[2])
        batch, length, dim = x.shape
        function = getattr(ctx.library, _name("conv_backward", x.dtype))
        pointers = [t.data_ptr() for t in (x, taps, grad_out, grad_x, grad_taps, grad_bias)]
        function(batch, length, dim, taps.shape[0], *pointers)
        grad_weight = grad_taps.t().to(weight.dtype)
        return grad_x, grad_weight, grad_bias.to(weight.dtype), None
