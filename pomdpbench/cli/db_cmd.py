"""``pomdpbench db upgrade``: move a results database to this pomdpbench's schema.

A database written by an older pomdpbench is refused by every other command, untouched, with
a line naming this one. ``upgrade`` runs the shipped migrations in one transaction
(:mod:`pomdpbench.store.migrate`) and says how many rows each table kept.
"""

from __future__ import annotations

import argparse
from typing import Any

from pomdpbench.cli.common import add_db_option


def add_parser(commands: Any) -> None:
    """Register the ``db`` subcommand and its actions."""
    parser = commands.add_parser(
        "db",
        help="maintain the results database (upgrade its schema)",
        description="Maintain the results database.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", parser_class=type(parser))
    actions.required = True
    upgrade = actions.add_parser(
        "upgrade",
        help="move the database to this pomdpbench's schema, keeping every row",
        description="Apply the schema migrations a database written by an older pomdpbench "
        "needs (one transaction: on any failure nothing changes).",
    )
    add_db_option(upgrade)
    upgrade.set_defaults(handler=run_upgrade)


def run_upgrade(args: argparse.Namespace) -> int:
    """Upgrade and print one line."""
    from pomdpbench.store.database import database_url
    from pomdpbench.store.migrate import upgrade

    print(upgrade(database_url(args.db)).describe())
    return 0
