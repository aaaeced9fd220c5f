"""``pomdpbench diagnose action-variation``: RESeL Fig. 3 on an agent trained here.

Trains the agent in this process (``--agent A --task T --steps N``, with the agent's suite
settings like ``pomdpbench run``, nothing stored), then measures the mean absolute change of
its policy's action per rollout step after one policy update, for each ``(LR_CE, LR_other)``
pair, and writes ``action_variation.csv`` and ``action_variation.png`` to ``--out``. Agents
without the small optional interface
(:class:`pomdpbench.diagnostics.action_variation.ActionVariationProbe`) get a one-line error.
Loading a stored run (``--run``) is not implemented: finished runs delete their checkpoints.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_parser(commands: Any) -> None:
    """Register ``diagnose`` and its one diagnostic, ``action-variation``."""
    parser = commands.add_parser("diagnose", help="measure an agent's training diagnostics")
    kinds = parser.add_subparsers(dest="diagnostic", metavar="DIAGNOSTIC")
    kinds.required = True
    variation = kinds.add_parser(
        "action-variation",
        help="action change per rollout step after one update (RESeL Fig. 3)",
        description="Train an agent, take one policy update per (LR_CE, LR_other) pair and "
        "plot the mean absolute action change per rollout step.",
    )
    variation.add_argument("--agent", required=True, help="agent id, e.g. resel")
    variation.add_argument("--task", required=True, help="task id, e.g. TMazePassive-10-v0")
    variation.add_argument("--steps", type=int, required=True, help="training steps first")
    variation.add_argument("--seed", type=int, default=0)
    variation.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a hyperparameter (repeatable)",
    )
    variation.add_argument(
        "--pair",
        action="append",
        metavar="LR_CE,LR_OTHER",
        help="learning rates of one update (repeatable; default: the paper's 3e-4,3e-4 and "
        "1e-5,3e-4)",
    )
    variation.add_argument("--out", required=True, type=Path, metavar="DIR")
    variation.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Train, measure, write the CSV and PNG (torch is imported only here)."""
    from pomdpbench.diagnostics.command import run as run_diagnostic

    return run_diagnostic(args)
