"""Shared by the learner benchmarks: a shipped learner and its peers timed in turns, one core.

``sac_throughput.py`` and ``learner_throughput.py`` race a pomdpbench learner (through the
harness's own training loop) against Stable-Baselines3 and SBX (Stable-Baselines in JAX) on
the same task with the same sizes, batch, update ratio and one CPU core. Each contestant is
built once and warmed up on its own: the uniform-action warm-up fills its replay, then its
first update is timed apart (SBX compiles its update there: the ``first update`` column), and
a few more updates run untimed. Then the contestants take turns: one timed window of
``steps`` environment steps each, ``repeats`` times over, each continuing its own training.
A burst of load elsewhere hits one window, not one contestant, and each keeps its best window.

One core, for all of them: the process is pinned to one CPU before torch or JAX start. JAX's
XLA flags ``--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1`` (set here too)
did not keep jax 0.10 on one thread: measured on this machine, four of its threads burned CPU
during a 1500^2 matmul (126, 103, 83 and 57 ticks); pinned, one did (363, 1, 0, 0). torch gets
``set_num_threads(1)`` as well. The ``cpu/wall`` column is process CPU time over wall time of a
window: about 1.0 when a contestant had its core, lower when other processes took it; ``per
cpu-s`` divides the rate by it (steps per CPU second, the figure load elsewhere moves least).
The final ``name/peer = R`` lines are ratios of the best steps per CPU second; the wall-clock
ratios of the best windows are printed just above them, and the median and range of the
ratios of the windows taken in the same round (how much one run's ratio can be trusted).

Import this module before torch or JAX are imported (the pinning must come first).
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

XLA_ONE_THREAD = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"


def pin_to_one_core(threads: int = 1) -> None:
    """Pin this process to ``threads`` CPUs and give torch and XLA that many threads."""
    if hasattr(os, "sched_setaffinity"):
        cpus = sorted(os.sched_getaffinity(0))[:threads]
        os.sched_setaffinity(0, set(cpus))
    if threads == 1:
        os.environ.setdefault("XLA_FLAGS", XLA_ONE_THREAD)
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    import torch

    torch.set_num_threads(threads)


@dataclass
class Contestant:
    """One learner in the race: how to warm it up and how to advance it by some steps."""

    name: str
    warm_up: Callable[[], float]
    """Fills the replay, runs the first update(s); returns the first update's seconds."""
    advance: Callable[[int], None]
    first_update_s: float = 0.0
    windows: list[tuple[float, float]] = field(default_factory=list)
    """(steps/s, cpu/wall) of each timed window."""

    @property
    def best(self) -> float:
        """Steps per second of the fastest window."""
        return max(sps for sps, _ in self.windows)

    @property
    def best_per_cpu(self) -> float:
        """Steps per CPU second of the process, best window: what load elsewhere moves least."""
        return max(sps / share for sps, share in self.windows)


def race(contestants: list[Contestant], steps: int, repeats: int) -> None:
    """Warm each up, then time ``repeats`` rounds of one ``steps`` window each, in turns."""
    for c in contestants:
        c.first_update_s = c.warm_up()
        print(f"{c.name}: warmed up (first update {c.first_update_s:.2f} s)", flush=True)
    for repeat in range(repeats):
        for c in contestants:
            wall, cpu = time.perf_counter(), time.process_time()
            c.advance(steps)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            c.windows.append((steps / wall, cpu / wall))
        line = ", ".join(f"{c.name} {c.windows[-1][0]:.1f}" for c in contestants)
        print(f"repeat {repeat + 1}: {line} steps/s", flush=True)


def print_table(contestants: list[Contestant]) -> None:
    """Steps/s of every window, best, cpu/wall and the first update's time."""
    repeats = len(contestants[0].windows)
    head = "".join(f"{'rep ' + str(i + 1):>9}" for i in range(repeats))
    print(
        f"\n{'learner':<12}{head}{'best':>9}{'cpu/wall':>10}{'per cpu-s':>11}{'first update s':>16}"
    )
    for c in contestants:
        cells = "".join(f"{sps:>9.1f}" for sps, _ in c.windows)
        share = max(r for _, r in c.windows)
        print(
            f"{c.name:<12}{cells}{c.best:>9.1f}{share:>10.2f}{c.best_per_cpu:>11.1f}"
            f"{c.first_update_s:>16.2f}"
        )


def ratio_lines(name: str, contestants: list[Contestant]) -> list[str]:
    """``name/peer = R`` per CPU second (best windows), after the wall-clock ratios.

    On a machine shared with other jobs a window's wall rate says more about the load during
    it than about the learner (the same learner's windows differed 3x here), so the final
    lines compare steps per CPU second, which such load moves least.
    """
    ours_c = next(c for c in contestants if c.name == name)
    peers = [c for c in contestants if c is not ours_c]
    wall = ", ".join(f"{name}/{c.name} {ours_c.best / c.best:.3f}" for c in peers)
    rounds = ", ".join(f"{name}/{c.name} {round_ratios(ours_c, c)}" for c in peers)
    return [f"(wall clock, best windows: {wall})", f"(round by round: {rounds})"] + [
        f"{name}/{c.name} = {ours_c.best_per_cpu / c.best_per_cpu:.3f}" for c in peers
    ]


def warm(advance: Callable[[int], None], fill: int, first: int, extra: int) -> float:
    """``fill`` untimed steps, then ``first`` timed (the first update), then ``extra`` more."""
    advance(fill)
    start = time.perf_counter()
    advance(first)
    seconds = time.perf_counter() - start
    advance(extra)
    return seconds


def ours(
    agent: str,
    task: str,
    config: dict[str, Any],
    fill: int,
    first: int = 1,
    extra: int = 0,
    device: str = "cpu",
) -> Contestant:
    """A shipped agent through the harness's training loop (no evaluations in the windows)."""
    from pomdpbench.harness.checkpoint import HarnessState
    from pomdpbench.harness.loop import _train, build_run
    from pomdpbench.harness.seeding import seed_everything
    from pomdpbench.record.job import JobSpec

    job = JobSpec(
        agent=agent,
        agent_version="bench",
        agent_entry_point="",
        task=task,
        suite="bench",
        tier="custom",
        seed=0,
        budget=10**9,
        eval_every=10**9,
        eval_episodes=1,
        config=config,
        known_eval_steps=(0,),
        device=device,
    )
    seed_everything(0)  # before the networks are built, so their initial weights repeat
    run = build_run(job)
    state = HarnessState()

    def advance(steps: int) -> None:
        if not steps:
            return
        budget = state.env_step + steps
        known = (0, budget)  # no evaluation at the window's end
        _train(
            replace(job, budget=budget, known_eval_steps=known),
            True,
            *run,
            state,
            lambda event: None,
            None,
            time.perf_counter(),
        )

    # The harness's agent updates in the step that reaches learning_starts; SB3 one step later.
    return Contestant(agent, lambda: warm(advance, max(fill - 1, 0), first, extra), advance)


def stable_baselines(
    name: str,
    algorithm: Any,
    task: str,
    kwargs: dict[str, Any],
    fill: int,
    first: int = 1,
    extra: int = 0,
) -> Contestant:
    """An SB3 or SBX algorithm (they share SB3's API), trained in windows by ``learn``."""
    import gymnasium

    import pomdpbench  # noqa: F401  (registers the task ids with Gymnasium)

    model = algorithm("MlpPolicy", gymnasium.make(task), seed=0, verbose=0, **kwargs)

    def advance(steps: int) -> None:
        if steps:
            model.learn(total_timesteps=steps, reset_num_timesteps=False)

    return Contestant(name, lambda: warm(advance, fill, first, extra), advance)


def round_ratios(ours_c: Contestant, peer: Contestant) -> str:
    """Median and range of the per-CPU-second ratios of the windows taken in the same round.

    The two windows of a round ran seconds apart, so a round's ratio sees nearly the same
    machine; their spread says how far one run's best-window ratio can be trusted.
    """
    ratios = sorted(
        (sps / share) / (peer_sps / peer_share)
        for (sps, share), (peer_sps, peer_share) in zip(ours_c.windows, peer.windows, strict=True)
    )
    median = statistics.median(ratios)
    return f"median {median:.2f}, {ratios[0]:.2f}-{ratios[-1]:.2f} over {len(ratios)} rounds"
