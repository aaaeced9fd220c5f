"""What to tell a user whose database has another schema version than this pomdpbench's.

Shared by the server path (:mod:`pomdpbench.store.database`) and the read-only diagnosis of
SQLite files (:mod:`pomdpbench.store.sqlite_file`), so both name the same fix: an older
database is moved forward by ``pomdpbench db upgrade`` (:mod:`pomdpbench.store.migrate`), a
newer one needs a newer pomdpbench.
"""

from __future__ import annotations

from pomdpbench.errors import StoreError
from pomdpbench.store.models import SCHEMA_VERSION

UPGRADE_COMMAND = "pomdpbench db upgrade"


def describe(url: str) -> str:
    """The URL without its password, for messages."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def check_version(name: str, found: int, url: str, current: int = SCHEMA_VERSION) -> None:
    """Raise :class:`StoreError` with the fix unless ``found`` is the ``current`` schema."""
    if found < current:
        raise StoreError(
            f"{name} has results schema {found}, older than this pomdpbench's {current}; it was "
            f"left untouched: run `{UPGRADE_COMMAND} --db {describe(url)}` to move it to schema "
            f"{current}, keeping every row"
        )
    if found > current:
        raise StoreError(
            f"{name} was written by a newer pomdpbench (schema {found} > {current}): upgrade "
            "pomdpbench to read it"
        )
