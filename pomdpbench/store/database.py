"""Open the results database and turn every way that can fail into a one-line fix.

The default is an embedded SQLite file, ``pomdpbench.db`` in the working directory; any
SQLAlchemy URL works (``postgresql://user@host/db`` for a shared leaderboard). Opening checks
the schema version and never modifies a database of another version, so nothing is lost
(SQLite files are diagnosed read-only first: :mod:`pomdpbench.store.sqlite_file`). SQLite
files use WAL journaling so the leaderboard can read while a sweep writes.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, inspect, select
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from pomdpbench.errors import StoreError
from pomdpbench.store.models import SCHEMA_VERSION, Base, Meta
from pomdpbench.store.sqlite_file import connect_read_only, inspect_file, sqlite_path

DEFAULT_URL = "sqlite:///pomdpbench.db"
LOCK_TIMEOUT_S = 10.0
T = TypeVar("T")


def database_url(explicit: str | None = None) -> str:
    """``--db`` if given, else ``POMDPBENCH_DB``, else the SQLite file in the working dir."""
    return explicit or os.environ.get("POMDPBENCH_DB") or DEFAULT_URL


def describe(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def create_store_engine(url: str) -> Engine:
    """An engine for ``url`` with SQLite's lock wait and WAL journaling set up."""
    try:
        if url.startswith("sqlite"):
            engine = create_engine(url, connect_args={"timeout": LOCK_TIMEOUT_S})
            event.listen(engine, "connect", _sqlite_pragmas)
        else:
            engine = create_engine(url, pool_pre_ping=True)
    except ArgumentError:
        raise StoreError(
            f"malformed database URL {url!r}: use e.g. sqlite:///pomdpbench.db or "
            "postgresql://user@host/dbname"
        ) from None
    except NoSuchModuleError as exc:
        raise StoreError(
            f"no SQLAlchemy driver for {describe(url)} ({exc}): install the driver "
            "(e.g. pip install psycopg) or use a sqlite:/// URL"
        ) from None
    except ModuleNotFoundError as exc:
        raise StoreError(
            f"the driver for {describe(url)} is not installed ({exc.name}): "
            "pip install it or use a sqlite:/// URL"
        ) from None
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def open_engine(url: str, *, create: bool = True) -> Engine:
    """Connect, check the schema version and create the tables of a new database.

    A SQLite file is diagnosed first through a read-only connection
    (:mod:`pomdpbench.store.sqlite_file`), so a refused file is left byte-identical; a
    read-only file is opened read-only when nothing will be written (``create=False``).

    Raises:
        StoreError: unreachable, locked, damaged, read-only for a write, not a pomdpbench
            database, or another schema.
    """
    path = sqlite_path(url)
    if path is not None:
        state = inspect_file(path, create=create, schema_version=SCHEMA_VERSION,
                             timeout=LOCK_TIMEOUT_S)  # fmt: skip
        if state.read_only:
            return create_engine(
                "sqlite://", creator=lambda: connect_read_only(path, LOCK_TIMEOUT_S)
            )
        engine = create_store_engine(url)
        if not state.exists or not _has_tables(engine, url):
            with_retry(lambda: _create(engine), url)
        return engine
    engine = create_store_engine(url)
    try:
        tables = set(inspect(engine).get_table_names())
        if not tables:
            if not create:
                raise StoreError(
                    f"{describe(url)} holds no pomdpbench results yet: run `pomdpbench run` "
                    "first or point --db at the database you meant"
                )
            with_retry(lambda: _create(engine), url)
            return engine
        if Meta.__tablename__ not in tables:
            raise StoreError(
                f"{describe(url)} is not a pomdpbench results database (no "
                f"{Meta.__tablename__} table): point --db at another file"
            )
        with Session(engine) as session:
            row = session.scalar(select(Meta).where(Meta.key == "schema_version"))
    except OperationalError as exc:
        raise locked_or_unreachable(url, exc) from None
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot open {describe(url)}: {exc.__class__.__name__}: {exc}") from None
    raw = row.value if row is not None else "0"
    try:
        found = int(raw)
    except ValueError:
        raise StoreError(
            f"{describe(url)} has an unreadable schema version {raw!r}: it is damaged or "
            "not written by pomdpbench; it was left untouched: point --db elsewhere"
        ) from None
    if found < SCHEMA_VERSION:
        raise StoreError(
            f"{describe(url)} has results schema {found}, older than this pomdpbench's "
            f"{SCHEMA_VERSION}; it was left untouched: use --db to start a new file, or read "
            "it with the pomdpbench version that wrote it"
        )
    if found > SCHEMA_VERSION:
        raise StoreError(
            f"{describe(url)} was written by a newer pomdpbench (schema {found} > "
            f"{SCHEMA_VERSION}): upgrade pomdpbench to read it"
        )
    return engine


def _has_tables(engine: Engine, url: str) -> bool:
    try:
        return bool(inspect(engine).get_table_names())
    except OperationalError as exc:
        raise locked_or_unreachable(url, exc) from None


def _create(engine: Engine) -> None:
    from pomdpbench.store.reported import sync_reported

    Base.metadata.create_all(engine)
    with Session(engine) as session, session.begin():
        session.merge(Meta(key="schema_version", value=str(SCHEMA_VERSION)))
    sync_reported(engine)  # the published figures, loaded once with the schema


def locked_or_unreachable(url: str, exc: OperationalError) -> StoreError:
    """The one-line error for an OperationalError from the driver."""
    text = str(exc.orig) if exc.orig is not None else str(exc)
    if "locked" in text or "busy" in text:
        return StoreError(
            f"{describe(url)} is locked by another process (another sweep writing, or a "
            "database browser holding it): wait for it to finish, or use --db to write "
            "elsewhere"
        )
    first_line = text.strip().splitlines()[0] if text.strip() else exc.__class__.__name__
    return StoreError(
        f"cannot open {describe(url)} ({first_line}): check that the server is running and "
        "the URL is right, or pass --db sqlite:///pomdpbench.db"
    )


def with_retry(action: Callable[[], T], url: str, timeout_s: float = 60.0) -> T:
    """Run a write, retrying while SQLite reports a lock, for up to ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    delay = 0.2
    while True:
        try:
            return action()
        except OperationalError as exc:
            text = str(exc.orig) if exc.orig is not None else str(exc)
            if ("locked" not in text and "busy" not in text) or time.monotonic() > deadline:
                raise locked_or_unreachable(url, exc) from None
            time.sleep(delay)
            delay = min(delay * 2, 2.0)
