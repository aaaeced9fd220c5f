"""The scan before the present one, frozen as a second oracle and as the benchmark's "before".

:func:`pomdpbench.agents.resel.encoders.scan.selective_scan` replaced it. This one takes the
step size after the softplus and returns ``sum_n C h`` (the caller adds the skip and the
gate); it lays the chunk buffers out time-major (transposed copies of the inputs) and its
backward pass keeps one state per 64 steps, as the present scan does. It stays for two jobs:
``tests/test_resel_encoders.py`` checks that the present scan gives this one's values and
gradients, and ``benchmarks/resel_update.py`` times RESeL updates with both side by side (the
``mamba-previous`` row). Nothing else uses it; the project's first scan (natural ``exp`` and
batched matrix-vector products, 2.1x the GRU's update time) is in the git history.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

CHUNK_BYTES = 4 * 2**20
"""Size of one chunk buffer: 16 steps at the paper's sizes (2 rows x 512 x 64 floats), the
fastest of 8-64 steps there on the development CPU (a larger working set spills out of cache);
narrow networks get longer chunks, up to :data:`MAX_CHUNK`, where per-operation overhead
dominates. Any chunking gives the same results."""
MIN_CHUNK, MAX_CHUNK = 8, 64
CHECKPOINT_STEPS = 64
"""The backward pass keeps the state entering every block of at least this many steps (whole
chunks) and recomputes the states inside a block from it: memory for saved states is 1/64 of
all states, for one more run of the block's recurrence (at the paper's sizes: 10 % less peak
memory in a RESeL update than one state per 16-step chunk, 235 -> 211 MiB, for 12 % more time
in the scan's forward and backward passes)."""


def chunking(batch: int, d_inner: int, n_state: int, itemsize: int) -> tuple[int, int]:
    """Steps per chunk and chunks per saved state for a scan of this shape."""
    steps = CHUNK_BYTES // max(batch * d_inner * n_state * itemsize, 1)
    steps = min(max(steps, MIN_CHUNK), MAX_CHUNK)
    return steps, max(-(-CHECKPOINT_STEPS // steps), 1)


LOG2_E = 1.0 / math.log(2.0)


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
    return _Scan(u, delta, A, B, C, keep).forward(None).transpose(0, 1)


class _Scan:
    """One scan's inputs laid out time-major, with the two chunk buffers both passes reuse."""

    def __init__(
        self, u: Tensor, delta: Tensor, A: Tensor, B: Tensor, C: Tensor, keep: Tensor
    ) -> None:
        batch, self.length, d_inner = u.shape
        self.delta = delta.transpose(0, 1).contiguous()  # (length, batch, D)
        self.du = (delta * u).transpose(0, 1).contiguous()
        self.A2 = A * LOG2_E  # exp(delta A) = exp2(delta A log2 e)
        self.B = B.transpose(0, 1).contiguous()  # (length, batch, N)
        self.C = C.transpose(0, 1).contiguous()
        self.keep = keep.transpose(0, 1).contiguous()  # (length, batch)
        self.resets = [int(t) for t in torch.nonzero((keep == 0).any(0)).flatten().tolist()]
        self.step_count, self.per_checkpoint = chunking(
            batch, d_inner, A.shape[1], u.element_size()
        )
        q = min(self.step_count, self.length)
        # Reused, never reallocated: a fresh temporary of a chunk's size (megabytes) is a new
        # memory mapping for the CPU allocator, and its page faults cost more than the arithmetic.
        self.decay = u.new_empty(q, batch, d_inner, A.shape[1])
        self.states = torch.empty_like(self.decay)
        self.decay_steps, self.state_steps = self.decay.unbind(0), self.states.unbind(0)
        self.zero = u.new_zeros(batch, d_inner, A.shape[1])

    def chunk(self, s: int, h0: Tensor) -> tuple[Tensor, Tensor]:
        """Decays and states of the chunk starting at step ``s`` (views into the buffers).

        ``decay[i] = exp(delta A) * keep`` and ``states[i]`` is the state after step ``s + i``.
        ``keep`` is applied only at the steps where some row resets, which saves a pass over the
        chunk when, as usual, resets are few.
        """
        q = min(self.step_count, self.length - s)
        decay, states = self.decay[:q], self.states[:q]
        torch.mul(self.delta[s : s + q, :, :, None], self.A2, out=decay)
        torch.exp2(decay, out=decay)
        for t in self.resets:
            if s <= t < s + q:
                decay[t - s].mul_(self.keep[t, :, None, None])
        torch.mul(self.du[s : s + q, :, :, None], self.B[s : s + q, :, None, :], out=states)
        h = h0
        for a, b in zip(self.decay_steps[:q], self.state_steps[:q], strict=True):
            h = b.addcmul_(a, h)
        return decay, states

    def forward(self, starts: list[Tensor] | None) -> Tensor:
        """``(length, batch, D)`` outputs; the state entering each chunk goes to ``starts``."""
        y = self.du.new_empty(self.du.shape)
        h = self.zero
        for k, s in enumerate(range(0, self.length, self.step_count)):
            if starts is not None and k % self.per_checkpoint == 0:
                starts.append(h)
            decay, states = self.chunk(s, h)
            q = states.shape[0]
            h = states[q - 1].clone()  # the buffers are overwritten by the next chunk
            _contract(states, self.C[s : s + q, :, None, :], decay, y[s : s + q])
        return y


def _contract(x: Tensor, y: Tensor, scratch: Tensor, out: Tensor) -> None:
    """``out = sum_n x * y``, the product going to ``scratch`` (a chunk buffer that is free)."""
    torch.sum(torch.mul(x, y, out=scratch), -1, out=out)


class _ChunkedScan(torch.autograd.Function):
    """Autograd for :func:`previous_selective_scan`: one state saved per block, the rest redone."""

    @staticmethod
    def forward(
        ctx: Any, u: Tensor, delta: Tensor, A: Tensor, B: Tensor, C: Tensor, keep: Tensor
    ) -> Tensor:
        starts: list[Tensor] = []
        y = _Scan(u, delta, A, B, C, keep).forward(starts)
        ctx.save_for_backward(u, delta, A, B, C, keep, *starts)
        return y.transpose(0, 1)

    @staticmethod
    def backward(ctx: Any, grad_y: Tensor) -> tuple[Tensor | None, ...]:
        u, delta, A, B, C, keep, *starts = ctx.saved_tensors
        scan = _Scan(u, delta, A, B, C, keep)
        length, batch, d_inner = scan.du.shape
        n_state = A.shape[1]
        gy = grad_y.transpose(0, 1).contiguous()  # (length, batch, D)
        grad_du = torch.empty_like(scan.du)
        grad_delta_a = torch.empty_like(scan.du)  # gradient reaching delta through the decay
        grad_A = torch.zeros_like(A)
        grad_B = torch.empty_like(scan.B)
        grad_C = torch.empty_like(scan.C)
        adjoint_buffer = torch.empty_like(scan.decay)
        adjoint_steps = adjoint_buffer.unbind(0)
        carry = torch.zeros_like(scan.zero)  # d loss / d (state entering the chunk after)
        steps, per_checkpoint = scan.step_count, scan.per_checkpoint
        chunks = -(-length // steps)
        entering: list[Tensor] = []  # the starting states of this block's chunks still to do
        for k in reversed(range(chunks)):
            s = k * steps
            if not entering:  # the last chunk of a block: recompute its chunks' starting states
                block = k // per_checkpoint
                entering = [starts[block]]
                for j in range(block * per_checkpoint, k):
                    entering.append(scan.chunk(j * steps, entering[-1])[1][-1].clone())
            h0 = entering.pop()
            decay, states = scan.chunk(s, h0)
            q = decay.shape[0]
            rows = q * batch
            adjoint = adjoint_buffer[:q]
            # adjoint[i] = d loss / d state[i]: the direct part C * grad_y, then the recurrence.
            torch.mul(gy[s : s + q, :, :, None], scan.C[s : s + q, :, None, :], out=adjoint)
            adjoint[q - 1].add_(carry)
            for i in reversed(range(q - 1)):
                adjoint_steps[i].addcmul_(scan.decay_steps[i + 1], adjoint_steps[i + 1])
            torch.mul(decay[0], adjoint[0], out=carry)
            flat_adjoint = adjoint.view(rows, d_inner, n_state)
            du_rows = scan.du[s : s + q].view(rows, 1, d_inner)
            grad_B[s : s + q] = torch.bmm(du_rows, flat_adjoint).view(q, batch, n_state)
            gy_rows = gy[s : s + q].view(rows, 1, d_inner)
            flat_states = states.view(rows, d_inner, n_state)
            grad_C[s : s + q] = torch.bmm(gy_rows, flat_states).view(q, batch, n_state)
            # d loss / d (delta A) = adjoint[i] * state[i-1] * decay[i]  (decay includes keep):
            # the decay buffer takes state[i-1] * decay[i], then states is free as scratch.
            decay[1:].mul_(states[:-1])
            decay[0].mul_(h0)
            _contract(adjoint, scan.B[s : s + q, :, None, :], states, grad_du[s : s + q])
            adjoint.mul_(decay)
            _contract(adjoint, A, states, grad_delta_a[s : s + q])
            torch.mul(adjoint, scan.delta[s : s + q, :, :, None], out=states)
            grad_A += states.sum((0, 1))
        grad_delta = grad_delta_a.addcmul_(grad_du, u.transpose(0, 1))
        grad_u = grad_du.mul_(scan.delta)
        return (
            grad_u.transpose(0, 1),
            grad_delta.transpose(0, 1),
            grad_A,
            grad_B.transpose(0, 1),
            grad_C.transpose(0, 1),
            None,
        )
