"""Open the results database and turn every way that can fail into a one-line fix.

The default is an embedded SQLite file, ``pomdpbench.db`` in the working directory; any
SQLAlchemy URL works (``postgresql+psycopg://user@host/db`` for a shared leaderboard). Opening
checks the schema version and never modifies a database of another version, so nothing is lost
(SQLite files are diagnosed read-only first: :mod:`pomdpbench.store.sqlite_file`); an older one
is moved forward by ``pomdpbench db upgrade`` (:mod:`pomdpbench.store.migrate`). SQLite files
use WAL journaling so the leaderboard can read while a sweep writes.

Several sweeps may write one database at once (two machines sharing a PostgreSQL server, two
sweeps on one SQLite file): creating the tables and loading the reported figures happen under
:func:`writers_lock`, and a write that meets a lock, a deadlock or a serialization failure is
retried (:func:`with_retry`).
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, insert, inspect, select
from sqlalchemy import text as sql_text
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from pomdpbench.errors import StoreError
from pomdpbench.store.models import SCHEMA_VERSION, Base, Meta
from pomdpbench.store.sqlite_file import connect_read_only, inspect_file, sqlite_path
from pomdpbench.store.versioning import check_version, describe

DEFAULT_URL = "sqlite:///pomdpbench.db"
LOCK_TIMEOUT_S = 10.0
CONNECT_TIMEOUT_S = 10
WRITERS_LOCK_KEY = 0x706F6D6470
"""PostgreSQL advisory-lock key of :func:`writers_lock` (the bytes of "pomdp")."""
RETRIED_SQLSTATES = ("40001", "40P01")
"""PostgreSQL's serialization failure and deadlock: the transaction is simply run again."""
T = TypeVar("T")


def database_url(explicit: str | None = None) -> str:
    """``--db`` if given, else ``POMDPBENCH_DB``, else the SQLite file in the working dir."""
    return explicit or os.environ.get("POMDPBENCH_DB") or DEFAULT_URL


def strict_json(value: Any) -> str:
    """JSON without NaN or infinities, which are stored as null.

    PostgreSQL's ``json`` refuses them, so every backend stores the same text (an agent's
    training metrics may hold a NaN loss).
    """
    return json.dumps(_finite(value))


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value


def create_store_engine(url: str) -> Engine:
    """An engine for ``url`` with SQLite's lock wait and WAL journaling set up."""
    try:
        if url.startswith("sqlite"):
            engine = create_engine(
                url, connect_args={"timeout": LOCK_TIMEOUT_S}, json_serializer=strict_json
            )
            event.listen(engine, "connect", _sqlite_pragmas)
        else:
            engine = create_engine(
                url,
                pool_pre_ping=True,
                json_serializer=strict_json,
                connect_args=_connect_args(url),
            )
    except ArgumentError:
        raise StoreError(
            f"malformed database URL {url!r}: use e.g. sqlite:///pomdpbench.db or "
            "postgresql://user@host/dbname"
        ) from None
    except NoSuchModuleError as exc:
        raise StoreError(
            f"no SQLAlchemy driver for {describe(url)} ({exc}): install the driver "
            "(pip install 'pomdpbench[postgres]' for postgresql+psycopg://) or use a sqlite:/// URL"
        ) from None
    except ModuleNotFoundError as exc:
        raise StoreError(
            f"the driver for {describe(url)} is not installed ({exc.name}): pip install it "
            "(pip install 'pomdpbench[postgres]' for postgresql+psycopg://) or use a sqlite:/// URL"
        ) from None
    return engine


def _connect_args(url: str) -> dict[str, Any]:
    """A server that does not answer is an error after ``CONNECT_TIMEOUT_S``, not a hang."""
    libpq = url.startswith(("postgresql+psycopg:", "postgresql+psycopg2:", "postgresql:"))
    if libpq and "connect_timeout" not in url:
        return {"connect_timeout": CONNECT_TIMEOUT_S}
    return {}


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
        state = inspect_file(
            path, create=create, schema_version=SCHEMA_VERSION, timeout=LOCK_TIMEOUT_S
        )
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
    check_version(describe(url), found, url)
    return engine


def _has_tables(engine: Engine, url: str) -> bool:
    try:
        return bool(inspect(engine).get_table_names())
    except OperationalError as exc:
        raise locked_or_unreachable(url, exc) from None


def writers_lock(connection: Connection) -> None:
    """Make the transaction just begun on ``connection`` the only writer until it ends.

    PostgreSQL: a transaction-scoped advisory lock (other sweeps wait on it, readers do not).
    SQLite: ``BEGIN IMMEDIATE`` (the write lock at once, so that two creators never both see
    an empty file). Used where a check is followed by writes that two sweeps must not both
    make: creating the tables, loading the reported figures, migrating.
    """
    if connection.dialect.name == "postgresql":
        lock = sql_text("SELECT pg_advisory_xact_lock(:key)")
        connection.execute(lock, {"key": WRITERS_LOCK_KEY})
    elif connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _create(engine: Engine) -> None:
    """Create the current schema, stamped at the head migration, unless a rival just did."""
    from pomdpbench.store.migrate import stamp_head
    from pomdpbench.store.reported import sync_reported

    with engine.connect() as connection:
        writers_lock(connection)
        if Meta.__tablename__ not in inspect(connection).get_table_names():
            Base.metadata.create_all(connection)
            connection.execute(insert(Meta).values(key="schema_version", value=str(SCHEMA_VERSION)))
            stamp_head(connection)
        connection.commit()
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
    password = _password(url)
    if password:
        first_line = first_line.replace(password, "***")
    if "does not exist" in first_line and "database" in first_line:
        fix = "create it on the server (createdb NAME) or fix the database name in the URL"
    elif "authentication failed" in first_line or "no password supplied" in first_line:
        fix = "check the user name and password in the URL"
    else:
        fix = "check that the server is running and the URL is right"
    return StoreError(
        f"cannot open {describe(url)} ({first_line}): {fix}, or pass --db sqlite:///pomdpbench.db"
    )


def _password(url: str) -> str | None:
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).password
    except ArgumentError:
        return None


def is_transient(exc: OperationalError) -> bool:
    """A lock (SQLite), a deadlock or a serialization failure (PostgreSQL): run it again."""
    text = str(exc.orig) if exc.orig is not None else str(exc)
    return "locked" in text or "busy" in text or _sqlstate(exc) in RETRIED_SQLSTATES


def _sqlstate(exc: OperationalError) -> str | None:
    return getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)


def with_retry(action: Callable[[], T], url: str, timeout_s: float = 60.0) -> T:
    """Run a write, retrying a transient failure (:func:`is_transient`) for up to ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    delay = 0.2
    while True:
        try:
            return action()
        except OperationalError as exc:
            if not is_transient(exc) or time.monotonic() > deadline:
                raise locked_or_unreachable(url, exc) from None
            time.sleep(delay)
            delay = min(delay * 2, 2.0)
