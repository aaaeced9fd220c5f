"""``pomdpbench reported``: the figures published in papers, as the results store holds them.

``--sync`` (re)loads the shipped ``baselines/reported_results.csv`` into the database's
``reported_results`` table, creating the database if there is none: the one command that
writes reported figures besides creating a database. Without it the command only reads.
"""

from __future__ import annotations

import argparse
from typing import Any

from pomdpbench.cli.common import add_db_option, print_json, print_table


def add_parser(commands: Any) -> None:
    """Register the ``reported`` subcommand."""
    parser = commands.add_parser(
        "reported",
        help="show (or --sync) the figures published in papers",
        description="Show the published figures stored beside your runs; --sync loads the "
        "ones this pomdpbench ships into the database.",
    )
    parser.add_argument("--suite", help="only this suite")
    parser.add_argument(
        "--sync",
        action="store_true",
        help="load baselines/reported_results.csv into the database (creates it if missing)",
    )
    add_db_option(parser)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Sync if asked, then print the published leaderboards (or the raw figures as JSON)."""
    from pomdpbench.store.database import database_url, describe, open_engine
    from pomdpbench.store.reported import reported_for_suite, sync_note, sync_reported

    url = database_url(args.db)
    engine = open_engine(url, create=args.sync)
    if args.sync:
        count = sync_reported(engine)
        print(f"{describe(url)} holds the {count} reported figures this pomdpbench ships")
    else:
        note = sync_note(engine, url)
        if note:
            print(note)
    frame = reported_for_suite(engine, args.suite)
    if args.json:
        print_json(frame.to_dict(orient="records"))
        return 0
    if args.sync:
        return 0
    for suite in sorted(set(frame["suite"])):
        for table in published_tables(engine, suite, frame[frame["suite"] == suite]):
            columns = [str(c) for c in table.table.columns]
            rows = [list(row) for row in table.table.itertuples(index=False)]
            print_table(
                f"{suite}: {table.title} (reported = published, not runs here)", columns, rows
            )
    return 0


def published_tables(engine: Any, suite: str, reported: Any) -> list[Any]:
    """The suite's published leaderboards with this database's finished runs (all tiers)."""
    import pandas as pd

    from pomdpbench.errors import UnknownIdError
    from pomdpbench.registry import get_suite
    from pomdpbench.stats.published import suite_published
    from pomdpbench.store import queries

    try:
        get_suite(suite)
    except UnknownIdError:
        return []  # figures of a suite this installation does not define: --json lists them
    counts = queries.suite_tier_counts(engine)
    tiers = sorted(set(counts.loc[counts["suite"] == suite, "tier"]))
    runs = [queries.suite_runs(engine, suite, tier) for tier in tiers]
    points = [queries.suite_evaluations(engine, suite, tier) for tier in tiers]
    all_runs = pd.concat(runs, ignore_index=True) if runs else queries.suite_runs(engine, suite, "")
    all_points = (
        pd.concat(points, ignore_index=True)
        if points
        else queries.suite_evaluations(engine, suite, "")
    )
    return suite_published(reported, suite, all_runs, all_points)
