"""What the meta-RL trial costs per step: ``AntDir-v0`` etc. vs the stock Gymnasium env.

The meta tasks run Gymnasium's ``Ant-v5`` / ``HalfCheetah-v5`` simulators and compute their own
observation and reward, wrapped in the k-episode trial (task draw, done flag, action scaling,
inner resets). For each pair, the same number of uniform-random steps runs through the task
(``gymnasium.make(task)``) and through the stock environment on the same model, both as the bare
loop of ``harness_overhead.py``, alternating in this one process; each side keeps its best of
``--repeats``. The goal is task/stock >= 0.8.

Usage: python benchmarks/meta_trial_overhead.py [--steps 20000] [--repeats 3]
"""

from __future__ import annotations

import argparse

from harness_overhead import bare  # this folder is on sys.path when the script runs

import pomdpbench  # noqa: F401 - registers the tasks

PAIRS = (
    ("AntDir-v0", "Ant-v5"),
    ("CheetahDir-v0", "HalfCheetah-v5"),
    ("HalfCheetahVel-v0", "HalfCheetah-v5"),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"{'task':<20}{'stock':<16}{'task steps/s':>14}{'stock steps/s':>15}{'ratio':>8}")
    for task, stock in PAIRS:
        best_task = best_stock = 0.0
        for _ in range(args.repeats):
            best_task = max(best_task, bare(task, args.steps))
            best_stock = max(best_stock, bare(stock, args.steps))
        ratio = best_task / best_stock
        print(f"{task:<20}{stock:<16}{best_task:>14,.0f}{best_stock:>15,.0f}{ratio:>8.2f}")


if __name__ == "__main__":
    main()
