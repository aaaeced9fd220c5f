"""torch's own CPU matrix products (MKL) against oneDNN's, per shape and in whole updates.

``pomdpbench/agents/onednn.py`` sends large float32 products through oneDNN, which on an AMD
CPU runs AVX-512 where MKL runs AVX2 (docs/agents.md, "Large products through oneDNN"). This
prints the figures behind that choice, on one core:

* per shape (rows x in x out): a linear layer's forward, its weight gradient and its input
  gradient, each through ``torch.addmm`` / ``mm`` and through oneDNN, best of 5 rounds, with
  whether :func:`onednn.fits` takes it;
* per learner (``sac-mlp`` at batch 256, ``td3-mlp`` at batch 100, 256 x 256 networks, on
  Pendulum-F-v0 through the harness): one update's CPU time with oneDNN switched off and on,
  in alternating rounds in this one process, best and median.

Last lines: ``<learner> update torch/onednn = R`` (medians).

Usage: python benchmarks/matmul_paths.py [--rounds 12] [--no-updates]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

from peer_race import ours, pin_to_one_core

SHAPES = [
    (256, 256, 256),
    (100, 256, 256),
    (256, 4, 256),
    (64, 128, 128),
    (32, 256, 256),
    (8, 256, 256),
    (2000, 256, 256),
    (4096, 16, 64),
]
LEARNERS = {"sac-mlp": 256, "td3-mlp": 100}


def best_us(fn: Callable[[], Any], seconds: float = 0.02) -> float:
    """Best of 5 rounds of a loop lasting about ``seconds``, in microseconds a call."""
    fn()
    start = time.perf_counter()
    fn()
    calls = max(5, int(seconds / max(time.perf_counter() - start, 1e-7)))
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        best = min(best, (time.perf_counter() - start) / calls)
    return best * 1e6


def layer_products(x: Any, w: Any, b: Any, g: Any) -> list[tuple[Callable[[], Any], ...]]:
    """(torch's, oneDNN's) forward, weight gradient and input gradient of ``F.linear(x, w, b)``."""
    import torch

    kernel = torch.ops.mkldnn._linear_pointwise
    return [
        (lambda: torch.addmm(b, x, w.t()), lambda: kernel(x, w, b, "none", [], "")),
        (lambda: g.t() @ x, lambda: kernel(g.t(), x.t(), None, "none", [], "")),
        (lambda: g @ w, lambda: kernel(g, w.t(), None, "none", [], "")),
    ]


def shape_table() -> None:
    import torch

    from pomdpbench.agents import onednn

    header = f"{'forward':>22}{'weight grad':>22}{'input grad':>22}"
    print(f"{'rows x in x out':<18}{header}  forward taken")
    for rows, inp, out in SHAPES:
        x, w, b, g = (torch.randn(*s) for s in ((rows, inp), (out, inp), (out,), (rows, out)))
        cells = ""
        for plain, fast in layer_products(x, w, b, g):
            cells += f"{best_us(plain):>10.1f} /{best_us(fast):>8.1f} us"
        print(f"{f'{rows} x {inp} x {out}':<18}{cells}  {onednn.fits(x, w.t())}", flush=True)


def capture_agent(name: str, batch: int) -> Any:
    """A learner warmed up through the harness (``peer_race.ours``), for its ``_update_once``."""
    import pomdpbench.harness.loop as loop

    built: list[Any] = []
    build_run = loop.build_run

    def keep(job: Any, *args: Any, **kwargs: Any) -> Any:
        run = build_run(job, *args, **kwargs)
        built.append(run)
        return run

    loop.build_run = keep
    try:
        config = {"hidden_sizes": [256, 256], "batch_size": batch, "learning_starts": 1000}
        contestant = ours(name, "Pendulum-F-v0", {**config, "updates_per_step": 1}, fill=1000)
        contestant.warm_up()
        contestant.advance(100)
    finally:
        loop.build_run = build_run
    return next(part for part in built[0] if hasattr(part, "_update_once"))


def update_ratios(rounds: int) -> list[str]:
    from pomdpbench.agents import onednn

    lines = []
    for name, batch in LEARNERS.items():
        agent = capture_agent(name, batch)
        times: dict[bool, list[float]] = {False: [], True: []}
        for _ in range(rounds):
            for enabled in (False, True):
                onednn.ENABLED = enabled
                each = []
                for _ in range(30):
                    start = time.process_time()
                    agent._update_once()
                    each.append(time.process_time() - start)
                times[enabled].append(statistics.median(each) * 1e3)
        onednn.ENABLED = True
        plain, fast = (statistics.median(times[flag]) for flag in (False, True))
        print(
            f"{name} update (batch {batch}): torch best {min(times[False]):.2f} median "
            f"{plain:.2f} ms, oneDNN best {min(times[True]):.2f} median {fast:.2f} ms"
        )
        lines.append(f"{name} update torch/onednn = {plain / fast:.3f}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=12, help="alternating rounds per learner")
    parser.add_argument("--no-updates", action="store_true", help="only the per-shape table")
    args = parser.parse_args()
    pin_to_one_core()
    from pomdpbench.agents import onednn

    if not onednn.ENABLED:
        raise SystemExit("oneDNN is not in use here (not x86-64, or POMDPBENCH_ONEDNN=0)")
    shape_table()
    if not args.no_updates:
        print()
        for line in update_ratios(args.rounds):
            print(line)


if __name__ == "__main__":
    main()
