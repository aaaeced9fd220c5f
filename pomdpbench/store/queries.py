"""Read what the statistics need from the results store, as pandas tables.

Every SQL statement of the read side lives in the store (this module, :mod:`.reported`); the
statistics in :mod:`pomdpbench.stats` are functions of the frames returned here.

Each function is one SQL query that selects only the columns it needs (never the JSON blobs of
configs and per-episode returns), so a suite's table comes back quickly from a database of
10,000 runs and a million evaluation points (benchmarks/leaderboard_queries.py measures it).
The leaderboard caches these results; nothing here caches.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from pomdpbench.record.vocabulary import RunStatus
from pomdpbench.store.models import Evaluation, Run, Submission
from pomdpbench.store.submissions import POOLED

RUN_COLUMNS = (
    Run.id,
    Run.agent,
    Run.agent_version,
    Run.config_hash,
    Run.task,
    Run.task_version,
    Run.suite,
    Run.tier,
    Run.seed,
    Run.status,
    Run.final_score,
    Run.auc,
    Run.metric,
    Run.budget_steps,
    Run.env_steps,
    Run.eval_episodes,
    Run.wall_time_s,
    Run.pomdpbench_version,
    Run.git_commit,
)
"""The run columns of a suite table (provenance blobs come from :func:`run_provenance`)."""

SUITE_PROTOCOL = Run.protocol_override.is_(None) & POOLED
"""Runs made with ``--eval-every``/``--eval-episodes`` overrides are never pooled with the
suite's protocol (``pomdpbench results`` lists them, with their override); runs of a submission
enter only once it is verified (:func:`submitted_runs` lists the others)."""


def suite_tier_counts(engine: Engine) -> pd.DataFrame:
    """Runs per suite, tier and status: what the leaderboard offers to pick from."""
    query = (
        select(Run.suite, Run.tier, Run.status, func.count(Run.id).label("runs"))
        .where(POOLED)
        .group_by(Run.suite, Run.tier, Run.status)
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    return pd.DataFrame(rows, columns=["suite", "tier", "status", "runs"])


def suite_runs(engine: Engine, suite: str, tier: str) -> pd.DataFrame:
    """Every run of ``suite`` in ``tier``, whatever its status, one row per run."""
    query = (
        select(*RUN_COLUMNS)
        .where(Run.suite == suite, Run.tier == tier, SUITE_PROTOCOL)
        .order_by(Run.agent, Run.task, Run.seed, Run.id)
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    columns = [column.key for column in RUN_COLUMNS]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.rename(columns={"id": "run_id"})


def override_runs(engine: Engine, suite: str, tier: str) -> pd.DataFrame:
    """Runs of ``suite`` in ``tier`` made with a protocol override: shown apart, never pooled."""
    query = (
        select(*RUN_COLUMNS, Run.protocol_override)
        .where(Run.suite == suite, Run.tier == tier, Run.protocol_override.is_not(None), POOLED)
        .order_by(Run.agent, Run.task, Run.seed, Run.id)
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    columns = [column.key for column in RUN_COLUMNS] + ["protocol_override"]
    return pd.DataFrame(rows, columns=columns).rename(columns={"id": "run_id"})


def suite_evaluations(engine: Engine, suite: str, tier: str) -> pd.DataFrame:
    """Evaluation points of the finished runs of ``suite`` in ``tier``.

    Columns: run_id, env_step, mean_return, success_rate. One joined query rather than one
    per run, so learning curves of a whole suite cost one round trip.
    """
    query = (
        select(
            Evaluation.run_id,
            Evaluation.env_step,
            Evaluation.mean_return,
            Evaluation.success_rate,
        )
        .join(Run, Run.id == Evaluation.run_id)
        .where(
            Run.suite == suite, Run.tier == tier, Run.status == RunStatus.FINISHED, SUITE_PROTOCOL
        )
        .order_by(Evaluation.run_id, Evaluation.env_step)
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    return pd.DataFrame(rows, columns=["run_id", "env_step", "mean_return", "success_rate"])


def evaluation_points(engine: Engine, run_ids: Sequence[int]) -> pd.DataFrame:
    """Evaluation points of the given runs (the columns of :func:`suite_evaluations`)."""
    columns = ["run_id", "env_step", "mean_return", "success_rate"]
    if not run_ids:
        return pd.DataFrame([], columns=columns)
    query = (
        select(
            Evaluation.run_id, Evaluation.env_step, Evaluation.mean_return, Evaluation.success_rate
        )
        .where(Evaluation.run_id.in_([int(r) for r in run_ids]))
        .order_by(Evaluation.run_id, Evaluation.env_step)
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    return pd.DataFrame(rows, columns=columns)


def run_provenance(engine: Engine, run_id: int) -> dict[str, Any] | None:
    """Everything recorded about one run except its evaluations, or None if absent."""
    with Session(engine) as session:
        run = session.get(Run, run_id)
        if run is None:
            return None
        return {
            column.key: getattr(run, column.key)
            for column in Run.__table__.columns  # every column, blobs included
        }


def recorded_versions(engine: Engine, suite: str, tier: str, task: str, package: str) -> list[str]:
    """The versions of ``package`` that the finished runs of one task recorded."""
    query = select(Run.packages).where(
        Run.suite == suite,
        Run.tier == tier,
        Run.task == task,
        Run.status == RunStatus.FINISHED,
        POOLED,
    )
    with engine.connect() as connection:
        found = {str((row[0] or {}).get(package, "")) for row in connection.execute(query)}
    return sorted(v for v in found if v and v != "missing")


SUBMISSION_COLUMNS = (
    Submission.id,
    Submission.submitter,
    Submission.submitted_at,
    Submission.agent,
    Submission.agent_version,
    Submission.suite,
    Submission.tier,
    Submission.status,
    Submission.complete,
    Submission.reasons,
    Submission.verified_at,
)


def submissions(engine: Engine) -> pd.DataFrame:
    """Every submission, newest first: who, when, what, its status and the reasons."""
    runs = (
        select(Run.submission_id, func.count(Run.id).label("runs"))
        .where(Run.submission_id.is_not(None))
        .group_by(Run.submission_id)
        .subquery()
    )
    query = (
        select(*SUBMISSION_COLUMNS, func.coalesce(runs.c.runs, 0))
        .outerjoin(runs, runs.c.submission_id == Submission.id)
        .order_by(Submission.submitted_at.desc(), Submission.id.desc())
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    columns = [column.key for column in SUBMISSION_COLUMNS] + ["runs"]
    frame = pd.DataFrame(rows, columns=columns).rename(columns={"id": "submission"})
    frame["reasons"] = ["; ".join(r or []) for r in frame["reasons"]]
    return frame


def submitted_runs(engine: Engine) -> pd.DataFrame:
    """Runs that came in submissions, with who submitted them, when, and the status."""
    query = (
        select(
            Submission.id,
            Submission.submitter,
            Submission.submitted_at,
            Submission.status,
            Run.agent,
            Run.agent_version,
            Run.suite,
            Run.tier,
            Run.task,
            Run.seed,
            Run.final_score,
            Run.metric,
        )
        .join(Submission, Submission.id == Run.submission_id)
        .order_by(Submission.id, Run.task, Run.seed)
    )
    columns = [
        "submission",
        "submitter",
        "submitted_at",
        "status",
        "agent",
        "agent_version",
        "suite",
        "tier",
        "task",
        "seed",
        "final_score",
        "metric",
    ]
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    return pd.DataFrame(rows, columns=columns)
