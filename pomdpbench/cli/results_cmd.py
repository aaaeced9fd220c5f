"""``pomdpbench results``: the stored runs and their scores."""

from __future__ import annotations

import argparse
from typing import Any

from pomdpbench.cli.common import add_db_option, fmt, print_json, print_table
from pomdpbench.errors import PomdpbenchError
from pomdpbench.record.vocabulary import RunStatus, Tier

STATUSES = [status.value for status in RunStatus]
RUN_TIERS = [tier.value for tier in Tier if tier is not Tier.REFERENCE]
"""The tiers a stored run can have (reference measurements are never runs)."""


def add_parser(commands: Any) -> None:
    """Register the ``results`` subcommand."""
    parser = commands.add_parser("results", help="list stored runs and their scores")
    parser.add_argument("--suite", help="only this suite")
    parser.add_argument("--agent", help="only this agent")
    parser.add_argument("--task", help="only this task")
    parser.add_argument("--tier", choices=RUN_TIERS, help="only this budget tier")
    parser.add_argument("--status", choices=STATUSES, help="only runs with this status")
    parser.add_argument(
        "--run",
        type=int,
        metavar="ID",
        help="show one run's identity, config, protocol and provenance (the id column)",
    )
    add_db_option(parser)
    parser.add_argument("--json", action="store_true", help="print a JSON list, one object per run")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print the matching runs, with their scores at the suite's intermediate steps."""
    from pomdpbench.store import Store

    store = Store.open(args.db, create=False)
    if args.run is not None:
        return show_run(store, args.run, as_json=args.json)
    runs = store.runs(
        suite=args.suite, agent=args.agent, task=args.task, tier=args.tier, status=args.status
    )
    scores_at = intermediate_scores(store, runs)
    if args.json:
        by_run = {
            r.run_id: {str(s): v for s, v in scores_at.get(r.run_id, {}).items()} for r in runs
        }
        print_json([{**r.to_json(), "scores_at": by_run[r.run_id]} for r in runs])
        return 0
    if not runs:
        print("no runs match: start one with `pomdpbench run --agent random --suite sanity`")
        return 0
    from pomdpbench.stats.intermediate import step_label

    steps = sorted({step for by_step in scores_at.values() for step in by_step})
    rows = [
        [
            r.run_id,
            r.agent,
            r.task,
            r.tier,
            r.protocol_override or "suite",
            r.seed,
            r.status,
            f"{r.env_steps:,}/{r.budget_steps:,}",
            *(fmt(scores_at.get(r.run_id, {}).get(step), 3) for step in steps),
            fmt(r.final_score, 3),
            r.metric,
            fmt(r.wall_time_s),
            fmt(r.steps_per_s, 0),
        ]
        for r in runs
    ]
    # "protocol": the suite's, or the --eval-every/--eval-episodes override the run was made with
    columns = [
        "id",
        "agent",
        "task",
        "tier",
        "protocol",
        "seed",
        "status",
        "steps",
        *(f"at {step_label(step)}" for step in steps),
        "final",
        "metric",
        "wall s",
        "steps/s",
    ]
    print_table(f"{len(runs)} runs in {store.url}", columns, rows)
    return 0


def show_run(store: Any, run_id: int, *, as_json: bool) -> int:
    """Print every recorded field of one run (nested ones as JSON), or a one-line error."""
    import json

    from pomdpbench.store.queries import run_provenance

    fields = run_provenance(store.engine, run_id)
    if fields is None:
        raise PomdpbenchError(
            f"no run with id {run_id} in {store.url}: `pomdpbench results` lists the ids"
        )
    if as_json:
        print_json(fields)
        return 0
    rows = [
        [
            key,
            json.dumps(value, sort_keys=True, default=str)
            if isinstance(value, (dict, list))
            else str(value),
        ]
        for key, value in fields.items()
    ]
    print_table(f"run {run_id} in {store.url}", ["field", "value"], rows)
    return 0


def intermediate_scores(store: Any, runs: list[Any]) -> dict[int, dict[int, float]]:
    """Run id -> {step: score} for the finished runs whose task names ``score_at`` steps."""
    from pomdpbench.registry import get_task

    def scored(task_id: str, budget: int) -> bool:
        try:
            return any(step <= budget for step in get_task(task_id).score_at)
        except PomdpbenchError:
            return False

    wanted = [r for r in runs if r.status == RunStatus.FINISHED and scored(r.task, r.budget_steps)]
    if not wanted:
        return {}
    import pandas as pd

    from pomdpbench.stats.intermediate import run_scores_at
    from pomdpbench.store.queries import evaluation_points

    frame = pd.DataFrame(
        [
            {
                "run_id": r.run_id,
                "task": r.task,
                "status": r.status,
                "metric": r.metric,
                "budget_steps": r.budget_steps,
                "env_steps": r.env_steps,
            }
            for r in wanted
        ]
    )
    points = evaluation_points(store.engine, [r.run_id for r in wanted])
    found: dict[int, dict[int, float]] = {}
    for row in run_scores_at(frame, points).itertuples(index=False):
        found.setdefault(int(row.run_id), {})[int(row.step)] = float(row.score)
    return found
