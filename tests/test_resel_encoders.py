"""RESeL's context-encoder cores: stacked trajectories stay apart, and acting matches training.

For every core (Mamba, GRU, Transformer), on trajectories of different lengths stacked the way
the agent's buffer stacks them: (1) the stacked batch gives each trajectory's outputs as if it
ran alone, (2) one trajectory's outputs have exactly zero gradient with respect to another
trajectory's inputs, (3) running one token at a time with the carried state gives the outputs
of the parallel pass. Float64 throughout so the comparisons can be tight.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch

from pomdpbench.agents.resel.buffer import pack_rows
from pomdpbench.agents.resel.encoders import Core, Layout, build_core
from pomdpbench.agents.resel.encoders import scan as scan_module
from pomdpbench.agents.resel.encoders.cuda_scan import flushed_scan
from pomdpbench.agents.resel.encoders.scan import reference_selective_scan, selective_scan
from pomdpbench.agents.resel.encoders.scan_previous import previous_selective_scan

KINDS = ["mamba", "gru", "transformer"]
LENGTHS = [9, 3, 14, 5, 1, 7]
WIDTH = 16


def make_core(kind: str, seed: int = 0) -> Core:
    torch.manual_seed(seed)
    core = build_core(
        kind,
        WIDTH,
        mamba_state=4,
        mamba_conv=4,
        mamba_expand=2,  # type: ignore[arg-type]
        transformer_heads=2,
        transformer_layers=2,
    )
    return core.double().eval()


def stack(
    sequences: list[torch.Tensor], packs: bool, gap: int
) -> tuple[torch.Tensor, Layout, list[tuple[int, int]]]:
    """Stack sequences as the buffer does; return inputs, layout and each one's (row, start)."""
    lengths = [len(s) for s in sequences]
    rows = pack_rows(lengths, gap) if packs else [[i] for i in range(len(sequences))]
    width = max(sum(lengths[i] for i in row) + gap * (len(row) - 1) for row in rows)
    x = torch.zeros(len(rows), width, WIDTH, dtype=torch.float64)
    reset = torch.zeros(len(rows), width, dtype=torch.bool)
    valid = torch.zeros_like(reset)
    where: list[tuple[int, int]] = [(0, 0)] * len(sequences)
    for r, row in enumerate(rows):
        start = 0
        for i in row:
            x[r, start : start + lengths[i]] = sequences[i]
            reset[r, start] = True
            valid[r, start : start + lengths[i]] = True
            where[i] = (r, start)
            start += lengths[i] + gap
    # Padding holds noise: it must not matter.
    x = torch.where(valid.unsqueeze(-1), x, torch.randn_like(x) * 3.0)
    return x, Layout(reset, valid), where


def sequences(seed: int = 1) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return [torch.randn(n, WIDTH, dtype=torch.float64, generator=generator) for n in LENGTHS]


@pytest.mark.parametrize("kind", KINDS)
def test_stacked_batch_matches_each_trajectory_alone(kind: str) -> None:
    core = make_core(kind)
    seqs = sequences()
    x, layout, where = stack(seqs, core.packs, core.gap)
    if core.packs:
        assert x.shape[0] < len(seqs), "the test should pack several trajectories into a row"
    with torch.no_grad():
        stacked = core(x, layout)
        for seq, (row, start) in zip(seqs, where, strict=True):
            alone = core(seq.unsqueeze(0), Layout.single(1, len(seq)))[0]
            torch.testing.assert_close(
                stacked[row, start : start + len(seq)], alone, rtol=1e-9, atol=1e-9
            )


@pytest.mark.parametrize("kind", KINDS)
def test_no_gradient_crosses_trajectories(kind: str) -> None:
    core = make_core(kind)
    seqs = sequences()
    x, layout, where = stack(seqs, core.packs, core.gap)
    x.requires_grad_(True)
    out = core(x, layout) * torch.randn(WIDTH, dtype=torch.float64)  # (a LayerNorm sums to 0)
    for i, (row, start) in enumerate(where):
        (grad,) = torch.autograd.grad(
            out[row, start : start + len(seqs[i])].sum(), x, retain_graph=True
        )
        own = torch.zeros_like(layout.valid)
        own[row, start : start + len(seqs[i])] = True
        assert grad[own].abs().sum() > 0, "a trajectory's outputs depend on its own inputs"
        assert torch.equal(grad[~own], torch.zeros_like(grad[~own])), f"trajectory {i} leaks"


def test_mamba_leaks_without_the_padding_gap() -> None:
    """The gap matters: packed back to back, the convolution reads the previous trajectory."""
    core = make_core("mamba")
    first, second = sequences()[0], sequences()[3]
    x = torch.cat([first, second]).unsqueeze(0).requires_grad_(True)
    reset = torch.zeros(1, x.shape[1], dtype=torch.bool)
    reset[0, 0] = reset[0, len(first)] = True
    out = core(x, Layout(reset, torch.ones_like(reset))) * torch.randn(WIDTH, dtype=torch.float64)
    (grad,) = torch.autograd.grad(out[0, len(first) :].sum(), x)
    assert grad[0, : len(first)].abs().sum() > 0


@pytest.mark.parametrize("kind", [*KINDS, "mlp"])
def test_step_by_step_matches_parallel_forward(kind: str) -> None:
    core = make_core(kind)
    seq = sequences()[2]
    with torch.no_grad():
        parallel = core(seq.unsqueeze(0), Layout.single(1, len(seq)))[0]
        state = core.initial_state(1)
        stepped = []
        for token in seq:
            out, state = core.step(token.unsqueeze(0), state)
            stepped.append(out[0])
    torch.testing.assert_close(torch.stack(stepped), parallel, rtol=1e-9, atol=1e-9)


def scan_inputs(
    dtype: torch.dtype, batch: int = 3, length: int = 23, d_inner: int = 5, n_state: int = 3
) -> tuple[tuple[torch.Tensor, ...], torch.Tensor]:
    """Random inputs of :func:`selective_scan` needing gradients, resets inside and across chunks.

    ``(u, dt, A, B, C, D, z)``: ``dt`` is before the softplus, spread so that the decay runs
    from about 0.97 to 0.01 per step.
    """
    torch.manual_seed(0)
    kw = {"dtype": dtype}
    u = torch.randn(batch, length, d_inner, **kw, requires_grad=True)
    dt = (torch.randn(batch, length, d_inner, **kw) * 1.5 - 1.5).requires_grad_()
    A = (-torch.rand(d_inner, n_state, **kw) * 3 - 0.1).requires_grad_()
    B = torch.randn(batch, length, n_state, **kw, requires_grad=True)
    C = torch.randn(batch, length, n_state, **kw, requires_grad=True)
    D = torch.randn(d_inner, **kw, requires_grad=True)
    z = torch.randn(batch, length, d_inner, **kw, requires_grad=True)
    keep = torch.ones(batch, length, **kw)
    keep[:, 0] = 0.0
    keep[0, length - 1] = 0.0
    for row, t in ((0, 4), (1, 8), (2, 17)):
        if row < batch and t < length:
            keep[row, t] = 0.0
    return (u, dt, A, B, C, D, z), keep


@pytest.mark.parametrize(("chunk", "checkpoint"), [(4, 1), (4, 2), (3, 4), (32, 4)])
def test_chunked_scan_matches_the_step_loop_and_its_gradients(
    chunk: int, checkpoint: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Values and every gradient of the chunked scan, with resets inside and across chunks.

    The chunk sizes cover one chunk for the whole sequence, a last chunk shorter than the
    others, and states saved at every chunk, every second chunk and past the last chunk.
    """
    monkeypatch.setattr(scan_module, "chunking", lambda *shape: (chunk, checkpoint))
    inputs, keep = scan_inputs(torch.float64)
    assert_scans_agree(selective_scan, reference_selective_scan, inputs, keep)
    if chunk == 3:  # finite differences once (seconds): the most fragmented layout
        assert torch.autograd.gradcheck(
            lambda *args: selective_scan(*args, keep), inputs, fast_mode=True
        )


def test_the_step_loop_is_the_recurrence_written_out() -> None:
    """The oracle itself, against the formulas of the module docstring on a 3-step sequence."""
    (u, dt, A, B, C, D, z), keep = scan_inputs(torch.float64, batch=1, length=3)
    keep[0, 2] = 0.0  # a reset at the last step
    with torch.no_grad():
        out = reference_selective_scan(u, dt, A, B, C, D, z, keep)[0]
        delta = torch.nn.functional.softplus(dt[0])
        h = torch.zeros_like(A)
        for t in range(3):
            h = keep[0, t] * torch.exp(delta[t, :, None] * A) * h
            h = h + (delta[t] * u[0, t])[:, None] * B[0, t]
            expected = ((h * C[0, t]).sum(-1) + D * u[0, t]) * torch.sigmoid(z[0, t]) * z[0, t]
            torch.testing.assert_close(out[t], expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("chunk", [2, 5])
def test_a_reset_zeroes_the_state(chunk: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """After a reset the scan continues as if the sequence started there, and no gradient
    reaches anything before it (chunk 2: the reset starts a chunk; 5: it falls inside one)."""
    monkeypatch.setattr(scan_module, "chunking", lambda *shape: (chunk, 2))
    assert_a_reset_isolates(selective_scan, length=16)


def assert_scans_agree(
    scan: Any,
    reference: Any,
    inputs: tuple[torch.Tensor, ...],
    keep: torch.Tensor,
    value_tol: float = 1e-12,
    grad_tol: float = 1e-10,
) -> None:
    """``scan`` gives ``reference``'s values (with and without autograd) and every gradient."""
    fast, slow = scan(*inputs, keep), reference(*inputs, keep)
    torch.testing.assert_close(fast, slow, rtol=value_tol, atol=value_tol)
    with torch.no_grad():
        torch.testing.assert_close(scan(*inputs, keep), slow, rtol=value_tol, atol=value_tol)
    weights = torch.randn_like(fast)
    fast_grads = torch.autograd.grad((fast * weights).sum(), inputs)
    slow_grads = torch.autograd.grad((slow * weights).sum(), inputs)
    for g_fast, g_slow in zip(fast_grads, slow_grads, strict=True):
        torch.testing.assert_close(g_fast, g_slow, rtol=grad_tol, atol=grad_tol)


def assert_a_reset_isolates(scan: Any, length: int, reset: int = 10) -> None:
    """Two trajectories stacked in one row, the second starting at ``reset``: its outputs are
    those of it alone, and no gradient reaches the first's inputs (exactly zero, not small)."""
    (u, dt, A, B, C, D, z), keep = scan_inputs(torch.float64, batch=1, length=length)
    keep.fill_(1.0)
    keep[0, 0] = keep[0, reset] = 0.0
    out = scan(u, dt, A, B, C, D, z, keep)
    tail = [x[:, reset:] for x in (u, dt)] + [A] + [x[:, reset:] for x in (B, C)]
    alone = scan(*tail, D, z[:, reset:], torch.ones(1, length - reset, dtype=torch.float64))
    torch.testing.assert_close(out[:, reset:], alone, rtol=1e-12, atol=1e-12)
    grads = torch.autograd.grad(out[:, reset:].sum(), (u, dt, B, C, z))
    for grad in grads:
        assert torch.equal(grad[:, :reset], torch.zeros_like(grad[:, :reset])), "state leaks"
        assert grad[:, reset:].abs().sum() > 0


def test_chunking_fits_the_buffer_and_saves_a_state_every_64_steps() -> None:
    assert scan_module.chunking(2, 512, 64, 4) == (16, 4)  # the paper's sizes
    assert scan_module.chunking(1, 128, 16, 4) == (64, 1)  # the smoke tier's narrow networks
    assert scan_module.chunking(64, 1024, 64, 8) == (8, 8)  # huge states: never below 8 steps


def test_scan_matches_the_previous_implementation_in_float32() -> None:
    """The present scan gives the frozen previous one's values and gradients (float32, resets);
    the previous one takes the step after the softplus and leaves the skip and gate out."""
    inputs, keep = scan_inputs(torch.float32, batch=3, length=75, d_inner=24, n_state=16)
    u, dt, A, B, C, D, z = inputs
    new = selective_scan(*inputs, keep)
    y = previous_selective_scan(u, torch.nn.functional.softplus(dt), A, B, C, keep)
    old = (y + u * D) * torch.nn.functional.silu(z)
    torch.testing.assert_close(new, old, rtol=1e-5, atol=1e-5)
    weights = torch.randn_like(new)
    new_grads = torch.autograd.grad((new * weights).sum(), inputs)
    old_grads = torch.autograd.grad((old * weights).sum(), inputs)
    for g_new, g_old in zip(new_grads, old_grads, strict=True):
        torch.testing.assert_close(g_new, g_old, rtol=1e-4, atol=1e-4)


def test_small_chunks_keep_stacked_trajectories_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Mamba core with many chunks and saved states per row: still no leak, same outputs."""
    monkeypatch.setattr(scan_module, "chunking", lambda *shape: (2, 3))
    test_stacked_batch_matches_each_trajectory_alone("mamba")
    test_no_gradient_crosses_trajectories("mamba")


def test_flushing_padding_emulates_resets_for_a_reset_free_kernel() -> None:
    """The mamba-ssm path's trick, checked on the CPU with the reference scan as the kernel."""
    torch.manual_seed(0)
    batch, length, d_inner, n_state = 2, 15, 4, 3
    u, dt = torch.randn(batch, length, d_inner), torch.randn(batch, length, d_inner) - 2.0
    A = -torch.arange(1.0, n_state + 1).repeat(d_inner, 1)
    B, C = torch.randn(batch, length, n_state), torch.randn(batch, length, n_state)
    D, z = torch.randn(d_inner), torch.randn(batch, length, d_inner)
    reset = torch.zeros(batch, length, dtype=torch.bool)
    valid = torch.ones_like(reset)
    reset[:, 0] = reset[0, 8] = reset[1, 5] = True
    valid[0, 6:8] = valid[1, 3:5] = False  # padding before each inner reset

    def kernel(*args: torch.Tensor) -> torch.Tensor:  # mamba-ssm's layout: (batch, D, length)
        u, dt, A, B, C, D, z = (x if x.dim() < 3 else x.transpose(1, 2) for x in args)
        keep = torch.ones(u.shape[0], u.shape[1])
        return reference_selective_scan(u, dt, A, B, C, D, z, keep).transpose(1, 2)

    flushed = flushed_scan(u, dt, A, B, C, D, z, Layout(reset, valid), kernel)
    assert flushed is not None
    exact = selective_scan(u, dt, A, B, C, D, z, (~reset).float())
    torch.testing.assert_close(flushed[valid], exact[valid])
    valid[0, 7] = True  # now a trajectory starts right after a valid token: no flush possible
    assert flushed_scan(u, dt, A, B, C, D, z, Layout(reset, valid), kernel) is None
