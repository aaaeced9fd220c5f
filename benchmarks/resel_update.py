"""Time of one full RESeL update per context encoder, as a ratio to the GRU's, side by side.

One update = the critic step, the target soft update, the policy step and the temperature step
(``Resel.learn`` on a policy-update step), at the paper's sizes (pre-encoders 128, MLP 256,
Mamba state 64 / convolution 8 / expand 2 with the feed-forward, embedding 128, policy and 8
critic heads of 2 x 256; the Transformer at the public launcher's width 512, 4 layers, 8 heads),
on a batch of two 1000-step trajectories of HalfCheetah's sizes (17-d observations, 6-d
actions), as RESeL Table 3 measured. Encoders: ``mamba``, ``gru``, ``transformer`` and
``mlp`` (the Mamba block replaced by a position-wise layer: Table 3's "FC"),
``mamba-torch``: ``mamba`` with the pure-PyTorch scan and convolution (``encoders/scan.py``,
``compiled_conv.torch_causal_conv``) where ``mamba`` runs the compiled CPU kernels
(``encoders/mamba_kernels.c``; the pure ones where no compiler exists),
so that a change of the kernels is measured before and after in one run, ``mamba-previous``:
``mamba`` with the pure-PyTorch scan before ``scan.py``'s (``encoders/scan_previous.py``), and
``mamba-no-scan``: ``mamba`` with the state-space part of the scan removed (the block keeps its
projections, convolution, skip and gate: ``out = D u silu(z)``), the floor that no scan, however
fast, can go below.

Peak memory: after the timings, each encoder's agent is built again in a child process, makes
one warm-up update, and the peak memory of its next update above what the process held before
it is printed (on a CPU the resident-set high-water mark, Linux only; see :func:`measure_peak`).

The encoders are timed in turns (mamba, gru, transformer, mlp, mamba, ...) in one process and
each reports its median, so drifting machine load hits all alike; ratios are to the GRU's
median. RESeL Table 3 measured Mamba at 25.8 % and FC at 14.4 % of GRU on an RTX 4090.

Usage: python benchmarks/resel_update.py [--repeats 5] [--threads N] [--device cpu|cuda]
       [--preset paper|sanity|smoke] [--no-memory]
       [--encoders mamba gru transformer mlp mamba-torch mamba-previous mamba-no-scan]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from gymnasium import spaces
from torch import Tensor

import pomdpbench
from pomdpbench.agents.config import agent_config, resolve_config
from pomdpbench.agents.protocol import AgentContext
from pomdpbench.agents.resel.agent import Resel, ReselGRU, ReselTransformer
from pomdpbench.agents.resel.config import ReselConfig
from pomdpbench.agents.resel.encoders import mamba as mamba_module
from pomdpbench.agents.resel.encoders.compiled_scan import ENV, kernel_for
from pomdpbench.agents.resel.encoders.kernel_build import load_kernel
from pomdpbench.agents.resel.encoders.scan_previous import previous_selective_scan
from pomdpbench.registry import get_task


class Preset(NamedTuple):
    """Sizes of one benchmark setting: the batch's trajectories and the agent's configuration."""

    obs: int
    act: int
    steps: int
    """Steps per trajectory."""
    trajectories: int
    """Trajectories in the buffer (every one is sampled at the paper's sizes)."""
    config: dict[str, Any]


def project_settings(suite: str, task: str, tier: str, steps: int) -> Preset:
    """RESeL's settings for ``task`` at ``tier`` from ``baselines/resel/<suite>.toml``.

    The buffer gets four ``steps``-long trajectories; a batch takes as many as its size asks.
    """
    spec = get_task(task)
    act = int(spec.action_space.removeprefix("Box(").removesuffix(")"))  # continuous tasks only
    return Preset(spec.observation_size, act, steps, 4, resolve_config("resel", suite, task, tier))


PRESETS = {
    # HalfCheetah-v2 observation and action sizes, two 1000-step episodes per batch (Table 3).
    "paper": lambda: Preset(17, 6, 1000, 2, {"batch_size": 2 * 1000 - 1}),
    # The full sanity budget's Pendulum-V-v0: width 128, state 16, one 200-step episode a batch.
    "sanity": lambda: project_settings("sanity", "Pendulum-V-v0", "full", 200),
    # The README's main job (classic suite, smoke tier): width 64, one 1000-step episode a batch.
    "smoke": lambda: project_settings("classic", "HalfCheetahBLT-V-v0", "smoke", 1000),
}


class ReselMLP(Resel):
    """The memoryless comparison: the Mamba block replaced by a position-wise linear layer."""

    Config = ReselConfig  # no core settings of its own
    encoder_kind = "mlp"
    agent_id = "resel-mlp"


AGENTS: dict[str, type[Resel]] = {
    "mamba": Resel,
    "gru": ReselGRU,
    "transformer": ReselTransformer,
    "mlp": ReselMLP,
    "mamba-torch": Resel,
    "mamba-previous": Resel,
    "mamba-no-scan": Resel,
}


def previous_scan(
    u: Tensor, dt: Tensor, A: Tensor, B: Tensor, C: Tensor, D: Tensor, z: Tensor, keep: Tensor
) -> Tensor:
    """The previous scan with the softplus, skip and gate around it, as the block had them."""
    return (previous_selective_scan(u, F.softplus(dt), A, B, C, keep) + u * D) * F.silu(z)


def no_scan(
    u: Tensor, dt: Tensor, A: Tensor, B: Tensor, C: Tensor, D: Tensor, z: Tensor, keep: Tensor
) -> Tensor:
    """The block without its state-space part: skip and gate only (a floor, not a model)."""
    return u * D * F.silu(z)


SCANS = {"mamba-previous": previous_scan, "mamba-no-scan": no_scan}


@contextlib.contextmanager
def scan_for(kind: str) -> Iterator[None]:
    """Swap in another scan while a ``mamba-torch``, ``-previous`` or ``-no-scan`` agent runs.

    ``mamba-torch`` sets ``POMDPBENCH_SCAN=torch``, which the block reads at every call: the
    pure-PyTorch scan and convolution, as where no compiler exists.
    """
    if kind == "mamba-torch":
        previous = os.environ.get(ENV)
        os.environ[ENV] = "torch"
        try:
            yield
        finally:
            if previous is None:
                del os.environ[ENV]
            else:
                os.environ[ENV] = previous
        return
    if kind not in SCANS:
        yield
        return
    current = mamba_module.selective_scan
    mamba_module.selective_scan = SCANS[kind]
    try:
        yield
    finally:
        mamba_module.selective_scan = current


def build(kind: str, device: str, preset: Preset) -> Resel:
    """An agent of ``kind`` whose buffer holds the preset's random trajectories."""
    obs, act, steps = preset.obs, preset.act, preset.steps
    ctx = AgentContext(
        task=get_task("Pendulum-F-v0"),  # any spec: the agent reads only the spaces below
        observation_space=spaces.Box(-np.inf, np.inf, (obs,), np.float32),
        action_space=spaces.Box(-1.0, 1.0, (act,), np.float32),
        privileged_size=None,
        seed=0,
        budget=10_000,
        tier="custom",
        device=device,
    )
    cls = AGENTS[kind]
    values = cls.finalize_config(preset.config)  # a shared suite file without other cores' keys
    config = agent_config(cls, values, cls.agent_id)
    agent = cls(replace(ctx, config=config))
    rng = np.random.default_rng(0)
    for _ in range(preset.trajectories):
        for t in range(steps):
            agent.buffer.add(
                rng.normal(size=obs).astype(np.float32),
                rng.uniform(-1, 1, act).astype(np.float32),
                float(rng.normal()),
                rng.normal(size=obs).astype(np.float32),
                terminated=False,
                truncated=t == steps - 1,
                episode_start=t == 0,
            )
    return agent


def time_update(agent: Resel, kind: str, device: str) -> float:
    """Seconds for one full update (critic + policy + temperature) on a fresh batch."""
    batch = agent.sample()
    agent.updates = 0  # a policy-update step
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    with scan_for(kind):
        start = time.perf_counter()
        agent.learn(batch)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        return time.perf_counter() - start


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def measure_peak(kind: str, device: str, preset: Preset) -> float:
    """Bytes by which one full update raises the process's peak memory (run in a child).

    CPU: the resident-set high-water mark (``VmHWM``) is reset after a warm-up update, and the
    next update's peak is read against the resident size before it; the parent starts this
    child with glibc's mmap threshold fixed at 64 KiB so that every large tensor is returned to
    the system when freed and the resident size follows the live tensors. CUDA: the allocator's
    own peak statistics.
    """
    agent = build(kind, device, preset)
    time_update(agent, kind, device)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
        time_update(agent, kind, device)
        return float(torch.cuda.max_memory_allocated() - before)
    Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current VmRSS
    before = _status_kib("VmRSS")
    time_update(agent, kind, device)
    return 1024.0 * (_status_kib("VmHWM") - before)


def peak_in_child(kind: str, args: argparse.Namespace) -> float | None:
    """:func:`measure_peak` in a fresh interpreter; None where /proc is not Linux's."""
    if not args.device.startswith("cuda") and not Path("/proc/self/clear_refs").exists():
        return None
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "65536", "MALLOC_TRIM_THRESHOLD_": "0"}
    command = [
        sys.executable,
        __file__,
        "--peak-of",
        kind,
        "--device",
        args.device,
        "--preset",
        args.preset,
        "--threads",
        str(args.threads),
    ]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    return float(result.stdout.split()[-1])


def scan_in_use(device: str) -> str:
    """Which scan the ``mamba`` row runs (the compiled one, or why not)."""
    if kernel_for(torch.zeros(1, device=device)) is None:
        return "pure PyTorch (see the logged reason)"
    return load_kernel()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--preset", default="paper", choices=list(PRESETS), help="sizes")
    parser.add_argument("--encoders", nargs="+", default=list(AGENTS), choices=list(AGENTS))
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory pass")
    parser.add_argument("--peak-of", choices=list(AGENTS), help=argparse.SUPPRESS)  # the child
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    preset = PRESETS[args.preset]()
    if args.peak_of:
        print(measure_peak(args.peak_of, args.device, preset))
        return
    kinds = list(dict.fromkeys(["gru", *args.encoders]))
    print(
        f"pomdpbench {pomdpbench.__version__}, torch {torch.__version__}, {args.threads} "
        f"threads, {args.device}; preset {args.preset}: {preset.steps}-step trajectories, "
        f"obs {preset.obs}, act {preset.act}, settings {preset.config}"
    )
    print(f"mamba's scan: {scan_in_use(args.device)}")
    agents = {kind: build(kind, args.device, preset) for kind in kinds}
    for kind in kinds:  # warm-up: first calls allocate and pick kernels
        time_update(agents[kind], kind, args.device)
    times: dict[str, list[float]] = {kind: [] for kind in kinds}
    for _ in range(args.repeats):
        for kind in kinds:
            times[kind].append(time_update(agents[kind], kind, args.device))
    medians = {kind: statistics.median(values) for kind, values in times.items()}
    del agents
    peaks = {kind: None if args.no_memory else peak_in_child(kind, args) for kind in kinds}
    print(f"{'encoder':<16} {'median ms':>10} {'/ gru':>8} {'peak MiB':>9}")
    for kind in kinds:
        measured = peaks[kind]
        peak = "-" if measured is None else f"{measured / 2**20:.0f}"
        ratio = medians[kind] / medians["gru"]
        print(f"{kind:<16} {1000 * medians[kind]:>10.1f} {ratio:>8.3f} {peak:>9}")
    if "mamba" in medians:
        print(f"mamba/gru = {medians['mamba'] / medians['gru']:.3f}")
    for other in ("mamba-torch", "mamba-previous"):
        if "mamba" in medians and other in medians:
            print(f"mamba/{other} = {medians['mamba'] / medians[other]:.3f}")
            old, new = peaks[other], peaks["mamba"]
            if old is not None and new is not None:
                print(f"peak memory mamba/{other} = {new / old:.3f}")


if __name__ == "__main__":
    main()
