"""``pomdpbench db upgrade``: move a results database to this pomdpbench's schema.

The steps are the Alembic revisions shipped in :mod:`pomdpbench.store.migrations`, one per
schema version. ``pomdpbench_meta.schema_version`` is the truth about a database's schema (the
store reads it on every open, and databases made before the migrations existed have nothing
else); Alembic's ``alembic_version`` table follows it: a database without one, or with one that
disagrees, is stamped at its ``schema_version`` before the pending revisions run, and every
revision writes its own number into ``schema_version`` in the same transaction.

The whole upgrade is one transaction under :func:`~pomdpbench.store.database.writers_lock`
(PostgreSQL and SQLite both have transactional DDL), after the row count of every table is
taken; if any table lost or gained a row the transaction is rolled back and nothing changed.
A new database is created at the current schema and stamped at the head (:func:`stamp_head`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, func, inspect, select, table
from sqlalchemy.exc import SQLAlchemyError

from pomdpbench.errors import StoreError
from pomdpbench.store.database import (
    LOCK_TIMEOUT_S,
    create_store_engine,
    with_retry,
    writers_lock,
)
from pomdpbench.store.models import SCHEMA_VERSION, Meta
from pomdpbench.store.sqlite_file import sqlite_path, stored_version
from pomdpbench.store.versioning import check_version, describe

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
VERSION_TABLE = "alembic_version"


@dataclass(frozen=True)
class UpgradeReport:
    """What ``db upgrade`` did: the schema before and after, and the rows of every table."""

    name: str
    from_version: int
    to_version: int
    rows: dict[str, int]
    """Rows per table, the same before and after (checked before committing)."""

    def describe(self) -> str:
        """One line for the terminal."""
        kept = ", ".join(f"{count} {name}" for name, count in sorted(self.rows.items()))
        if self.from_version == self.to_version:
            return f"{self.name} is at schema {self.to_version} already: nothing to do ({kept})"
        return (
            f"upgraded {self.name} from schema {self.from_version} to {self.to_version}; "
            f"every row kept ({kept})"
        )


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration of the shipped migrations (no alembic.ini needed)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def script_directory() -> ScriptDirectory:
    """The shipped revisions."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    """The newest revision id (``str(SCHEMA_VERSION)`` by construction; a test checks it)."""
    head = script_directory().get_current_head()
    assert head is not None, f"no migrations in {MIGRATIONS_DIR}"
    return head


def current_revision(connection: Connection) -> str | None:
    """The revision ``alembic_version`` names, None where the table is absent or empty."""
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def stamp(connection: Connection, revision: str) -> None:
    """Make ``alembic_version`` say ``revision`` (whatever it said before)."""
    from alembic.runtime.migration import MigrationContext

    if VERSION_TABLE in inspect(connection).get_table_names():
        connection.execute(table(VERSION_TABLE).delete())
    MigrationContext.configure(connection).stamp(script_directory(), revision)


def stamp_head(connection: Connection) -> None:
    """Stamp a database just created from the models at the head revision."""
    stamp(connection, str(SCHEMA_VERSION))


def upgrade(url: str) -> UpgradeReport:
    """Move the database at ``url`` to :data:`SCHEMA_VERSION`, keeping every row.

    Raises:
        StoreError: no database there, not a pomdpbench one, damaged, read-only, unreachable,
            written by a newer pomdpbench, or a migration failed (then nothing changed).
    """
    path = sqlite_path(url)
    if path is not None:
        _check_file(path)
    engine = create_store_engine(url)
    try:
        report: UpgradeReport = with_retry(lambda: _upgrade(engine, url), url)
        return report
    except SQLAlchemyError as exc:
        raise _failed(url, exc) from None
    finally:
        engine.dispose()


def _failed(url: str, exc: SQLAlchemyError) -> StoreError:
    reason = " ".join(str(getattr(exc, "orig", None) or exc).split())[:300]
    return StoreError(
        f"upgrading {describe(url)} failed, nothing was changed ({exc.__class__.__name__}: "
        f"{reason}): report it with this line"
    )


def _check_file(path: Path) -> None:
    """A SQLite file is diagnosed read-only first, as the store does before any write."""
    if not path.exists():
        raise StoreError(
            f"no results database at {path}: nothing to upgrade (`pomdpbench run` creates one "
            f"at schema {SCHEMA_VERSION}); point --db at the database you meant"
        )
    if stored_version(path, LOCK_TIMEOUT_S) is None:
        raise StoreError(f"{path} holds no pomdpbench results: nothing to upgrade")
    if not (os.access(path, os.W_OK) and os.access(path.resolve().parent, os.W_OK | os.X_OK)):
        raise StoreError(
            f"{path} is read-only (the file or its folder cannot be written): make it writable "
            "to upgrade it"
        )


def _upgrade(engine: Engine, url: str) -> UpgradeReport:
    from alembic import command

    name = describe(url)
    with engine.connect() as connection:
        writers_lock(connection)
        tables = set(inspect(connection).get_table_names())
        if not tables:
            raise StoreError(f"{name} holds no pomdpbench results: nothing to upgrade")
        if Meta.__tablename__ not in tables:
            raise StoreError(
                f"{name} is not a pomdpbench results database (no {Meta.__tablename__} "
                "table): point --db at another database"
            )
        found = _schema_version(connection, name)
        if found > SCHEMA_VERSION:
            check_version(name, found, url)  # raises: written by a newer pomdpbench
        before = _row_counts(connection, tables)
        if current_revision(connection) != str(found):
            stamp(connection, str(found))  # schema_version is the truth
        if found < SCHEMA_VERSION:
            try:  # holding the writers' lock: an error here is the step's, never a lock's
                command.upgrade(alembic_config(connection), "head")
            except SQLAlchemyError as exc:
                connection.rollback()
                raise _failed(url, exc) from None
        after = _row_counts(connection, tables)
        now = _schema_version(connection, name)
        changed = {t: (before[t], after[t]) for t in before if before[t] != after[t]}
        if changed or now != SCHEMA_VERSION:
            connection.rollback()
            raise StoreError(
                f"upgrading {name} would change row counts {changed} or left schema {now}: "
                "rolled back, nothing was changed; report it with this line"
            )
        connection.commit()
    return UpgradeReport(name, found, SCHEMA_VERSION, before)


def _schema_version(connection: Connection, name: str) -> int:
    raw = connection.scalar(select(Meta.value).where(Meta.key == "schema_version"))
    try:
        return int(str(raw))
    except ValueError:
        raise StoreError(
            f"{name} has an unreadable schema version {raw!r}: it is damaged or not written by "
            "pomdpbench; it was left untouched"
        ) from None


def _row_counts(connection: Connection, tables: set[str]) -> dict[str, int]:
    counted = sorted(tables - {VERSION_TABLE, Meta.__tablename__})
    return {
        name: int(connection.scalar(select(func.count()).select_from(table(name))) or 0)
        for name in counted
    }
