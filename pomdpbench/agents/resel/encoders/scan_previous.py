"""The first chunked selective scan, kept as a second oracle and as a benchmark's "before".

:func:`pomdpbench.agents.resel.encoders.scan.selective_scan` replaced it (same recurrence, same
chunking and recompute-in-backward; natural ``exp`` and batched matrix-vector products here,
where the replacement uses ``exp2`` and fused dot products, about 3x faster on an AVX-512 CPU).
It stays for two jobs: ``tests/test_resel_encoders.py`` checks that the new scan gives this
one's values and gradients, and ``benchmarks/resel_update.py`` times RESeL updates with both
side by side (the ``mamba-previous`` row). Nothing else uses it.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

CHUNK = 32
"""Time steps per chunk (32 was fastest among 8-128 on the development CPU; any value works)."""


def previous_selective_scan(
    u: Tensor, delta: Tensor, A: Tensor, B: Tensor, C: Tensor, keep: Tensor
) -> Tensor:
    """Run the scan over whole sequences.

    Args:
        u: ``(batch, length, D)`` inputs.
        delta: ``(batch, length, D)`` positive step sizes (after softplus).
        A: ``(D, N)`` negative state matrix (diagonal per channel).
        B: ``(batch, length, N)`` input projections.
        C: ``(batch, length, N)`` output projections.
        keep: ``(batch, length)`` 0.0 where a trajectory starts (the state resets), else 1.0.

    Returns:
        ``(batch, length, D)``: ``sum_n C h`` (the ``D * u`` skip term is added by the caller).
    """
    if torch.is_grad_enabled() and any(t.requires_grad for t in (u, delta, A, B, C)):
        out: Tensor = _ChunkedScan.apply(u, delta, A, B, C, keep)
        return out
    return _forward(u, delta, A, B, C, keep, None)


def _chunk_inputs(
    s: int, q: int, h0: Tensor, du: Tensor, delta: Tensor, A: Tensor, B: Tensor, keep: Tensor,
    reset_columns: list[int], decay: Tensor, states: Tensor,
) -> Tensor:  # fmt: skip
    """Fill ``decay`` and ``states`` for steps ``s .. s+q`` from ``h0``; return the last state.

    ``decay[:, i] = exp(delta A) * keep`` and ``states[:, i]`` is the state after step ``s + i``.
    ``keep`` is applied only at ``reset_columns`` (the steps where some row resets), which saves
    a pass over the chunk when, as usual, resets are few.
    """
    torch.mul(delta[:, s : s + q, :, None], A, out=decay)
    decay.exp_()
    for t in reset_columns:
        if s <= t < s + q:
            decay[:, t - s].mul_(keep[:, t, None, None])
    torch.mul(du[:, s : s + q, :, None], B[:, s : s + q, None, :], out=states)
    h = h0
    for i in range(q):
        h = states[:, i].addcmul_(decay[:, i], h)
    return h


def _reset_columns(keep: Tensor) -> list[int]:
    """The time steps at which at least one row resets its state."""
    return [int(t) for t in torch.nonzero((keep == 0).any(0)).flatten().tolist()]


def _buffers(u: Tensor, q: int, n_state: int) -> tuple[Tensor, Tensor]:
    batch, _, d_inner = u.shape
    shape = (batch, q, d_inner, n_state)
    return u.new_empty(shape), u.new_empty(shape)


def _forward(
    u: Tensor, delta: Tensor, A: Tensor, B: Tensor, C: Tensor, keep: Tensor,
    saved_starts: list[Tensor] | None,
) -> Tensor:  # fmt: skip
    batch, length, d_inner = u.shape
    n_state = A.shape[1]
    y = u.new_empty(batch, length, d_inner)
    du = delta * u
    h = u.new_zeros(batch, d_inner, n_state)
    resets = _reset_columns(keep)
    decay, states = _buffers(u, min(CHUNK, length), n_state)
    for s in range(0, length, CHUNK):
        q = min(CHUNK, length - s)
        if q < decay.shape[1]:
            decay, states = _buffers(u, q, n_state)
        if saved_starts is not None:
            saved_starts.append(h)
        h = _chunk_inputs(s, q, h, du, delta, A, B, keep, resets, decay, states)
        flat = states.view(batch * q, d_inner, n_state)
        c = C[:, s : s + q].reshape(batch * q, n_state, 1)
        y[:, s : s + q] = torch.bmm(flat, c).view(batch, q, d_inner)
        h = h.clone()  # the buffers are overwritten by the next chunk
    return y


class _ChunkedScan(torch.autograd.Function):
    """Autograd for :func:`selective_scan`: saves one state per chunk, recomputes the rest."""

    @staticmethod
    def forward(
        ctx: Any, u: Tensor, delta: Tensor, A: Tensor, B: Tensor, C: Tensor, keep: Tensor
    ) -> Tensor:
        starts: list[Tensor] = []
        y = _forward(u, delta, A, B, C, keep, starts)
        ctx.save_for_backward(u, delta, A, B, C, keep, *starts)
        return y

    @staticmethod
    def backward(ctx: Any, grad_y: Tensor) -> tuple[Tensor | None, ...]:
        u, delta, A, B, C, keep, *starts = ctx.saved_tensors
        batch, length, d_inner = u.shape
        n_state = A.shape[1]
        grad_y = grad_y.contiguous()
        du = delta * u
        grad_du = torch.empty_like(u)
        grad_delta_a = torch.empty_like(u)  # gradient reaching delta through the decay
        grad_A = torch.zeros_like(A)
        grad_B = torch.empty_like(B)
        grad_C = torch.empty_like(C)
        carry = u.new_zeros(batch, d_inner, n_state)  # d loss / d (state entering the chunk after)
        resets = _reset_columns(keep)
        decay, states = _buffers(u, min(CHUNK, length), n_state)
        adjoint = torch.empty_like(states)
        chunk_starts = list(range(0, length, CHUNK))
        for k in reversed(range(len(chunk_starts))):
            s = chunk_starts[k]
            q = min(CHUNK, length - s)
            if q != decay.shape[1]:
                decay, states = _buffers(u, q, n_state)
                adjoint = torch.empty_like(states)
            h0 = starts[k]
            _chunk_inputs(s, q, h0, du, delta, A, B, keep, resets, decay, states)
            bq = batch * q
            # adjoint[i] = d loss / d state[i]: the direct part C * grad_y, then the recurrence.
            torch.mul(grad_y[:, s : s + q, :, None], C[:, s : s + q, None, :], out=adjoint)
            adjoint[:, q - 1].add_(carry)
            for i in reversed(range(q - 1)):
                adjoint[:, i].addcmul_(decay[:, i + 1], adjoint[:, i + 1])
            carry = decay[:, 0] * adjoint[:, 0]
            flat_adj = adjoint.view(bq, d_inner, n_state)
            b = B[:, s : s + q].reshape(bq, n_state, 1)
            grad_du[:, s : s + q] = torch.bmm(flat_adj, b).view(batch, q, d_inner)
            du_row = du[:, s : s + q].reshape(bq, 1, d_inner)
            grad_B[:, s : s + q] = torch.bmm(du_row, flat_adj).view(batch, q, n_state)
            gy_row = grad_y[:, s : s + q].reshape(bq, 1, d_inner)
            flat_states = states.view(bq, d_inner, n_state)
            grad_C[:, s : s + q] = torch.bmm(gy_row, flat_states).view(batch, q, n_state)
            # d loss / d (delta A) = adjoint[i] * state[i-1] * decay[i]  (decay includes keep).
            adjoint[:, 1:].mul_(states[:, :-1])
            adjoint[:, 0].mul_(h0)
            adjoint.mul_(decay)
            grad_delta_a[:, s : s + q] = torch.einsum("bqdn,dn->bqd", adjoint, A)
            grad_A += torch.einsum("bqdn,bqd->dn", adjoint, delta[:, s : s + q])
        grad_u = grad_du * delta
        grad_delta = grad_du * u + grad_delta_a
        return grad_u, grad_delta, grad_A, grad_B, grad_C, None
