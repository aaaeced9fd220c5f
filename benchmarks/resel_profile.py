"""Where the time of RESeL's Mamba context encoder goes on a CPU, and what a scan must cost.

At the paper's sizes (core width 256, expand 2, state 64, convolution 8, feed-forward; a batch
of two 1000-step trajectories, as ``benchmarks/resel_update.py``), three parts:

1. the Mamba core's forward pass and backward pass apart, under ``torch.profiler``: forward
   time by part (scan, the four projections, the causal convolution, the feed-forward head,
   the rest: norms, SiLU, masks), backward time by autograd node (``_SelectiveScanBackward`` is
   the scan; matrix-product nodes are the projections and the head; ``AddcmulBackward0`` and
   ``SliceBackward0`` the convolution);
2. the scan alone, forward without and with autograd and backward, medians of interleaved
   repeats, for the compiled scan (``encoders/compiled_scan.py``, the one the core runs on a
   CPU) and the pure-PyTorch one (``encoders/scan.py``);
3. the least work any scan must do: the bytes of its inputs and outputs, and its exponentials
   (one per state entry and token: ``D * N`` per token), with this CPU's measured ``exp2`` rate.

One update runs the encoder forward four times (policy, target critic, critic, critic again
for the policy loss) and backward twice (critic, policy), so its scan costs about
``4 * forward + 2 * backward`` of part 2 (two of the forwards without autograd).

Usage: python benchmarks/resel_profile.py [--repeats 5] [--threads 1]
"""

from __future__ import annotations

import argparse
import collections
import statistics
import time
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor
from torch.profiler import ProfilerActivity, profile, record_function

from pomdpbench.agents.resel.encoders import Layout, build_core, compiled_scan
from pomdpbench.agents.resel.encoders import mamba as mamba_module
from pomdpbench.agents.resel.encoders import scan as torch_scan

ROWS, STEPS, WIDTH, STATE, EXPAND, CONV = 2, 1001, 256, 64, 2, 8  # a packed paper-size batch


def labelled(function: Callable[..., Any], label: str) -> Callable[..., Any]:
    """``function`` inside a profiler range named ``label``."""

    def run(*args: Any, **kwargs: Any) -> Any:
        with record_function(label):
            return function(*args, **kwargs)

    return run


def profile_core() -> None:
    """Part 1: the core's forward by labelled part, its backward by autograd node."""
    torch.manual_seed(0)
    core = build_core(
        "mamba",
        WIDTH,
        mamba_state=STATE,
        mamba_conv=CONV,
        mamba_expand=EXPAND,
        transformer_heads=8,
        transformer_layers=4,
    )
    mixer: Any = core.mixers[0]
    for name in ("in_proj", "x_proj", "dt_proj", "out_proj"):
        layer = getattr(mixer, name)
        layer.forward = labelled(layer.forward, "projections")
    mixer._causal_conv = labelled(mixer._causal_conv, "convolution")
    head: Any = core.head
    head.forward = labelled(head.forward, "feed-forward")
    scan = mamba_module.selective_scan
    mamba_module.selective_scan = labelled(scan, "scan")
    x = torch.randn(ROWS, STEPS, WIDTH, requires_grad=True)
    layout, grad = Layout.single(ROWS, STEPS), torch.randn(ROWS, STEPS, WIDTH)
    try:
        for _ in range(2):  # warm-up
            core(x, layout).backward(grad)
        with profile(activities=[ProfilerActivity.CPU]) as forward:
            out = core(x, layout)
        with profile(activities=[ProfilerActivity.CPU]) as backward:
            out.backward(grad)
    finally:
        mamba_module.selective_scan = scan
    parts = collections.Counter()
    total = sum(e.self_cpu_time_total for e in forward.key_averages()) / 1e3
    for event in forward.events():
        if event.name in ("scan", "projections", "convolution", "feed-forward"):
            parts[event.name] += event.cpu_time_total / 1e3
    parts["rest (norms, SiLU, masks)"] = total - sum(parts.values())
    print(f"Mamba core forward (profiled): {total:.1f} ms")
    for name, ms in parts.most_common():
        print(f"  {name:<28} {ms:8.1f} ms {100 * ms / total:5.1f} %")
    nodes = collections.Counter()
    total = sum(e.self_cpu_time_total for e in backward.key_averages()) / 1e3
    for average in backward.key_averages():
        prefix = "autograd::engine::evaluate_function: "
        if average.key.startswith(prefix):
            nodes[average.key.removeprefix(prefix)] += average.cpu_time_total / 1e3
    print(f"Mamba core backward (profiled): {total:.1f} ms")
    for name, ms in nodes.most_common(8):
        print(f"  {name:<28} {ms:8.1f} ms {100 * ms / total:5.1f} %")


SCANS: dict[str, Callable[..., Tensor]] = {
    "compiled": compiled_scan.selective_scan,
    "pure PyTorch": torch_scan.selective_scan,
}


def time_scan(repeats: int) -> dict[str, dict[str, float]]:
    """Part 2: medians (ms) of each scan's forward without and with autograd, and backward.

    The compiled scan and the pure-PyTorch one run in turns, so load hits both alike (the
    compiled row is the pure scan again where no compiler exists: see the logged line).
    """
    torch.manual_seed(0)
    d_inner = EXPAND * WIDTH
    inputs = [
        torch.randn(ROWS, STEPS, d_inner),
        torch.randn(ROWS, STEPS, d_inner) - 4.0,
        -torch.arange(1.0, STATE + 1).repeat(d_inner, 1),
        torch.randn(ROWS, STEPS, STATE),
        torch.randn(ROWS, STEPS, STATE),
        torch.ones(d_inner),
        torch.randn(ROWS, STEPS, d_inner),
    ]
    needing = [t.clone().requires_grad_() for t in inputs]
    keep = torch.ones(ROWS, STEPS)
    keep[:, 0] = 0.0
    grad = torch.randn(ROWS, STEPS, d_inner)
    keys = ("forward, no autograd", "forward", "backward")
    times = {name: {key: [] for key in keys} for name in SCANS}
    for _ in range(repeats + 1):
        for name, scan in SCANS.items():
            start = time.perf_counter()
            with torch.no_grad():
                scan(*inputs, keep)
            middle = time.perf_counter()
            out = scan(*needing, keep)
            after_forward = time.perf_counter()
            torch.autograd.grad(out, needing, grad)
            end = time.perf_counter()
            spans = (middle - start, after_forward - middle, end - after_forward)
            for key, seconds in zip(keys, spans, strict=True):
                times[name][key].append(seconds)
    result = {}
    for name, by_key in times.items():
        medians = {key: 1000 * statistics.median(values[1:]) for key, values in by_key.items()}
        print(
            f"Scan alone, {name} (median ms):",
            ", ".join(f"{k} {v:.1f}" for k, v in medians.items()),
        )
        update = 2 * (medians["forward, no autograd"] + medians["forward"] + medians["backward"])
        print(f"  in one update (4 forwards, 2 backwards): about {update:.0f} ms")
        result[name] = medians
    return result


def least_work() -> None:
    """Part 3: bytes in and out, exponentials, and the exp2 rate of this CPU."""
    d_inner = EXPAND * WIDTH
    per_token = 4 * (3 * d_inner + 2 * STATE)  # u, dt, z; B, C (float32)
    forward_bytes = ROWS * STEPS * (per_token + 4 * d_inner)  # + the output
    backward_bytes = ROWS * STEPS * (2 * per_token + 8 * d_inner)  # inputs, y and grad in; grads
    exps = ROWS * STEPS * d_inner * STATE
    buffer = torch.randn(2**20)
    torch.exp2(buffer, out=buffer)
    start = time.perf_counter()
    for _ in range(20):
        torch.exp2(buffer, out=buffer.zero_())
    rate = 20 * 2**20 / (time.perf_counter() - start)
    state_bytes = 4 * exps
    print(
        f"Least work: forward moves {forward_bytes / 2**20:.0f} MiB, backward "
        f"{backward_bytes / 2**20:.0f} MiB; {exps / 1e6:.1f} M exponentials a pass "
        f"({exps / rate * 1000:.1f} ms at this CPU's exp2 rate, {rate / 1e9:.2f} G/s); "
        f"all states of a pass: {state_bytes / 2**20:.0f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(
        f"torch {torch.__version__}, {args.threads} threads; {ROWS} x {STEPS} tokens, "
        f"width {WIDTH}, d_inner {EXPAND * WIDTH}, state {STATE}"
    )
    profile_core()
    time_scan(args.repeats)
    least_work()


if __name__ == "__main__":
    main()
