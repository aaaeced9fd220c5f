"""Schema version 2: ``runs.protocol_override`` and the ``run_leases`` table.

Version 1 put a run made with ``--eval-every``/``--eval-episodes`` in tier ``custom``, so no
run of a named tier has an override: every existing run keeps ``protocol_override`` NULL (the
suite's protocol), which is what its tier already says. ``run_leases`` starts empty: leases
belong to running sweeps, and none of version 1 can be running against this schema.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from pomdpbench.store.migrations import set_schema_version

revision = "2"
down_revision = "1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the override column and the lease table."""
    op.add_column("runs", sa.Column("protocol_override", sa.String(128), nullable=True))
    op.create_table(
        "run_leases",
        sa.Column("run_key", sa.String(40), primary_key=True),
        sa.Column("owner_host", sa.String(256), nullable=False),
        sa.Column("owner_pid", sa.Integer, nullable=False),
        sa.Column("acquired_at", sa.Double, nullable=False),
        sa.Column("heartbeat_at", sa.Double, nullable=False),
    )
    set_schema_version(2)
