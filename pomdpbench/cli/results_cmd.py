"""``pomdpbench results``: the stored runs and their scores."""

from __future__ import annotations

import argparse
from typing import Any

from pomdpbench.cli.common import add_db_option, fmt, print_json, print_table
from pomdpbench.store import Store


def add_parser(commands: Any) -> None:
    """Register the ``results`` subcommand."""
    parser = commands.add_parser("results", help="list stored runs and their scores")
    parser.add_argument("--suite", help="only this suite")
    parser.add_argument("--agent", help="only this agent")
    parser.add_argument("--task", help="only this task")
    parser.add_argument("--tier", help="only this budget tier")
    parser.add_argument("--status", help="only runs with this status")
    add_db_option(parser)
    parser.add_argument("--json", action="store_true", help="print a JSON list, one object per run")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print the matching runs."""
    store = Store.open(args.db, create=False)
    runs = store.runs(
        suite=args.suite, agent=args.agent, task=args.task, tier=args.tier, status=args.status
    )
    if args.json:
        print_json([r.to_json() for r in runs])
        return 0
    if not runs:
        print("no runs match: start one with `pomdpbench run --agent random --suite sanity`")
        return 0
    rows = [
        [r.run_id, r.agent, r.task, r.tier, r.protocol_override or "suite", r.seed, r.status,
         f"{r.env_steps:,}/{r.budget_steps:,}", fmt(r.final_score, 3), r.metric,
         fmt(r.wall_time_s), fmt(r.steps_per_s, 0)]
        for r in runs
    ]  # fmt: skip
    # "protocol": the suite's, or the --eval-every/--eval-episodes override the run was made with
    columns = ["id", "agent", "task", "tier", "protocol", "seed", "status", "steps", "final",
               "metric", "wall s", "steps/s"]  # fmt: skip
    print_table(f"{len(runs)} runs in {store.url}", columns, rows)
    return 0
