"""``pomdpbench export``: one agent's runs of a suite as a data-only bundle for a leaderboard."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from pomdpbench.cli.common import add_db_option
from pomdpbench.errors import ConfigError


def add_parser(commands: Any) -> None:
    """Register the ``export`` subcommand."""
    parser = commands.add_parser(
        "export",
        help="write an agent's runs of a suite as a bundle (zip of JSON and CSV)",
        description="Write every finished run of AGENT on SUITE in one tier, with its "
        "evaluations, config, protocol and provenance, as a zip of JSON and CSV with a "
        "manifest (docs/submission-schema.json) and the SHA-256 of each file.",
    )
    parser.add_argument("--agent", required=True, help="agent id as stored with the runs")
    parser.add_argument("--suite", required=True, help="the suite to export")
    parser.add_argument("--tier", help="budget tier (needed when the runs span several)")
    parser.add_argument("--out", required=True, metavar="BUNDLE.zip", help="where to write it")
    parser.add_argument(
        "--submitter", metavar="NAME", help="who submits (default: this session's user name)"
    )
    add_db_option(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Read the runs, write the bundle, say what is in it."""
    from pomdpbench.registry import get_suite
    from pomdpbench.store import Store
    from pomdpbench.store.submissions import local_records, local_tiers
    from pomdpbench.submission.export import export

    get_suite(args.suite)  # an unknown suite is one line with suggestions
    out = Path(args.out)
    if out.suffix != ".zip":
        raise ConfigError(f"--out {out} should end in .zip (a bundle is a zip archive)")
    if not out.parent.is_dir():
        raise ConfigError(f"the folder of --out {out} does not exist: create it first")
    store = Store.open(args.db, create=False)
    tier = args.tier
    if tier is None:
        tiers = local_tiers(store.engine, args.agent, args.suite)
        if len(tiers) != 1:
            raise ConfigError(
                f"{args.agent} has runs of suite {args.suite} in tiers {', '.join(tiers)}: "
                "choose one with --tier"
                if tiers
                else f"no run of {args.agent} on suite {args.suite} in {store.url}: run it "
                f"first (`pomdpbench run --agent {args.agent} --suite {args.suite}`) or check --db"
            )
        tier = tiers[0]
    records = local_records(store.engine, agent=args.agent, suite=args.suite, tier=tier)
    done = export(records, args.agent, args.suite, tier, out, args.submitter)
    state = (
        "complete"
        if not done.missing
        else f"incomplete: {len(done.missing)} task x seed runs missing"
    )
    left = f", {done.left_out} unfinished left out" if done.left_out else ""
    print(f"wrote {out}: {done.runs} runs of {args.agent} on {args.suite} ({tier}), {state}{left}")
    return 0
