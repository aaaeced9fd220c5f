"""The selective scan on a CPU through a compiled C kernel, else the pure-PyTorch scan.

:func:`selective_scan` takes and returns what :func:`.scan.selective_scan` does (softplus of
``dt``, skip ``D`` and gate ``silu(z)`` folded in, reset flags ``keep``) and gives the same
values and gradients up to float rounding. On CPU tensors of float32 or float64 it runs
``scan_kernel.c`` (built on first use, :mod:`.kernel_build`): per row and channel the state
stays in a local array while time is walked, so the state of every token is computed once in
cache instead of streamed through memory in chunks, and the backward pass recomputes a channel's
states into a ``(length, d_state)`` scratch array. Only the recurrence and its reductions are
in C; the softplus, skip, gate and their gradients are the PyTorch code the pure scan uses
(:func:`.scan.gated_backward`), so both round those layers alike.

The pure-PyTorch scan runs instead, after one logged line that says why, when the tensors are
not on the CPU or not float32/float64, when no compiler is found or the build fails, or when
``POMDPBENCH_SCAN=torch`` is set (for comparisons: ``benchmarks/resel_update.py``'s
``mamba-torch`` row). Each reason is logged once per process.
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
    LOG.warning("pomdpbench: the Mamba scan runs in pure PyTorch: %s", reason)


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
        y = scan_forward(library, u, F.softplus(dt), A, B, C, keep)
        return torch_scan.gate(y, u, D, z)


def _pointers(*tensors: Tensor) -> list[int]:
    return [t.data_ptr() for t in tensors]


def _prepared(dtype: torch.dtype, *tensors: Tensor) -> list[Tensor]:
    """Contiguous copies in ``dtype`` where needed (``B`` and ``C`` arrive as strided views)."""
    return [t.detach().to(dtype).contiguous() for t in tensors]


def scan_forward(
    library: ctypes.CDLL, u: Tensor, delta: Tensor, A: Tensor, B: Tensor, C: Tensor, keep: Tensor
) -> Tensor:
    """``y = sum_n C h`` for every step (``delta`` after the softplus)."""
    batch, length, dim = u.shape
    nstate = A.shape[1]
    u, delta, A, B, C, keep = _prepared(u.dtype, u, delta, A, B, C, keep)
    A2 = A * torch_scan.LOG2_E  # rounded as the pure scan rounds it
    y = torch.empty_like(u)
    function = getattr(library, f"scan_forward_{str(u.dtype).removeprefix('torch.')}")
    if function(batch, length, dim, nstate, *_pointers(u, delta, A2, B, C, keep, y)) != 0:
        raise MemoryError("the compiled scan could not allocate its state")
    return y


def scan_backward(
    library: ctypes.CDLL,
    u: Tensor,
    delta: Tensor,
    A: Tensor,
    B: Tensor,
    C: Tensor,
    keep: Tensor,
    gy: Tensor,
) -> torch_scan.Gradients:
    """The scan's own gradients from ``gy = d loss / d y`` (see :data:`.scan.Gradients`)."""
    batch, length, dim = u.shape
    nstate = A.shape[1]
    u, delta, A, B, C, keep, gy = _prepared(u.dtype, u, delta, A, B, C, keep, gy)
    A2 = A * torch_scan.LOG2_E
    grad_du, grad_delta = torch.empty_like(u), torch.empty_like(u)
    grad_A, grad_B, grad_C = torch.zeros_like(A), torch.zeros_like(B), torch.zeros_like(C)
    function = getattr(library, f"scan_backward_{str(u.dtype).removeprefix('torch.')}")
    pointers = _pointers(u, delta, A, A2, B, C, keep, gy, grad_du, grad_delta, grad_A)
    if function(batch, length, dim, nstate, *pointers, *_pointers(grad_B, grad_C)) != 0:
        raise MemoryError("the compiled scan could not allocate its backward scratch")
    return grad_du, grad_delta, grad_A, grad_B, grad_C


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
        y = scan_forward(library, u, F.softplus(dt), A, B, C, keep)
        ctx.library = library
        ctx.save_for_backward(u, dt, A, B, C, D, z, keep, y)
        return torch_scan.gate(y, u, D, z)

    @staticmethod
    def backward(ctx: Any, grad_out: Tensor) -> tuple[Tensor | None, ...]:
        u, dt, A, B, C, D, z, keep, y = ctx.saved_tensors

        def core(delta: Tensor, gy: Tensor) -> torch_scan.Gradients:
            return scan_backward(ctx.library, u, delta, A, B, C, keep, gy)

        grads = torch_scan.gated_backward(grad_out.contiguous(), u, dt, D, z, y, core)
        return (*grads, None, None)
