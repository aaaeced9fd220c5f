"""SQLAlchemy 2.0 models of the results store.

Five kinds of rows: a :class:`Run` (one agent x task x seed under one protocol, with full
provenance), its :class:`Evaluation` points, and :class:`ReportedResult` rows transcribed from
papers, kept apart so they never enter statistics that need per-run scores, the
:class:`RunLease` that says which sweep owns a run while it trains, and the
:class:`Submission` a run came in with when it was not run here (``pomdpbench submit``).
Columns use portable types only, so the same models work on SQLite and PostgreSQL.

``SCHEMA_VERSION`` is stored in ``pomdpbench_meta``; bump it with any change to these tables
and add the step that moves older databases forward, one file in
:mod:`pomdpbench.store.migrations` (docs/store.md, "Schema versions and migrations").
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from pomdpbench.record.vocabulary import RunStatus

SCHEMA_VERSION = 3
"""2: ``runs.protocol_override`` and the ``run_leases`` table (run ownership).
3: the ``submissions`` table and ``runs.submission_id`` (runs that came in a bundle)."""
RUN_STATUSES = tuple(RunStatus)
"""What ``runs.status`` holds (a plain string column: the enum's values)."""
SUBMISSION_STATUSES = ("pending", "verified", "rejected")


def utcnow() -> datetime:
    """Timezone-aware current time (stored as UTC)."""
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    """Declarative base with JSON columns for dicts and lists."""

    type_annotation_map = {
        dict[str, Any]: JSON,
        list[float]: JSON,
        datetime: DateTime(timezone=True),
    }


class Meta(Base):
    """Key-value facts about the database itself (the schema version)."""

    __tablename__ = "pomdpbench_meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(256))


class Run(Base):
    """One run: identity, status, scores and provenance."""

    __tablename__ = "runs"
    __table_args__ = (Index("ix_runs_suite_tier_agent", "suite", "tier", "agent"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_key: Mapped[str] = mapped_column(String(40), unique=True, index=True)
    # identity
    agent: Mapped[str] = mapped_column(String(200), index=True)
    agent_version: Mapped[str] = mapped_column(String(64))
    agent_config: Mapped[dict[str, Any]]
    config_hash: Mapped[str] = mapped_column(String(32))
    task: Mapped[str] = mapped_column(String(128), index=True)
    task_version: Mapped[int]
    suite: Mapped[str] = mapped_column(String(64))
    tier: Mapped[str] = mapped_column(String(16))
    seed: Mapped[int]
    budget_steps: Mapped[int]
    eval_every: Mapped[int]
    eval_episodes: Mapped[int]
    protocol_override: Mapped[str | None] = mapped_column(String(128))
    """``--eval-every``/``--eval-episodes`` values that differ from the suite's protocol
    (e.g. ``"eval_episodes=2"``); None for the suite's own protocol. Runs with an override are
    never pooled with the suite's."""
    metric: Mapped[str] = mapped_column(String(16))
    protocol_version: Mapped[int]
    task_spec: Mapped[dict[str, Any]]
    # progress and scores
    status: Mapped[str] = mapped_column(String(16), index=True)
    env_steps: Mapped[int] = mapped_column(default=0)
    checkpoint_step: Mapped[int | None]
    final_score: Mapped[float | None]
    auc: Mapped[float | None]
    wall_time_s: Mapped[float] = mapped_column(default=0.0)
    steps_per_s: Mapped[float | None]
    error: Mapped[str | None] = mapped_column(Text)
    # provenance
    host: Mapped[str] = mapped_column(String(256))
    pid: Mapped[int | None]
    device: Mapped[str] = mapped_column(String(128))
    python_version: Mapped[str] = mapped_column(String(64))
    packages: Mapped[dict[str, Any]]
    pomdpbench_version: Mapped[str] = mapped_column(String(32))
    git_commit: Mapped[str | None] = mapped_column(String(64))
    git_dirty: Mapped[bool | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    submission_id: Mapped[int | None] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    """The submission this run came in with; None for a run made (or imported) here. Such a
    run's ``run_key`` is its bundle's key with ``@s<submission id>`` appended, so it never
    meets a local run of the same identity."""

    evaluations: Mapped[list[Evaluation]] = relationship(
        back_populates="run", cascade="all, delete-orphan", order_by="Evaluation.env_step"
    )


class Evaluation(Base):
    """One evaluation round of a run."""

    __tablename__ = "evaluations"
    __table_args__ = (UniqueConstraint("run_id", "env_step", name="uq_evaluation_run_step"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    env_step: Mapped[int]
    mean_return: Mapped[float]
    std_return: Mapped[float]
    success_rate: Mapped[float | None]
    episodes: Mapped[int]
    mean_length: Mapped[float]
    returns: Mapped[list[float]]
    """Per-episode returns, kept for re-analysis."""
    wall_time_s: Mapped[float]
    train_metrics: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    run: Mapped[Run] = relationship(back_populates="evaluations")


class ReportedResult(Base):
    """A figure published in a paper (mean and standard error), not a run of this project."""

    __tablename__ = "reported_results"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(200))
    suite: Mapped[str] = mapped_column(String(64), index=True)
    task: Mapped[str] = mapped_column(String(128))
    agent: Mapped[str] = mapped_column(String(128))
    env_steps: Mapped[int]
    metric: Mapped[str] = mapped_column(String(16))
    mean: Mapped[float]
    stderr: Mapped[float | None]
    n_seeds: Mapped[int | None]
    note: Mapped[str | None] = mapped_column(Text)


class RunLease(Base):
    """The sweep process that owns a run while it trains (one owner at a time).

    Taken before a worker starts, renewed by the owner's heartbeat, dropped when the run ends.
    A lease whose owner died (same host, no such pid) or whose heartbeat is older than
    :data:`pomdpbench.store.leases.LEASE_TTL_S` is stale and may be taken over.
    """

    __tablename__ = "run_leases"

    run_key: Mapped[str] = mapped_column(String(40), primary_key=True)
    owner_host: Mapped[str] = mapped_column(String(256))
    owner_pid: Mapped[int]
    acquired_at: Mapped[float]
    """Unix time, like the heartbeat (plain floats compare the same on every backend)."""
    heartbeat_at: Mapped[float]


class Submission(Base):
    """A bundle another party submitted (``pomdpbench submit``), and what checking it found.

    ``pending``: every check of the bundle passed, not yet re-run here; ``verified`` or
    ``rejected`` by ``pomdpbench verify`` (its evidence and reasons kept). A bundle refused at
    submission writes nothing, so no row says so. Its runs are kept out of the statistics
    unless the submission is verified.
    """

    __tablename__ = "submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    bundle_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    """SHA-256 of the bundle's manifest (which holds every file's hash): the same bundle
    cannot be submitted twice."""
    submitter: Mapped[str] = mapped_column(String(200))
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    agent: Mapped[str] = mapped_column(String(200))
    agent_version: Mapped[str] = mapped_column(String(64))
    suite: Mapped[str] = mapped_column(String(64))
    tier: Mapped[str] = mapped_column(String(16))
    complete: Mapped[bool]
    status: Mapped[str] = mapped_column(String(16), index=True)
    reasons: Mapped[list[str]] = mapped_column(JSON)
    evidence: Mapped[dict[str, Any]]
    """What ``pomdpbench verify`` re-ran and measured (empty until then)."""
    manifest: Mapped[dict[str, Any]]
    verified_at: Mapped[datetime | None]
