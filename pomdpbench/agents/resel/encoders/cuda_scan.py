"""Optional fast path: the selective scan of ``mamba-ssm``'s CUDA kernel, with resets emulated.

Taken only when the tensors are on a CUDA device and ``mamba_ssm`` imports (the ``[gpu]``
extra); otherwise :func:`cuda_selective_scan` returns None and the caller uses the pure-PyTorch
scan. **This path has not been run in this project's CI (no GPU there).**

The stock kernel (``mamba_ssm.ops.selective_scan_interface.selective_scan_fn``) has no reset
input; the RESeL authors patched the CUDA source to add one and did not publish it (see
reference/notes-resel-code.md §1). A reset can be emulated exactly with the stock kernel because
every trajectory after the first in a packed row follows padding slots: on padding the input
``u`` is set to 0 and the step size ``dt`` to :data:`FLUSH_DELTA` (the kernel's softplus keeps
it: softplus is the identity above 20), so the decay ``exp(delta * A)`` underflows to exactly 0
and the state is flushed to zero before the next trajectory's first token, which then starts
from a zero state as a reset would. Masked
positions get no gradient, and the flushed state passes none back. The condition is checked
and the pure scan used when a reset does not follow padding or a row start.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from torch import Tensor

from pomdpbench.agents.resel.encoders.base import Layout

FLUSH_DELTA = 1e4
"""Step size on padding: ``exp(-1e4 * |A|)`` is 0 in float32 for every |A| > 0.0105 (RESeL's A
starts at 1..64 and is trained with a learning rate of 1e-5 or less)."""

Kernel = Callable[[Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor], Tensor]
"""``(u, dt, A, B, C, D, z) -> out`` in mamba-ssm's layout: u, dt, z and out (batch, D, length),
A (D, N), B and C (batch, N, length), D (D,); softplus of ``dt``, skip and gate inside."""


@cache
def _mamba_ssm_kernel() -> Kernel | None:
    try:
        from mamba_ssm.ops.selective_scan_interface import selective_scan_fn
    except Exception:  # ImportError, or a build without kernels for this GPU
        return None

    def kernel(
        u: Tensor, dt: Tensor, A: Tensor, B: Tensor, C: Tensor, D: Tensor, z: Tensor
    ) -> Tensor:
        out: Tensor = selective_scan_fn(u, dt, A, B, C, D.float(), z, delta_softplus=True)
        return out

    return kernel


def cuda_selective_scan(
    u: Tensor, dt: Tensor, A: Tensor, B: Tensor, C: Tensor, D: Tensor, z: Tensor, layout: Layout
) -> Tensor | None:
    """The output of :func:`~pomdpbench.agents.resel.encoders.scan.selective_scan`, or None."""
    if not u.is_cuda:
        return None
    kernel = _mamba_ssm_kernel()
    if kernel is None:
        return None
    return flushed_scan(u, dt, A, B, C, D, z, layout, kernel)


def flushed_scan(
    u: Tensor,
    dt: Tensor,
    A: Tensor,
    B: Tensor,
    C: Tensor,
    D: Tensor,
    z: Tensor,
    layout: Layout,
    kernel: Kernel,
) -> Tensor | None:
    """Run a reset-less ``kernel`` with resets emulated by flushing the state on padding."""
    reset, valid = layout
    if bool((reset[:, 1:] & valid[:, :-1]).any()):
        return None  # a trajectory starts right after another one: nothing to flush with
    padding = (~valid).unsqueeze(-1)
    u = u.masked_fill(padding, 0.0)
    dt = dt.masked_fill(padding, FLUSH_DELTA)
    out = kernel(
        u.transpose(1, 2).contiguous(),
        dt.transpose(1, 2).contiguous(),
        A.contiguous(),
        B.transpose(1, 2).contiguous(),
        C.transpose(1, 2).contiguous(),
        D.contiguous(),
        z.transpose(1, 2).contiguous(),
    )
    return out.transpose(1, 2)
