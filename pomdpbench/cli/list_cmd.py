"""``pomdpbench list suites|tasks|agents``: what is registered."""

from __future__ import annotations

import argparse
from typing import Any

from pomdpbench.agents.registry import list_agents
from pomdpbench.cli.common import print_json, print_table
from pomdpbench.errors import UnknownIdError
from pomdpbench.record.vocabulary import Tier
from pomdpbench.registry import list_suites, list_tasks

KINDS = ("suites", "tasks", "agents")


def add_parser(commands: Any) -> None:
    """Register the ``list`` subcommand."""
    parser = commands.add_parser("list", help="list registered suites, tasks or agents")
    parser.add_argument("kind", metavar="suites|tasks|agents")
    parser.add_argument("--suite", help="only the tasks of this suite")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print the requested listing."""
    if args.kind not in KINDS:
        raise UnknownIdError("listing", args.kind, KINDS, hint="choose suites, tasks or agents")
    if args.kind == "suites":
        suites = list_suites()
        if args.json:
            print_json([_suite_json(s) for s in suites])
        else:
            rows = [[s.id, len(s.tasks), s.metric, s.description] for s in suites]
            print_table("suites", ["suite", "tasks", "metric", "description"], rows)
    elif args.kind == "tasks":
        tasks = list_tasks(args.suite)
        if args.json:
            print_json([t.to_json() for t in tasks])
        else:
            rows = [
                [
                    t.id,
                    t.version,
                    t.suite,
                    t.observation_size,
                    t.action_space,
                    t.max_episode_steps,
                    f"{t.protocol(Tier.FULL).budget:,}",
                    t.metric,
                    t.simulator,
                ]
                for t in tasks
            ]
            columns = [
                "task",
                "v",
                "suite",
                "obs",
                "action",
                "horizon",
                "budget",
                "metric",
                "simulator",
            ]
            print_table("tasks", columns, rows)
    else:
        agents = list_agents()
        if args.json:
            print_json([a.__dict__ for a in agents])
        else:
            rows = [[a.id, a.version, a.description, a.source] for a in agents]
            print_table("agents", ["agent", "version", "description", "source"], rows)
    return 0


def _suite_json(suite: Any) -> dict[str, Any]:
    return {
        "id": suite.id,
        "description": suite.description,
        "metric": suite.metric,
        "tasks": list(suite.tasks),
        "seeds": {tier: list(seeds) for tier, seeds in suite.seeds.items()},
        "source": suite.source,
        "notes": suite.notes,
    }
