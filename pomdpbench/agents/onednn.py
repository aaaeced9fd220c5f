"""Large float32 matrix products on a CPU through oneDNN rather than MKL.

Why: torch sends a CPU ``mm`` to MKL, and MKL chooses its kernels by the CPU's vendor, not by
its instructions: on an AMD CPU it runs its AVX2 code even where the core executes AVX-512 at
full width. oneDNN, which every x86 build of torch carries (``torch.ops.mkldnn``), chooses by
instruction set. Measured on one core of this machine (AMD EPYC, Zen 5, torch 2.13), a
256 x 256 x 256 float32 product: ``torch.mm`` 287 us, oneDNN 136 us, JAX's jitted dot 147 us;
the backward pass's two products the same (dX 286 -> 133 us, dW 299 -> 161 us). On a CPU where
MKL already runs AVX-512 (Intel) or where AVX-512 runs at half width (Zen 4) the two are level.

oneDNN costs about 10 us a call whatever the size (MKL 1-2 us), so it only pays on large
products: :func:`fits` takes it from 2^21 multiply-adds with every side at least 32, where it
won on every shape measured (``docs/agents.md``, "Learner speed"); smaller products, other
dtypes and devices stay with torch's own kernels. The results are the same float32 products
with another rounding (within 1e-5 relative here); for a fixed choice of path they repeat bit
for bit, and the choice depends only on the shapes, so one seed still gives one curve.

``POMDPBENCH_ONEDNN=0`` in the environment switches it off (every product through torch).
"""

from __future__ import annotations

import os
import platform
from typing import Any

import torch

MIN_PRODUCT = 2**21
"""Multiply-adds from which oneDNN's fixed cost per call is paid back (measured grid above)."""
MIN_SIDE = 32
"""Shortest side taken: a weight gradient of a 16-wide layer was 0.6x torch's at 4096 rows."""


def _available() -> bool:
    """True where oneDNN's linear kernel is there, on x86-64, and not switched off."""
    if os.environ.get("POMDPBENCH_ONEDNN", "1") == "0":
        return False
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return False
    if not (
        torch.backends.mkldnn.is_available() and hasattr(torch.ops.mkldnn, "_linear_pointwise")
    ):
        return False
    try:  # one small product, so that a build whose kernel fails is never used
        a, b = torch.ones(2, 3), torch.ones(3, 4)
        product = torch.ops.mkldnn._linear_pointwise(a, b.t(), None, "none", [], "")
        return bool(torch.equal(product, a @ b))
    except RuntimeError:
        return False


ENABLED = _available()


def fits(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Whether ``a @ b`` (2-D, float32, CPU) is large enough for oneDNN to win."""
    if not ENABLED or a.dtype != torch.float32 or a.device.type != "cpu":
        return False
    (m, k), n = a.shape, b.shape[-1]
    return min(m, k, n) >= MIN_SIDE and m * k * n >= MIN_PRODUCT


def addmm(bias: torch.Tensor | None, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``a @ b + bias`` (``bias`` 1-D or None) with no autograd graph: oneDNN when it fits.

    oneDNN's linear computes ``x @ w.T + bias``; ``b.t()`` is a view, and oneDNN reads it
    strided (taking it contiguous first cost 20% more).
    """
    if fits(a, b):
        result: torch.Tensor = torch.ops.mkldnn._linear_pointwise(a, b.t(), bias, "none", [], "")
        return result
    if bias is None:
        return a @ b
    return torch.addmm(bias, a, b)


def linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """``F.linear(x, weight, bias)`` (``weight`` (out, in)) with oneDNN's products where they fit.

    ``x`` may have leading dimensions; they are flattened into rows for the product.
    """
    rows = x.reshape(-1, x.shape[-1])
    if not fits(rows, weight.t()):
        return torch.nn.functional.linear(x, weight, bias)
    if torch.is_grad_enabled() and any(
        t is not None and t.requires_grad for t in (x, weight, bias)
    ):
        out: torch.Tensor = _Linear.apply(rows, weight, bias)
    else:
        out = addmm(bias, rows, weight.t())
    return out.view(*x.shape[:-1], weight.shape[0])


class _Linear(torch.autograd.Function):
    """Autograd's own backward for ``F.linear``, with its two products in oneDNN where they fit.

    The weight's gradient is taken as ``grad.T @ x``, in the weight's own (out, in) layout, so
    autograd need not copy it into that layout before the optimizer reads it.
    """

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> Any:
        ctx.save_for_backward(x, weight)
        return addmm(bias, x, weight.t())

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[Any, Any, Any]:
        x, weight = ctx.saved_tensors
        grad_x = addmm(None, grad, weight) if ctx.needs_input_grad[0] else None
        grad_w = addmm(None, grad.t(), x) if ctx.needs_input_grad[1] else None
        grad_b = grad.sum(0) if ctx.needs_input_grad[2] else None
        return grad_x, grad_w, grad_b


def members_fit(x: torch.Tensor, weight: torch.Tensor) -> bool:
    """Whether each member's product of an ensemble layer (``x`` (E, B, in) or (B, in)) fits."""
    return fits(x[0] if x.dim() == 3 else x, weight[0])


def ensemble_products(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """``x[e] @ weight[e] + bias[e]`` per member through oneDNN, with a backward pass to match.

    ``x`` is (E, B, in) or (B, in) shared by all members; ``weight`` (E, in, out); ``bias``
    (E, 1, out). Callers check :func:`members_fit` first.
    """
    if torch.is_grad_enabled() and any(t.requires_grad for t in (x, weight, bias)):
        result: torch.Tensor = _EnsembleProducts.apply(x, weight, bias)
        return result
    return _forward(x, weight, bias)


def _forward(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    members = weight.shape[0]
    inputs = x.unbind(0) if x.dim() == 3 else [x] * members
    return torch.stack([addmm(bias[e, 0], inputs[e], weight[e]) for e in range(members)])


class _EnsembleProducts(torch.autograd.Function):
    """Autograd's own backward for ``baddbmm``, with each member's two products in oneDNN."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> Any:
        ctx.save_for_backward(x, weight)
        return _forward(x, weight, bias)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[Any, Any, Any]:
        x, weight = ctx.saved_tensors
        members, shared = weight.shape[0], x.dim() == 2
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            per_member = [addmm(None, grad[e], weight[e].t()) for e in range(members)]
            grad_x = sum_in_place(per_member) if shared else torch.stack(per_member)
        if ctx.needs_input_grad[1]:
            inputs = [x] * members if shared else list(x.unbind(0))
            grad_w = torch.stack([addmm(None, inputs[e].t(), grad[e]) for e in range(members)])
        if ctx.needs_input_grad[2]:
            grad_b = grad.sum(1, keepdim=True)
        return grad_x, grad_w, grad_b


def sum_in_place(parts: list[torch.Tensor]) -> torch.Tensor:
    """The sum of fresh tensors, accumulated into the first (no stacked copy)."""
    total = parts[0]
    for part in parts[1:]:
        total += part
    return total
