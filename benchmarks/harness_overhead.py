"""What the harness costs per step: ``random`` through the harness vs a bare Gymnasium loop.

For each task, the same number of environment steps runs (a) as a bare loop of
``env.step(env.action_space.sample())`` with resets, and (b) as a ``random`` run through
:func:`pomdpbench.harness.loop.run_job` (agent calls, transitions, action encoding, the step
clock, and its evaluations at step 0 and at the end, counted against the harness). The two
alternate in this one process and each side keeps its best of ``--repeats``, so that noise
from other processes does not decide the ratio. The goal is harness/bare >= 0.9.

Usage: python benchmarks/harness_overhead.py [--steps 50000] [--repeats 3] [--task ID ...]
"""

from __future__ import annotations

import argparse
import time

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


def harness(task: str, steps: int) -> float:
    """Steps per second of the random agent through the harness (everything included)."""
    job = JobSpec(
        agent="random", agent_version="bench", agent_entry_point="", task=task,
        suite=pomdpbench.get_task(task).suite, tier="custom", seed=0, budget=steps,
        eval_every=steps, eval_episodes=1,
    )  # fmt: skip
    start = time.perf_counter()
    run_job(job, lambda event: None)
    return steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--task", nargs="+", default=list(DEFAULT_TASKS))
    args = parser.parse_args()
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
