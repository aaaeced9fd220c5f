"""The work of ``pomdpbench diagnose action-variation`` (see :mod:`pomdpbench.cli.diagnose_cmd`).

Kept apart from the command's parser so that building the CLI imports no torch.
"""

from __future__ import annotations

import argparse
from typing import Any

import torch

from pomdpbench.agents.config import parse_overrides
from pomdpbench.agents.registry import get_agent_spec, load_factory
from pomdpbench.diagnostics.action_variation import (
    PAPER_PAIRS,
    action_variation,
    check_probe,
    write_outputs,
)
from pomdpbench.errors import ConfigError
from pomdpbench.harness.loop import build_run
from pomdpbench.harness.stepper import Stepper
from pomdpbench.sweep.plan import SweepRequest, plan


def parse_pairs(items: list[str] | None) -> list[tuple[float, float]]:
    """``["3e-4,3e-4"]`` -> ``[(3e-4, 3e-4)]``; the paper's pairs when none are given."""
    if not items:
        return list(PAPER_PAIRS)
    pairs = []
    for item in items:
        try:
            encoder_lr, other_lr = (float(part) for part in item.split(","))
        except ValueError:
            raise ConfigError(f"--pair {item!r}: write two rates, e.g. --pair 1e-5,3e-4") from None
        pairs.append((encoder_lr, other_lr))
    return pairs


def train(agent: Any, env: Any, steps: int, seed: int) -> None:
    """The harness's acting and learning steps, without evaluations or storage."""
    stepper = Stepper(agent, env, training=True)
    stepper.reset(seed)
    stepper.run(steps)
    stepper.check_actions()


def run(args: argparse.Namespace) -> int:
    """Train, measure, write the CSV and PNG."""
    pairs = parse_pairs(args.pair)
    if args.steps < 1:
        raise ConfigError(f"--steps must be at least 1, got {args.steps}")
    check_probe(load_factory(get_agent_spec(args.agent)), args.agent)  # fail before training
    request = SweepRequest(
        agent=args.agent,
        tasks=(args.task,),
        steps=args.steps,
        seeds=(args.seed,),
        overrides=parse_overrides(args.set),
    )
    (job,) = plan(request)
    torch.set_num_threads(job.threads)
    torch.manual_seed(args.seed)
    agent, env, _ = build_run(job)
    train(agent, env, args.steps, args.seed)
    result = action_variation(check_probe(agent, args.agent), pairs, seed=args.seed)
    title = f"{args.agent} on {args.task} after {args.steps} steps"
    csv_path, png_path = write_outputs(result, args.out, title)
    for (encoder_lr, other_lr), curve in result.items():
        at_20 = f"{curve[20]:.4g}" if len(curve) > 20 else "n/a"
        print(f"LR_CE={encoder_lr:g} LR_other={other_lr:g}: step 0 {curve[0]:.4g}, step 20 {at_20}")
    print(f"wrote {csv_path} and {png_path}")
    return 0
