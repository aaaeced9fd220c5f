"""Alembic's environment for the results store: run the migrations on a given connection.

:mod:`pomdpbench.store.migrate` passes the connection (already inside the transaction that
holds the writers' lock) as ``config.attributes["connection"]``; without one (the ``alembic``
command of a developer, with ``sqlalchemy.url`` set), an engine is made from the URL.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from pomdpbench.store.models import Base


def run_on(connection: object) -> None:
    """Run the pending revisions on ``connection``."""
    context.configure(connection=connection, target_metadata=Base.metadata)  # type: ignore[arg-type]
    with context.begin_transaction():
        context.run_migrations()


def main() -> None:
    """Online migrations only: a results database is always reachable when it is upgraded."""
    if context.is_offline_mode():
        raise SystemExit("pomdpbench migrations run online only: use `pomdpbench db upgrade`")
    connection = context.config.attributes.get("connection")
    if connection is not None:
        run_on(connection)
        return
    engine = create_engine(context.config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as owned:
        run_on(owned)


main()
