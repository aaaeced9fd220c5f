"""Alembic migrations of the results schema, shipped inside the package.

One revision per schema version: revision ``"N"`` moves a database from schema N-1 to N, and
the revision ids are the numbers of :data:`pomdpbench.store.models.SCHEMA_VERSION`, so the
head revision is always ``str(SCHEMA_VERSION)`` (a test checks it). Every revision ends with
:func:`set_schema_version`, so ``pomdpbench_meta.schema_version`` (what the store reads when
it opens a database) and Alembic's ``alembic_version`` move together in one transaction.
``pomdpbench_meta.schema_version`` is the truth; :mod:`pomdpbench.store.migrate` re-stamps
``alembic_version`` from it before upgrading (databases made before the migrations existed
have no ``alembic_version`` at all).

Adding schema N+1 is one new file in ``versions/`` (``revision = "N+1"``,
``down_revision = "N"``, its operations, then ``set_schema_version(N+1)``) and the bump of
``SCHEMA_VERSION`` in ``models.py``; docs/store.md says how.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

META_TABLE = "pomdpbench_meta"


def set_schema_version(version: int) -> None:
    """Record ``version`` in ``pomdpbench_meta`` (the last step of every revision)."""
    meta = sa.table(META_TABLE, sa.column("key", sa.String), sa.column("value", sa.String))
    op.execute(meta.delete().where(meta.c.key == "schema_version"))
    op.execute(meta.insert().values(key="schema_version", value=str(version)))
