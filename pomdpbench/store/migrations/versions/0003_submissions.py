"""Schema version 3: the ``submissions`` table and ``runs.submission_id``.

Every run of a version-2 database was made (or imported) here, so each keeps
``submission_id`` NULL; the submissions table starts empty. SQLite cannot add a constraint to
an existing table, but it can add a column that carries its own ``REFERENCES`` clause, so the
column is added that way there. Alembic's batch mode (rebuild the table) is not used: dropping
the old ``runs`` table would cascade-delete every evaluation.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from pomdpbench.store.migrations import set_schema_version

revision = "3"
down_revision = "2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the submissions table and link runs to it."""
    op.create_table(
        "submissions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("bundle_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("submitter", sa.String(200), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("agent", sa.String(200), nullable=False),
        sa.Column("agent_version", sa.String(64), nullable=False),
        sa.Column("suite", sa.String(64), nullable=False),
        sa.Column("tier", sa.String(16), nullable=False),
        sa.Column("complete", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reasons", sa.JSON, nullable=False),
        sa.Column("evidence", sa.JSON, nullable=False),
        sa.Column("manifest", sa.JSON, nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_submissions_status", "submissions", ["status"])
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE runs ADD COLUMN submission_id INTEGER "
            "REFERENCES submissions (id) ON DELETE CASCADE"
        )
    else:
        op.add_column("runs", sa.Column("submission_id", sa.Integer, nullable=True))
        op.create_foreign_key(
            None, "runs", "submissions", ["submission_id"], ["id"], ondelete="CASCADE"
        )
    op.create_index("ix_runs_submission_id", "runs", ["submission_id"])
    set_schema_version(3)
