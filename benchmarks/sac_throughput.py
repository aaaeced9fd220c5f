"""Env steps per second of ``sac-mlp`` (through the harness) vs Stable-Baselines3's SAC.

Both train on Pendulum-F-v0 with the same networks (two hidden layers of 256), batch size 256,
one gradient step per environment step, the same warm-up of uniform random actions and the same
number of steps, in this one process, with the same number of torch threads (default 1: on a
shared machine two threads per process can spin against other processes and slow a run tenfold,
which would measure the machine, not the code). Runs alternate (ours, SB3, ours, SB3, ...) and
each side keeps its best run, so a burst of load elsewhere does not decide the ratio. The goal
is a ratio >= 1.0: the benchmark's own baseline is no slower than what a user would pick.

Needs the ``bench`` extra: ``pip install -e .[bench]``.

Usage: python benchmarks/sac_throughput.py [--steps 5000] [--warmup 1000] [--repeats 3]
                                            [--threads 1]
"""

from __future__ import annotations

import argparse
import time

import gymnasium
import torch

import pomdpbench
from pomdpbench.harness.loop import run_job
from pomdpbench.record.job import JobSpec

TASK = "Pendulum-F-v0"


def ours(steps: int, warmup: int) -> float:
    """Steps per second of sac-mlp through the harness (evaluations only at start and end)."""
    job = JobSpec(
        agent="sac-mlp", agent_version="bench", agent_entry_point="", task=TASK, suite="sanity",
        tier="custom", seed=0, budget=steps, eval_every=steps, eval_episodes=1,
        config={"hidden_sizes": [256, 256], "batch_size": 256, "learning_starts": warmup,
                "buffer_size": steps},
        threads=torch.get_num_threads(),
    )  # fmt: skip
    start = time.perf_counter()
    run_job(job, lambda event: None)
    return steps / (time.perf_counter() - start)


def sb3(steps: int, warmup: int) -> float:
    """Steps per second of Stable-Baselines3 SAC with matching settings."""
    from stable_baselines3 import SAC

    env = gymnasium.make(TASK)
    model = SAC(
        "MlpPolicy", env, learning_rate=3e-4, buffer_size=steps, learning_starts=warmup,
        batch_size=256, tau=0.005, gamma=0.99, train_freq=1, gradient_steps=1,
        policy_kwargs={"net_arch": [256, 256]}, seed=0, device="cpu", verbose=0,
    )  # fmt: skip
    start = time.perf_counter()
    model.learn(total_timesteps=steps)
    return steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--warmup", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"pomdpbench {pomdpbench.__version__}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads; {TASK}, {args.steps} steps "
          f"({args.warmup} warm-up)")  # fmt: skip
    ours_sps: list[float] = []
    sb3_sps: list[float] = []
    for repeat in range(args.repeats):
        ours_sps.append(ours(args.steps, args.warmup))
        sb3_sps.append(sb3(args.steps, args.warmup))
        print(f"repeat {repeat}: sac-mlp {ours_sps[-1]:.1f} steps/s, sb3 {sb3_sps[-1]:.1f} steps/s")
    a, b = max(ours_sps), max(sb3_sps)
    print(f"sac-mlp best {a:.1f} steps/s; sb3 best {b:.1f} steps/s")
    print(f"sac-mlp/sb3 = {a / b:.3f}")


if __name__ == "__main__":
    main()
