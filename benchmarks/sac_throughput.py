"""Env steps per second of ``sac-mlp`` (through the harness) vs Stable-Baselines3's and SBX's SAC.

All three train on Pendulum-F-v0 with the same networks (two hidden layers of 256), batch size
256, one gradient step per environment step, the same warm-up of uniform random actions, on
one CPU core, in this one process; they take turns in timed windows (``peer_race.py`` says
how, and how the core is pinned). SBX (Stable-Baselines in JAX) compiles its update on the
first call: that time is the ``first update`` column, outside every window. The goals are
``sac-mlp/sb3 >= 1.5`` and ``sac-mlp/sbx >= 1.2``: the benchmark's own baseline is no slower
than what a user would pick. The ratios are of each side's best steps per CPU second (the
wall-clock ones just above them).

Needs the ``bench`` extra: ``pip install -e .[bench]`` (SBX is skipped if not installed).

Usage: python benchmarks/sac_throughput.py [--steps 1000] [--warmup 1000] [--repeats 3]
                                            [--device cpu]
"""

from __future__ import annotations

import argparse
import importlib.util

from peer_race import (
    Contestant,
    ours,
    pin_to_one_core,
    print_table,
    race,
    ratio_lines,
    stable_baselines,
)

TASK = "Pendulum-F-v0"
HIDDEN, BATCH = [256, 256], 256


def contestants(warmup: int, buffer: int, device: str) -> list[Contestant]:
    """sac-mlp, SB3 SAC and (if installed) SBX SAC with the same settings."""
    from stable_baselines3 import SAC

    config = {
        "hidden_sizes": HIDDEN,
        "batch_size": BATCH,
        "learning_starts": warmup,
        "buffer_size": buffer,
        "updates_per_step": 1,
    }
    peer = {
        "learning_rate": 3e-4,
        "buffer_size": buffer,
        "learning_starts": warmup,
        "batch_size": BATCH,
        "tau": 0.005,
        "gamma": 0.99,
        "train_freq": 1,
        "gradient_steps": 1,
        "policy_kwargs": {"net_arch": HIDDEN},
    }
    race = [
        ours("sac-mlp", TASK, config, fill=warmup, extra=20, device=device),
        stable_baselines("sb3", SAC, TASK, {**peer, "device": device}, fill=warmup, extra=20),
    ]
    if importlib.util.find_spec("sbx") is not None:
        import sbx

        race.append(stable_baselines("sbx", sbx.SAC, TASK, peer, fill=warmup, extra=20))
    return race


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000, help="steps per timed window")
    parser.add_argument("--warmup", type=int, default=1000, help="uniform-action steps first")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cpu", help="torch device of sac-mlp and SB3")
    args = parser.parse_args()
    pin_to_one_core()
    import torch

    import pomdpbench

    print(
        f"pomdpbench {pomdpbench.__version__}, torch {torch.__version__}, one core; {TASK}, "
        f"{args.repeats} x {args.steps} steps after {args.warmup} warm-up, "
        f"{args.device}"
    )
    field = contestants(args.warmup, args.warmup + 21 + args.repeats * args.steps, args.device)
    race(field, args.steps, args.repeats)
    print_table(field)
    print("\n".join(ratio_lines("sac-mlp", field)))


if __name__ == "__main__":
    main()
