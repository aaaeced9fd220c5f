"""``pomdpbench report``: the leaderboard's tables and plots as files, without Streamlit."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from pomdpbench.cli.common import add_db_option
from pomdpbench.errors import ConfigError, UnknownIdError
from pomdpbench.record.vocabulary import RunStatus, Tier
from pomdpbench.registry import list_suites


def add_parser(commands: Any) -> None:
    """Register the ``report`` subcommand."""
    parser = commands.add_parser(
        "report", help="write the leaderboard's tables (Markdown, CSV) and plots (PNG)"
    )
    parser.add_argument("--suite", required=True, help="the suite to report")
    parser.add_argument("--tier", help="budget tier (default: the fullest tier with runs)")
    parser.add_argument("--out", required=True, metavar="DIR", help="folder to write into")
    parser.add_argument("--agents", nargs="+", metavar="AGENT", help="only these agents")
    parser.add_argument(
        "--tasks",
        nargs="+",
        metavar="TASK",
        help="aggregate over these tasks of the suite only (the leaderboard's task filter)",
    )
    # the defaults are resolved in run(), so that --help needs no rliable
    parser.add_argument(
        "--reps",
        type=int,
        help="bootstrap replications (default 2,000, as on the leaderboard page)",
    )
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    add_db_option(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Write the report, or say in words why there is nothing to report."""
    from pomdpbench.stats.aggregate import DEFAULT_REPS
    from pomdpbench.stats.board import NO_RUNS_AT_ALL, no_runs_message, tiers_with_runs
    from pomdpbench.stats.report import write_report
    from pomdpbench.stats.scores import label_runs
    from pomdpbench.store import queries
    from pomdpbench.store.database import database_url, open_engine
    from pomdpbench.store.reported import reported_for_suite, sync_note
    from pomdpbench.store.train_metrics import suite_train_metrics

    args.reps = DEFAULT_REPS if args.reps is None else args.reps
    if args.reps < 1:
        raise ConfigError(f"--reps must be at least 1, got {args.reps}")
    url = database_url(args.db)
    engine = open_engine(url, create=False)
    note = sync_note(engine, url)
    if note:
        print(note)
    counts = queries.suite_tier_counts(engine)
    known = {s.id for s in list_suites()} | set(counts["suite"])
    if args.suite not in known:
        raise UnknownIdError("suite", args.suite, known)
    tiers = tiers_with_runs(counts, args.suite)
    if counts.empty:
        print(NO_RUNS_AT_ALL)
        return 1
    if args.tier is None and not tiers:
        print(no_runs_message(args.suite, Tier.SMOKE))
        return 1
    tier = args.tier or tiers[0]
    runs = queries.suite_runs(engine, args.suite, tier)
    if args.agents:
        present = set(label_runs(runs[runs["status"] == RunStatus.FINISHED]))
        for agent in args.agents:
            if agent not in present:
                listed = ", ".join(sorted(present)) or "none"
                raise UnknownIdError(
                    "agent",
                    agent,
                    present,
                    hint=f"agents with finished runs of {args.suite} ({tier}): {listed}",
                )
    if args.tasks:
        from pomdpbench.stats.scores import suite_task_ids

        suite_tasks = suite_task_ids(args.suite, runs)[0]
        for task in args.tasks:
            if task not in suite_tasks:
                raise UnknownIdError(
                    "task", task, suite_tasks, hint=f"choose tasks of suite {args.suite}"
                )
    out = Path(args.out)
    evaluations = queries.suite_evaluations(engine, args.suite, tier)
    reported = reported_for_suite(engine, args.suite)
    train_metrics = suite_train_metrics(engine, args.suite, tier, args.tasks)
    written = write_report(
        runs,
        evaluations,
        reported,
        args.suite,
        tier,
        out,
        args.agents,
        args.reps,
        args.seed,
        tasks=args.tasks,
        train_metrics=train_metrics,
    )
    report = (out / "report.md").read_text(encoding="utf-8")
    for line in report.splitlines():
        if line.startswith("> "):
            print(line[2:])
    print(f"wrote {len(written)} files to {out} (open {out / 'report.md'})")
    return 0
