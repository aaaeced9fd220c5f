"""The selective scan on a CPU through a compiled C kernel, else the pure-PyTorch scan.

:func:`selective_scan` takes and returns what :func:`.scan.selective_scan` does (softplus of
``dt``, skip ``D`` and gate ``silu(z)`` folded in, reset flags ``keep``) and gives the same
values and gradients up to float rounding. On CPU tensors of float32 or float64 it runs
``mamba_kernels.c`` (built on first use, :mod:`.kernel_build`): per row and channel the state
stays in a local array while time is walked, so the state of every token is computed once in
cache instead of streamed through memory in chunks, and the backward pass recomputes a channel's
states and decays into ``(length, d_state)`` scratch arrays. The skip and gate and the
derivatives of gate and softplus are vectorized passes of the same file; the softplus itself is
PyTorch's. The C file's header describes the kernels.

The pure-PyTorch scan runs instead, after one logged line that says why, when the tensors are
not on the CPU or not float32/float64, when no compiler is found or the build fails, or when
``POMDPBENCH_SCAN=torch`` is set (for comparisons: ``benchmarks/resel_update.py``'s
``mamba-torch`` row). Each reason is logged once per process. The same choice governs the
block's compiled convolution (``compiled_conv.py``).
"""

from __future__ import annotations

import ctypes
import logging
import os
from functools import cache
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from pomdpbench.agents.resel.encoders import scan as torch_scan
from pomdpbench.agents.resel.encoders.kernel_build import load_kernel

ENV = "POMDPBENCH_SCAN"
"""``torch``: always the pure-PyTorch scan; unset or ``auto``: the compiled one where it can."""
LOG = logging.getLogger(__name__)


@cache
def _note(reason: str) -> None:
    LOG.warning("pomdpbench: the Mamba block runs without its compiled CPU kernels: %s", reason)


def kernel_for(u: Tensor) -> ctypes.CDLL | None:
    """The compiled library if it can run a scan on tensors like ``u``, else None (logged)."""
    choice = os.environ.get(ENV, "auto").strip().lower()
    if choice == "torch":
        _note(f"{ENV}=torch is set")
        return None
    if choice not in ("auto", ""):
        _note(f"{ENV}={choice!r} is not 'auto' or 'torch' (unset it to use the compiled scan)")
        return None
    if u.device.type != "cpu":
        _note(f"the tensors are on {u.device.type}, the compiled scan is for the CPU")
        return None
    if u.dtype not in (torch.float32, torch.float64):
        _note(f"the compiled scan takes float32 or float64, not {u.dtype}")
        return None
    library, reason = load_kernel()
    if library is None:
        _note(reason)
    return library


def selective_scan(
    u: Tensor, dt: Tensor, A: Tensor, B: Tensor, C: Tensor, D: Tensor, z: Tensor, keep: Tensor
) -> Tensor:
    """:func:`.scan.selective_scan`'s result, from the compiled kernel where it can run."""
    library = kernel_for(u)
    if library is None:
        return torch_scan.selective_scan(u, dt, A, B, C, D, z, keep)
    inputs = (u, dt, A, B, C, D, z)
    if torch.is_grad_enabled() and any(t.requires_grad for t in inputs):
        out: Tensor = _CompiledScan.apply(*inputs, keep, library)
        return out
    with torch.no_grad():
        return scan_forward(library, u, dt, A, B, C, D, z, keep)[1]


def _pointers(*tensors: Tensor) -> list[int]:
    return [t.data_ptr() for t in tensors]


def _prepared(dtype: torch.dtype, *tensors: Tensor) -> list[Tensor]:
    """Contiguous copies in ``dtype`` where needed (``B`` and ``C`` arrive as strided views)."""
    return [t.detach().to(dtype).contiguous() for t in tensors]


def _function(library: ctypes.CDLL, name: str, dtype: torch.dtype) -> Any:
    return getattr(library, f"{name}_{str(dtype).removeprefix('torch.')}")


def scan_forward(
    library: ctypes.CDLL,
    u: Tensor,
    dt: Tensor,
    A: Tensor,
    B: Tensor,
    C: Tensor,
    D: Tensor,
    z: Tensor,
    keep: Tensor,
) -> tuple[Tensor, Tensor]:
    """``y = sum_n C h`` for every step and the block's output ``(y + D u) silu(z)``."""
    batch, length, dim = u.shape
    u, dt, A, B, C, D, z, keep = _prepared(u.dtype, u, dt, A, B, C, D, z, keep)
    delta = F.softplus(dt)
    A2 = A * torch_scan.LOG2_E  # rounded as the pure scan rounds it
    y, out = torch.empty_like(u), torch.empty_like(u)
    pointers = _pointers(u, delta, A2, B, C, keep, D, z, y, out)
    if _function(library, "scan_forward", u.dtype)(batch, length, dim, A.shape[1], *pointers):
        raise MemoryError("the compiled scan could not allocate its state")
    return y, out


def scan_backward(
    library: ctypes.CDLL, saved: tuple[Tensor, ...], grad_out: Tensor
) -> tuple[Tensor, ...]:
    """Gradients wrt ``u, dt, A, B, C, D, z`` from the saved inputs and ``y``."""
    u, dt, A, B, C, D, z, keep, y = saved
    batch, length, dim = u.shape
    (grad_out,) = _prepared(u.dtype, grad_out)
    gy, grad_z, slope = torch.empty_like(u), torch.empty_like(u), torch.empty_like(u)
    grad_D = torch.zeros_like(D)
    pointers = _pointers(grad_out, y, u, D, z, dt, gy, grad_z, grad_D, slope)
    _function(library, "gate_backward", u.dtype)(batch * length, dim, *pointers)
    delta = F.softplus(dt)
    A2 = A * torch_scan.LOG2_E
    grad_u, grad_dt = torch.empty_like(u), torch.empty_like(u)
    grad_A, grad_B, grad_C = torch.zeros_like(A), torch.zeros_like(B), torch.zeros_like(C)
    pointers = _pointers(u, delta, A, A2, B, C, keep, D, gy, slope, grad_u, grad_dt, grad_A)
    pointers += _pointers(grad_B, grad_C)
    if _function(library, "scan_backward", u.dtype)(batch, length, dim, A.shape[1], *pointers):
        raise MemoryError("the compiled scan could not allocate its backward scratch")
    return grad_u, grad_dt, grad_A, grad_B, grad_C, grad_D, grad_z


class _CompiledScan(torch.autograd.Function):
    """Autograd for the compiled scan: saves the inputs and ``y``, recomputes the states."""

    @staticmethod
    def forward(
        ctx: Any,
        u: Tensor,
        dt: Tensor,
        A: Tensor,
        B: Tensor,
        C: Tensor,
        D: Tensor,
        z: Tensor,
        keep: Tensor,
        library: ctypes.CDLL,
    ) -> Tensor:
        y, out = scan_forward(library, u, dt, A, B, C, D, z, keep)
        ctx.library = library
        ctx.save_for_backward(u, dt, A, B, C, D, z, keep, y)
        return out

    @staticmethod
    def backward(ctx: Any, grad_out: Tensor) -> tuple[Tensor | None, ...]:
        saved = tuple(_prepared(ctx.saved_tensors[0].dtype, *ctx.saved_tensors))
        return (*scan_backward(ctx.library, saved, grad_out), None, None)
