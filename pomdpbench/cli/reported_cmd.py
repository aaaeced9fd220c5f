"""``pomdpbench reported``: the figures published in papers, as the results store holds them.

``--sync`` (re)loads the shipped ``baselines/reported_results.csv`` into the database's
``reported_results`` table, creating the database if there is none: the one command that
writes reported figures besides creating a database. Without it the command only reads.
"""

from __future__ import annotations

import argparse
from typing import Any

from pomdpbench.cli.common import add_db_option, fmt, print_json, print_table


def add_parser(commands: Any) -> None:
    """Register the ``reported`` subcommand."""
    parser = commands.add_parser(
        "reported", help="show (or --sync) the figures published in papers",
        description="Show the published figures stored beside your runs; --sync loads the "
        "ones this pomdpbench ships into the database.",
    )  # fmt: skip
    parser.add_argument("--suite", help="only this suite")
    parser.add_argument(
        "--sync", action="store_true",
        help="load baselines/reported_results.csv into the database (creates it if missing)",
    )  # fmt: skip
    add_db_option(parser)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Sync if asked, then print the stored figures."""
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
    engine.dispose()
    if args.json:
        print_json(frame.to_dict(orient="records"))
        return 0
    if args.sync:
        return 0
    rows = [
        [r.source, r.suite, r.task, r.agent, f"{r.env_steps:,}", fmt(r.mean, 0),
         fmt(r.stderr, 0), r.n_seeds, r.environment]
        for r in frame.itertuples(index=False)
    ]  # fmt: skip
    columns = ["source", "suite", "task", "agent", "steps", "mean", "stderr", "seeds",
               "ran on"]  # fmt: skip
    print_table(f"{len(rows)} reported figures (not runs of this project)", columns, rows)
    return 0
