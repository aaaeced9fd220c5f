"""What the harness costs per step: ``random`` through the harness vs a bare Gymnasium loop.

For each task, the same number of environment steps runs (a) as a bare loop of
``env.step(env.action_space.sample())`` with resets, and (b) as a ``random`` run through
:func:`pomdpbench.harness.loop.run_job` (agent calls, transitions, action encoding, the step
clock, and its evaluations at step 0 and at the end, counted against the harness). The two
alternate in this one process and each side keeps its best of ``--repeats``, so that noise
from other processes does not decide the ratio. The goal is harness/bare >= 0.9.

``--against REV`` compares instead today's loop with the training loop as it was at git
revision REV (loaded beside it in this process; both use today's evaluation code): the same
``random`` run alternating between the two, timed in this process's CPU time so that other
processes on a shared machine do not enter the ratio, reported as the median of the pairs'
ratios. It measured the per-step action checks (:mod:`pomdpbench.harness.validation`), whose
goal is now/then >= 0.99 on the physics tasks.

Usage: python benchmarks/harness_overhead.py [--steps 50000] [--repeats 3] [--task ID ...]
       python benchmarks/harness_overhead.py --against 4b77e32 --repeats 9 --task HopperBLT-V-v0
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import time
import types
from pathlib import Path
from typing import Any

import gymnasium

import pomdpbench
from pomdpbench.harness.loop import run_job
from pomdpbench.record.job import JobSpec

DEFAULT_TASKS = ("Pendulum-V-v0", "CartPole-V-v0", "LunarLander-V-v0", "TMazePassive-10-v0")


def bare(task: str, steps: int) -> float:
    """Steps per second of a plain Gymnasium loop with uniform random actions."""
    env = gymnasium.make(task)
    env.action_space.seed(0)
    env.reset(seed=0)
    sample, step, reset = env.action_space.sample, env.step, env.reset
    start = time.perf_counter()
    for _ in range(steps):
        _, _, terminated, truncated, _ = step(sample())
        if terminated or truncated:
            reset()
    return steps / (time.perf_counter() - start)


def random_job(task: str, steps: int) -> JobSpec:
    """The random agent on ``task`` for ``steps`` steps, one evaluation at the end."""
    return JobSpec(
        agent="random",
        agent_version="bench",
        agent_entry_point="",
        task=task,
        suite=pomdpbench.get_task(task).suite,
        tier="custom",
        seed=0,
        budget=steps,
        eval_every=steps,
        eval_episodes=1,
    )


def harness(task: str, steps: int) -> float:
    """Steps per second of the random agent through the harness (everything included)."""
    job = random_job(task, steps)
    start = time.perf_counter()
    run_job(job, lambda event: None)
    return steps / (time.perf_counter() - start)


def loop_at(revision: str) -> Any:
    """The training loop module as it was at git ``revision``, loaded beside today's."""
    source = subprocess.run(
        ["git", "show", f"{revision}:pomdpbench/harness/loop.py"],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parent,
    ).stdout
    module = types.ModuleType(f"loop_at_{revision}")
    exec(compile(source, f"{revision}:pomdpbench/harness/loop.py", "exec"), module.__dict__)
    return module


def cpu_rate(runner: Any, task: str, steps: int) -> float:
    """Steps per CPU second of the random agent through ``runner`` (a ``run_job``)."""
    job = random_job(task, steps)
    start = time.process_time()
    runner(job, lambda event: None)
    return steps / (time.process_time() - start)


def against(revision: str, tasks: list[str], steps: int, repeats: int) -> None:
    """Print today's harness throughput against the loop of ``revision``, pair by pair."""
    old = loop_at(revision).run_job
    print(f"{'task':<22} {revision + ' steps/s':>18} {'now steps/s':>12} {'now/then (median)':>18}")
    for task in tasks:
        ratios, best_old, best_new = [], 0.0, 0.0
        for repeat in range(repeats):
            order = (old, run_job) if repeat % 2 == 0 else (run_job, old)
            rates = {runner: cpu_rate(runner, task, steps) for runner in order}
            ratios.append(rates[run_job] / rates[old])
            best_old, best_new = max(best_old, rates[old]), max(best_new, rates[run_job])
        median = statistics.median(ratios)
        print(f"{task:<22} {best_old:>18,.0f} {best_new:>12,.0f} {median:>18.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--task", nargs="+", default=list(DEFAULT_TASKS))
    parser.add_argument("--against", metavar="REV", help="compare with the loop of a git revision")
    args = parser.parse_args()
    if args.against:
        against(args.against, args.task, args.steps, args.repeats)
        return
    print(f"{'task':<22} {'bare steps/s':>14} {'harness steps/s':>16} {'harness/bare':>13}")
    ratios = []
    for task in args.task:
        bare_best = harness_best = 0.0
        for _ in range(args.repeats):
            bare_best = max(bare_best, bare(task, args.steps))
            harness_best = max(harness_best, harness(task, args.steps))
        ratios.append(harness_best / bare_best)
        print(f"{task:<22} {bare_best:>14,.0f} {harness_best:>16,.0f} {ratios[-1]:>13.3f}")
    print(f"worst task: {args.task[ratios.index(min(ratios))]}")
    print(f"harness/bare = {min(ratios):.3f}")


if __name__ == "__main__":
    main()
