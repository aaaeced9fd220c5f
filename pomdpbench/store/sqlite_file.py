"""Diagnose a SQLite results file before anything may write to it.

Every check here goes through a read-only connection (``mode=ro``), so a file that is refused
(damaged, of another schema, not pomdpbench's) is left byte for byte as it was: a normal
connection would already switch its journal to WAL, which rewrites the file's header.
What each failure means, in one line with its fix:

* a missing or read-only folder, a read-only file for a command that writes;
* a file that is not a database, or whose pages fail SQLite's ``quick_check`` (corruption);
* no ``pomdpbench_meta`` table (another program's database), an unreadable schema version,
  an older schema (``pomdpbench db upgrade`` moves it forward) or a newer one.

A read-only file (or folder) is still readable: :func:`inspect_file` says so and the store
opens it through a read-only connection.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from pomdpbench.errors import StoreError
from pomdpbench.store.versioning import check_version

META_TABLE = "pomdpbench_meta"


@dataclass(frozen=True)
class FileState:
    """What the checks found: a new file to create, or an existing one and how to open it."""

    path: Path
    exists: bool
    read_only: bool
    """The file or its folder cannot be written: open it read-only."""


def sqlite_path(url: str) -> Path | None:
    """The file a ``sqlite:///`` URL names, or None for memory and non-SQLite URLs."""
    if not url.startswith("sqlite:///"):
        return None
    raw = url.removeprefix("sqlite:///").split("?", 1)[0]
    if raw in ("", ":memory:") or raw.startswith("file:"):
        return None
    return Path(raw)


def read_only_uri(path: Path, *, immutable: bool = False) -> str:
    """A SQLite URI that opens ``path`` without any right to write it."""
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    return uri + ("&immutable=1" if immutable else "")


def connect_read_only(path: Path, timeout: float) -> sqlite3.Connection:
    """A read-only connection; ``immutable`` when the folder cannot hold WAL side files."""
    writable_folder = os.access(path.resolve().parent, os.W_OK)
    uri = read_only_uri(path, immutable=not writable_folder)
    return sqlite3.connect(uri, uri=True, timeout=timeout, check_same_thread=False)


def inspect_file(path: Path, *, create: bool, schema_version: int, timeout: float) -> FileState:
    """Check ``path`` as the store would use it; raise :class:`StoreError` with the fix."""
    folder = path.resolve().parent
    if not path.exists():
        if not create:
            raise StoreError(
                f"no results database at {path}: run `pomdpbench run` first, or point --db "
                "(or POMDPBENCH_DB) at the database you meant"
            )
        if not folder.is_dir():
            raise StoreError(
                f"the folder {folder} of the database {path} does not exist: create it "
                f"(mkdir -p {folder}) or point --db at a file in an existing folder"
            )
        if not os.access(folder, os.W_OK | os.X_OK):
            raise StoreError(
                f"the folder {folder} is not writable, so the database {path} cannot be "
                "created there: point --db at a writable folder"
            )
        return FileState(path, exists=False, read_only=False)
    if path.is_dir():
        raise StoreError(f"{path} is a folder, not a database file: point --db at a file")
    read_only = not (os.access(path, os.W_OK) and os.access(folder, os.W_OK | os.X_OK))
    found = stored_version(path, timeout)
    if found is None:
        if not create:
            raise StoreError(
                f"{path} holds no pomdpbench results yet: run `pomdpbench run` first or "
                "point --db at the database you meant"
            )
    else:
        check_version(str(path), found, f"sqlite:///{path}", schema_version)
    if read_only and create:
        raise StoreError(
            f"{path} is read-only (the file or its folder cannot be written): `pomdpbench "
            "results` can still read it; to add runs, make it writable or use --db elsewhere"
        )
    return FileState(path, exists=True, read_only=read_only)


def stored_version(path: Path, timeout: float) -> int | None:
    """The stored schema version; None for an empty database. Read-only throughout."""
    try:
        connection = connect_read_only(path, timeout)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open {path} ({exc}): check the file's permissions") from None
    try:
        check = connection.execute("PRAGMA quick_check(1)").fetchone()
        if check is None or check[0] != "ok":
            found = " ".join(str(check[0] if check else "no answer").split())
            raise StoreError(
                f"{path} is damaged (SQLite's quick_check: {found}); it was left untouched: "
                "restore it from a copy, or use --db to start anew"
            )
        tables = {
            row[0]
            for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        if not tables:
            return None
        if META_TABLE not in tables:
            raise StoreError(
                f"{path} is not a pomdpbench results database (no {META_TABLE} table): point "
                "--db at another file"
            )
        row = connection.execute(
            f"SELECT value FROM {META_TABLE} WHERE key = 'schema_version'"
        ).fetchone()
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise StoreError(
                f"{path} is locked by another process (another sweep writing, or a database "
                "browser holding it): wait for it to finish, or use --db to write elsewhere"
            ) from None
        raise _damaged(path, exc) from None
    except sqlite3.DatabaseError as exc:  # "file is not a database", "malformed"
        raise _damaged(path, exc) from None
    finally:
        connection.close()
    value = row[0] if row is not None else None
    try:
        return int(str(value))
    except ValueError:
        raise StoreError(
            f"{path} has an unreadable schema version {value!r} in {META_TABLE}: it is damaged "
            "or not written by pomdpbench; it was left untouched: point --db at another file"
        ) from None


def _damaged(path: Path, exc: sqlite3.Error) -> StoreError:
    reason = " ".join(str(exc).split())
    return StoreError(
        f"{path} is not a readable SQLite database ({reason}): it may be damaged or another kind "
        "of file; it was left untouched: restore it from a copy, or use --db to start anew"
    )
