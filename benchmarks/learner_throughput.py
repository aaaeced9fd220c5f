"""Env steps per second of ``td3-mlp`` and ``ppo-mlp`` (through the harness) vs SB3 and SBX.

The TD3 and PPO counterparts of ``sac_throughput.py``, with the same race (``peer_race.py``:
one core, each contestant warmed up on its own, SBX's compilation outside the windows, timed
windows in turns, best window kept). Each learner runs with its shipped defaults, and the peers
are given the same sizes:

* TD3 (Fujimoto et al. 2018 as ``td3-mlp`` ships it): 256 x 256 networks, batch 100, one
  update per step, actor every second update, target noise 0.2 clipped at 0.5, exploration
  noise 0.1, learning rates 1e-3;
* PPO (S2PG's launchers as ``ppo-mlp`` ships it): 128 x 128 ReLU networks, rollouts of 2000
  steps, 10 epochs of minibatches of 32, learning rate 1e-4. A window is whole rollouts, each
  with its update (SB3's ``learn`` always collects whole rollouts). SB3's PPO clips the
  gradient norm (0.5, it cannot be turned off) and ``ppo-mlp`` standardizes observations; the
  two costs are small and opposite.

Last lines: ``td3-mlp/sb3 = R``, ``td3-mlp/sbx = R``, ``ppo-mlp/sb3 = R``, ``ppo-mlp/sbx = R``,
ratios of the best steps per CPU second (the wall-clock ones above each pair).
Needs the ``bench`` extra: ``pip install -e .[bench]`` (SBX is skipped if not installed).

Usage: python benchmarks/learner_throughput.py [--learners td3 ppo] [--steps 1000]
                                                [--rollouts 1] [--warmup 1000] [--repeats 3]
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
ROLLOUT = 2000


def td3_field(warmup: int, buffer: int) -> list[Contestant]:
    """td3-mlp, SB3 TD3 and SBX TD3 with td3-mlp's defaults."""
    import numpy as np
    from stable_baselines3 import TD3
    from stable_baselines3.common.noise import NormalActionNoise

    config = {
        "hidden_sizes": [256, 256],
        "batch_size": 100,
        "learning_starts": warmup,
        "buffer_size": buffer,
        "policy_delay": 2,
        "actor_lr": 1e-3,
        "critic_lr": 1e-3,
    }
    # Both add the exploration noise to the action scaled to [-1, 1].
    noise = NormalActionNoise(np.zeros(1), 0.1 * np.ones(1))
    peer = {
        "learning_rate": 1e-3,
        "buffer_size": buffer,
        "learning_starts": warmup,
        "batch_size": 100,
        "tau": 0.005,
        "gamma": 0.99,
        "train_freq": 1,
        "gradient_steps": 1,
        "policy_delay": 2,
        "target_policy_noise": 0.2,
        "target_noise_clip": 0.5,
        "action_noise": noise,
        "policy_kwargs": {"net_arch": [256, 256]},
    }
    sb3_kwargs = {**peer, "device": "cpu"}
    field = [
        ours("td3-mlp", TASK, config, fill=warmup, extra=20),
        stable_baselines("sb3", TD3, TASK, sb3_kwargs, fill=warmup, extra=20),
    ]
    if importlib.util.find_spec("sbx") is not None:
        import sbx

        field.append(stable_baselines("sbx", sbx.TD3, TASK, peer, fill=warmup, extra=20))
    return field


def ppo_field() -> list[Contestant]:
    """ppo-mlp, SB3 PPO and SBX PPO with ppo-mlp's defaults; warm-up: one rollout."""
    from stable_baselines3 import PPO
    from torch import nn

    config = {
        "rollout_steps": ROLLOUT,
        "epochs": 10,
        "minibatch_size": 32,
        "hidden_sizes": [128, 128],
        "activation": "relu",
    }
    peer = {
        "n_steps": ROLLOUT,
        "batch_size": 32,
        "n_epochs": 10,
        "learning_rate": 1e-4,
        "gamma": 0.99,
        "gae_lambda": 0.95,
        "clip_range": 0.2,
        "ent_coef": 0.0,
    }
    arch = {"net_arch": {"pi": [128, 128], "vf": [128, 128]}}
    field = [
        ours("ppo-mlp", TASK, config, fill=0, first=ROLLOUT),
        stable_baselines(
            "sb3",
            PPO,
            TASK,
            {**peer, "device": "cpu", "policy_kwargs": {**arch, "activation_fn": nn.ReLU}},
            fill=0,
            first=ROLLOUT,
        ),
    ]
    if importlib.util.find_spec("sbx") is not None:
        import flax.linen
        import sbx

        kwargs = {**peer, "policy_kwargs": {**arch, "activation_fn": flax.linen.relu}}
        field.append(stable_baselines("sbx", sbx.PPO, TASK, kwargs, fill=0, first=ROLLOUT))
    return field


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", nargs="+", choices=("td3", "ppo"), default=["td3", "ppo"])
    parser.add_argument("--steps", type=int, default=1000, help="TD3 steps per timed window")
    parser.add_argument("--rollouts", type=int, default=1, help="PPO rollouts per window")
    parser.add_argument("--warmup", type=int, default=1000, help="TD3 uniform-action steps")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    pin_to_one_core()
    import torch

    import pomdpbench

    print(
        f"pomdpbench {pomdpbench.__version__}, torch {torch.__version__}, one core; {TASK}, "
        f"{args.repeats} repeats"
    )
    lines: list[str] = []
    if "td3" in args.learners:
        print(f"\nTD3: {args.steps} steps a window after {args.warmup} warm-up")
        field = td3_field(args.warmup, args.warmup + 21 + args.repeats * args.steps)
        race(field, args.steps, args.repeats)
        print_table(field)
        lines += ratio_lines("td3-mlp", field)
    if "ppo" in args.learners:
        print(f"\nPPO: {args.rollouts} rollout(s) of {ROLLOUT} steps a window")
        field = ppo_field()
        race(field, args.rollouts * ROLLOUT, args.repeats)
        print_table(field)
        lines += ratio_lines("ppo-mlp", field)
    print()
    print("\n".join(lines))


if __name__ == "__main__":
    main()
