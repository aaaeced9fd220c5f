"""Schema version 1: runs, evaluations, reported results and the meta table.

The first results schema (pomdpbench/store/models.py before commit 5e2175e). Databases of that
version were made by ``create_all`` and carry no ``alembic_version``; ``pomdpbench db upgrade``
stamps them at this revision from their ``pomdpbench_meta.schema_version``. Upgrading an empty
database from here builds exactly what version 1 built.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from pomdpbench.store.migrations import set_schema_version

revision = "1"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the version-1 tables."""
    op.create_table(
        "pomdpbench_meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(256), nullable=False),
    )
    op.create_table(
        "reported_results",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("suite", sa.String(64), nullable=False),
        sa.Column("task", sa.String(128), nullable=False),
        sa.Column("agent", sa.String(128), nullable=False),
        sa.Column("env_steps", sa.Integer, nullable=False),
        sa.Column("metric", sa.String(16), nullable=False),
        sa.Column("mean", sa.Double, nullable=False),
        sa.Column("stderr", sa.Double),
        sa.Column("n_seeds", sa.Integer),
        sa.Column("note", sa.Text),
    )
    op.create_index("ix_reported_results_suite", "reported_results", ["suite"])
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("run_key", sa.String(40), nullable=False),
        sa.Column("agent", sa.String(200), nullable=False),
        sa.Column("agent_version", sa.String(64), nullable=False),
        sa.Column("agent_config", sa.JSON, nullable=False),
        sa.Column("config_hash", sa.String(32), nullable=False),
        sa.Column("task", sa.String(128), nullable=False),
        sa.Column("task_version", sa.Integer, nullable=False),
        sa.Column("suite", sa.String(64), nullable=False),
        sa.Column("tier", sa.String(16), nullable=False),
        sa.Column("seed", sa.Integer, nullable=False),
        sa.Column("budget_steps", sa.Integer, nullable=False),
        sa.Column("eval_every", sa.Integer, nullable=False),
        sa.Column("eval_episodes", sa.Integer, nullable=False),
        sa.Column("metric", sa.String(16), nullable=False),
        sa.Column("protocol_version", sa.Integer, nullable=False),
        sa.Column("task_spec", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("env_steps", sa.Integer, nullable=False),
        sa.Column("checkpoint_step", sa.Integer),
        sa.Column("final_score", sa.Double),
        sa.Column("auc", sa.Double),
        sa.Column("wall_time_s", sa.Double, nullable=False),
        sa.Column("steps_per_s", sa.Double),
        sa.Column("error", sa.Text),
        sa.Column("host", sa.String(256), nullable=False),
        sa.Column("pid", sa.Integer),
        sa.Column("device", sa.String(128), nullable=False),
        sa.Column("python_version", sa.String(64), nullable=False),
        sa.Column("packages", sa.JSON, nullable=False),
        sa.Column("pomdpbench_version", sa.String(32), nullable=False),
        sa.Column("git_commit", sa.String(64)),
        sa.Column("git_dirty", sa.Boolean),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_runs_agent", "runs", ["agent"])
    op.create_index("ix_runs_run_key", "runs", ["run_key"], unique=True)
    op.create_index("ix_runs_status", "runs", ["status"])
    op.create_index("ix_runs_suite_tier_agent", "runs", ["suite", "tier", "agent"])
    op.create_index("ix_runs_task", "runs", ["task"])
    op.create_table(
        "evaluations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("env_step", sa.Integer, nullable=False),
        sa.Column("mean_return", sa.Double, nullable=False),
        sa.Column("std_return", sa.Double, nullable=False),
        sa.Column("success_rate", sa.Double),
        sa.Column("episodes", sa.Integer, nullable=False),
        sa.Column("mean_length", sa.Double, nullable=False),
        sa.Column("returns", sa.JSON, nullable=False),
        sa.Column("wall_time_s", sa.Double, nullable=False),
        sa.Column("train_metrics", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("run_id", "env_step", name="uq_evaluation_run_step"),
    )
    op.create_index("ix_evaluations_run_id", "evaluations", ["run_id"])
    set_schema_version(1)
