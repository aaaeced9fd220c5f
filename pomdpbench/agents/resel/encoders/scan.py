"""Mamba's selective scan with hidden-reset flags, in plain PyTorch for any device.

Mamba's state-space recurrence, per channel ``d`` and state ``n`` (Gu and Dao 2023, Alg. 2;
RESeL App. D.3.1, Eq. 23), with the step size, skip and gate of the Mamba block folded in as
``mamba-ssm``'s ``selective_scan_fn(..., D, z, delta_softplus=True)`` folds them::

    delta[t, d] = softplus(dt[t, d])
    h[t] = exp(delta[t, d] * A[d, n]) * keep[t] * h[t-1] + delta[t, d] * u[t, d] * B[t, n]
    y[t, d] = sum_n C[t, n] * h[t, d, n]
    out[t, d] = (y[t, d] + D[d] * u[t, d]) * silu(z[t, d])

``keep[t] = 0`` marks the first step of a trajectory: the carried state is dropped there, as
the ``start`` input of the RESeL code's modified kernel does (``deltaA *= 1 - start`` in
``selective_scan_ref``, FanmingL/Recurrent-Offpolicy-RL
``offpolicy_rnn/models/smamba/mamba_ssm/ops/selective_scan_interface_new.py``). Because the
decay is multiplied by exactly zero, no value and no gradient crosses a reset.

The state has ``D * N`` entries per token (512 x 64 at the paper's sizes), so a scan that
materializes all states of a sequence moves hundreds of megabytes per pass. Time is cut into
chunks (:func:`chunking`); only a chunk's ``(batch, steps, D, N)`` working set exists at a
time, in two buffers reused for every chunk. The discretization, the input outer product and
the output contraction run as batched operations over the chunk, and only the update
``h = a * h + b`` walks it step by step, vectorized over every row, channel and state. The
backward pass keeps one state per block of chunks and recomputes the chunks from it (the
trade the CUDA kernel makes in on-chip memory), then walks each chunk in reverse with the
adjoint recurrence ``g[t-1] += a[t] * g[t]``.

Folding softplus, skip and gate into the autograd function saves memory, not time: the graph
keeps ``dt``, ``z`` and ``y`` for the whole block where the unfused layers kept five tensors of
that size (softplus input and output, gate input, ``silu(z)``, ``z``). Inputs stay in the
caller's batch-major layout (no transposed copies). Measured choices (docs/resel.md "Speed"):
``exp2(delta * A * log2 e)`` is 2.7x faster than ``exp`` on an AVX-512 CPU; contractions over
the state are a product into a free buffer and a sum over the last axis (4x faster than a
batched matrix-vector product), those over channels are matrix products.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
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
all states, for one more run of the block's recurrence (see docs/resel.md "Speed")."""
LOG2_E = 1.0 / math.log(2.0)


def chunking(batch: int, d_inner: int, n_state: int, itemsize: int) -> tuple[int, int]:
    """Steps per chunk and chunks per saved state for a scan of this shape."""
    steps = CHUNK_BYTES // max(batch * d_inner * n_state * itemsize, 1)
    steps = min(max(steps, MIN_CHUNK), MAX_CHUNK)
    return steps, max(-(-CHECKPOINT_STEPS // steps), 1)


def selective_scan(
    u: Tensor, dt: Tensor, A: Tensor, B: Tensor, C: Tensor, D: Tensor, z: Tensor, keep: Tensor
) -> Tensor:
    """Run the scan over whole sequences, with softplus, skip and gate.

    Args:
        u: ``(batch, length, D)`` inputs.
        dt: ``(batch, length, D)`` step sizes before the softplus (``dt_proj``'s output).
        A: ``(D, N)`` negative state matrix (diagonal per channel).
        B: ``(batch, length, N)`` input projections.
        C: ``(batch, length, N)`` output projections.
        D: ``(D,)`` skip weights.
        z: ``(batch, length, D)`` gate inputs.
        keep: ``(batch, length)`` 0.0 where a trajectory starts (the state resets), else 1.0.

    Returns:
        ``(batch, length, D)``: ``(sum_n C h + D u) * silu(z)``.
    """
    inputs = (u, dt, A, B, C, D, z)
    if torch.is_grad_enabled() and any(t.requires_grad for t in inputs):
        out: Tensor = _SelectiveScan.apply(*inputs, keep)
        return out
    y = _Chunks(u, F.softplus(dt), A, B, C, keep).outputs(None)
    return _gate(y, u, D, z)


def _gate(y: Tensor, u: Tensor, D: Tensor, z: Tensor) -> Tensor:
    """``(y + D u) silu(z)``, rounded as the unfused layers round it."""
    return (y + u * D) * F.silu(z)


def scan_step(
    h: Tensor, u: Tensor, delta: Tensor, A: Tensor, B: Tensor, C: Tensor
) -> tuple[Tensor, Tensor]:
    """One step of the recurrence (``delta`` after softplus): new state and ``sum_n C h``."""
    h = torch.exp(delta.unsqueeze(-1) * A) * h + (delta * u).unsqueeze(-1) * B.unsqueeze(1)
    y = torch.matmul(h, C.unsqueeze(-1)).squeeze(-1)
    return h, y


def reference_scan(
    u: Tensor, delta: Tensor, A: Tensor, B: Tensor, C: Tensor, keep: Tensor
) -> Tensor:
    """``sum_n C h`` step by step with autograd (``delta`` after softplus): slow, plainly right."""
    batch, length, d_inner = u.shape
    h = u.new_zeros(batch, d_inner, A.shape[1])
    outputs = []
    for t in range(length):
        h, y = scan_step(h * keep[:, t, None, None], u[:, t], delta[:, t], A, B[:, t], C[:, t])
        outputs.append(y)
    return torch.stack(outputs, dim=1)


def reference_selective_scan(
    u: Tensor, dt: Tensor, A: Tensor, B: Tensor, C: Tensor, D: Tensor, z: Tensor, keep: Tensor
) -> Tensor:
    """:func:`selective_scan` from :func:`reference_scan` and autograd's own layers (tests)."""
    y = reference_scan(u, F.softplus(dt), A, B, C, keep)
    return (y + u * D) * F.silu(z)


class _Chunks:
    """One scan's inputs cut into chunks of time, with the two buffers every chunk reuses."""

    def __init__(
        self, u: Tensor, delta: Tensor, A: Tensor, B: Tensor, C: Tensor, keep: Tensor
    ) -> None:
        batch, self.length, d_inner = u.shape
        self.delta, self.B, self.C, self.keep = delta, B, C, keep
        self.du = delta * u
        self.A2 = A * LOG2_E  # exp(delta A) = exp2(delta A log2 e)
        self.resets = [int(t) for t in torch.nonzero((keep == 0).any(0)).flatten().tolist()]
        self.step_count, self.per_checkpoint = chunking(
            batch, d_inner, A.shape[1], u.element_size()
        )
        q = min(self.step_count, self.length)
        # Reused, never reallocated: a fresh temporary of a chunk's size (megabytes) is a new
        # memory mapping for the CPU allocator, and its page faults cost more than the arithmetic.
        self.decay = u.new_empty(batch, q, d_inner, A.shape[1])
        self.states = torch.empty_like(self.decay)
        self.decay_steps, self.state_steps = self.decay.unbind(1), self.states.unbind(1)
        self.zero = u.new_zeros(batch, d_inner, A.shape[1])

    def chunk(self, s: int, h0: Tensor) -> tuple[Tensor, Tensor]:
        """Decays and states of the chunk starting at step ``s`` (views into the buffers).

        ``decay[:, i] = exp(delta A) * keep`` and ``states[:, i]`` is the state after step
        ``s + i``. ``keep`` is applied only at the steps where some row resets, which saves a
        pass over the chunk when, as usual, resets are few.
        """
        q = min(self.step_count, self.length - s)
        decay, states = self.decay[:, :q], self.states[:, :q]
        torch.mul(self.delta[:, s : s + q, :, None], self.A2, out=decay)
        torch.exp2(decay, out=decay)
        for t in self.resets:
            if s <= t < s + q:
                decay[:, t - s].mul_(self.keep[:, t, None, None])
        torch.mul(self.du[:, s : s + q, :, None], self.B[:, s : s + q, None, :], out=states)
        h = h0
        for a, b in zip(self.decay_steps[:q], self.state_steps[:q], strict=True):
            h = b.addcmul_(a, h)
        return decay, states

    def outputs(self, starts: list[Tensor] | None) -> Tensor:
        """``sum_n C h`` for every step; the states entering each block go to ``starts``."""
        y = self.du.new_empty(self.du.shape)
        h = self.zero
        for k, s in enumerate(range(0, self.length, self.step_count)):
            if starts is not None and k % self.per_checkpoint == 0:
                starts.append(h)
            decay, states = self.chunk(s, h)
            q = states.shape[1]
            h = states[:, q - 1].clone()  # the buffers are overwritten by the next chunk
            _contract(states, self.C[:, s : s + q, None, :], decay, y[:, s : s + q])
        return y

    def backward(
        self, gy: Tensor, starts: list[Tensor], A: Tensor
    ) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
        """Gradients wrt ``delta * u``, ``delta`` (through the decay), A, B and C."""
        batch, length, d_inner = self.du.shape
        grad_du, grad_delta_a = torch.empty_like(self.du), torch.empty_like(self.du)
        grad_A = torch.zeros_like(A)
        grad_B, grad_C = torch.empty_like(self.B), torch.empty_like(self.C)
        adjoint_buffer = torch.empty_like(self.decay)
        adjoint_steps = adjoint_buffer.unbind(1)
        carry = torch.zeros_like(self.zero)  # d loss / d (state entering the chunk after)
        steps, per_checkpoint = self.step_count, self.per_checkpoint
        entering: list[Tensor] = []  # the starting states of this block's chunks still to do
        for k in reversed(range(-(-length // steps))):
            s = k * steps
            if not entering:  # the last chunk of a block: recompute its chunks' starting states
                block = k // per_checkpoint
                entering = [starts[block]]
                for j in range(block * per_checkpoint, k):
                    entering.append(self.chunk(j * steps, entering[-1])[1][:, -1].clone())
            h0 = entering.pop()
            decay, states = self.chunk(s, h0)
            q = decay.shape[1]
            span = slice(s, s + q)
            adjoint = adjoint_buffer[:, :q]
            # adjoint[:, i] = d loss / d state[:, i]: the direct part C * gy, then the recurrence.
            torch.mul(gy[:, span, :, None], self.C[:, span, None, :], out=adjoint)
            adjoint_steps[q - 1].add_(carry)
            for i in reversed(range(q - 1)):
                adjoint_steps[i].addcmul_(self.decay_steps[i + 1], adjoint_steps[i + 1])
            torch.mul(self.decay_steps[0], adjoint_steps[0], out=carry)
            grad_B[:, span] = torch.matmul(self.du[:, span, None, :], adjoint).squeeze(-2)
            grad_C[:, span] = torch.matmul(gy[:, span, None, :], states).squeeze(-2)
            # d loss / d (delta A) = adjoint[i] * state[i-1] * decay[i]  (decay includes keep):
            # the decay buffer takes state[i-1] * decay[i], then states is free as scratch.
            decay[:, 1:].mul_(states[:, :-1])
            decay[:, 0].mul_(h0)
            _contract(adjoint, self.B[:, span, None, :], states, grad_du[:, span])
            adjoint.mul_(decay)
            _contract(adjoint, A, states, grad_delta_a[:, span])
            torch.mul(adjoint, self.delta[:, span, :, None], out=states)
            grad_A += states.sum((0, 1))
        return grad_du, grad_delta_a, grad_A, grad_B, grad_C


def _contract(x: Tensor, y: Tensor, scratch: Tensor, out: Tensor) -> None:
    """``out = sum_n x * y``, the product going to ``scratch`` (a chunk buffer that is free)."""
    torch.sum(torch.mul(x, y, out=scratch), -1, out=out)


class _SelectiveScan(torch.autograd.Function):
    """Autograd for :func:`selective_scan`: saves one state per block, recomputes the rest."""

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
    ) -> Tensor:
        starts: list[Tensor] = []
        y = _Chunks(u, F.softplus(dt), A, B, C, keep).outputs(starts)
        ctx.save_for_backward(u, dt, A, B, C, D, z, keep, y, *starts)
        return _gate(y, u, D, z)

    @staticmethod
    def backward(ctx: Any, grad_out: Tensor) -> tuple[Tensor | None, ...]:
        u, dt, A, B, C, D, z, keep, y, *starts = ctx.saved_tensors
        # The gate out = (y + D u) * silu(z), with the kernels autograd uses for the layers.
        gy = grad_out * F.silu(z)  # d loss / d y
        grad_z = torch.ops.aten.silu_backward(grad_out * (y + u * D), z)
        grad_D = (gy * u).sum((0, 1))
        delta = F.softplus(dt)
        chunks = _Chunks(u, delta, A, B, C, keep)
        grad_du, grad_delta, grad_A, grad_B, grad_C = chunks.backward(gy, starts, A)
        del chunks
        grad_delta.addcmul_(grad_du, u)
        grad_dt = torch.ops.aten.softplus_backward(grad_delta, dt, 1.0, 20.0)
        grad_u = grad_du.mul_(delta).add_(gy * D)
        return grad_u, grad_dt, grad_A, grad_B, grad_C, grad_D, grad_z, None
