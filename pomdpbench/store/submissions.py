"""Submissions and merged runs: the SQL behind export, submit, verify and import.

A run travels between stores as a plain record (:func:`run_record`): every column that says
what was run, how, where and with what, and its evaluations; never the database's own ids,
pids or leases. The bundle code in :mod:`pomdpbench.submission` works on these records only.

Runs that came in a submission carry its id and a ``run_key`` suffixed ``@s<id>``; they are
kept out of the statistics (:data:`POOLED`) until their submission is verified.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Engine, or_, select, update
from sqlalchemy.orm import Session, selectinload

from pomdpbench.store.database import with_retry
from pomdpbench.store.models import Evaluation, Run, Submission, utcnow

POOLED = or_(
    Run.submission_id.is_(None),
    Run.submission_id.in_(select(Submission.id).where(Submission.status == "verified")),
)
"""Runs that enter statistics: made here, or of a verified submission."""

RUN_FIELDS = (
    "run_key",
    "agent",
    "agent_version",
    "agent_config",
    "config_hash",
    "task",
    "task_version",
    "suite",
    "tier",
    "seed",
    "budget_steps",
    "eval_every",
    "eval_episodes",
    "protocol_override",
    "metric",
    "protocol_version",
    "task_spec",
    "status",
    "env_steps",
    "final_score",
    "auc",
    "wall_time_s",
    "steps_per_s",
    "host",
    "device",
    "python_version",
    "packages",
    "pomdpbench_version",
    "git_commit",
    "git_dirty",
    "created_at",
    "started_at",
    "finished_at",
)
"""The columns a run record carries (docs/submission-schema.json, ``$defs/run``)."""
EVALUATION_FIELDS = (
    "env_step",
    "mean_return",
    "std_return",
    "success_rate",
    "episodes",
    "mean_length",
    "returns",
    "wall_time_s",
    "train_metrics",
)
TIMES = ("created_at", "started_at", "finished_at")


def submitted_key(run_key: str, submission_id: int) -> str:
    """The stored key of a submitted run: never equal to a local run's key."""
    return f"{run_key}@s{submission_id}"


def bundle_key(stored_key: str) -> str:
    """The run's own key (its identity hash), without a submission suffix."""
    return stored_key.split("@", 1)[0]


def run_record(run: Run) -> dict[str, Any]:
    """A run and its evaluations as JSON-ready data (times in ISO 8601)."""
    record = {name: getattr(run, name) for name in RUN_FIELDS}
    record["run_key"] = bundle_key(run.run_key)
    for name in TIMES:
        value = record[name]
        if isinstance(value, datetime):
            aware = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
            record[name] = aware.isoformat()
    record["evaluations"] = [
        {name: getattr(point, name) for name in EVALUATION_FIELDS} for point in run.evaluations
    ]
    return record


def _run_row(record: dict[str, Any], run_key: str, submission_id: int | None) -> Run:
    fields = {name: record.get(name) for name in RUN_FIELDS}
    for name in TIMES:
        value = fields[name]
        fields[name] = datetime.fromisoformat(value) if isinstance(value, str) else None
    if fields["created_at"] is None:
        fields["created_at"] = utcnow()
    fields.update(run_key=run_key, submission_id=submission_id, pid=None)
    run = Run(**fields)
    run.evaluations = [
        Evaluation(**{name: point.get(name) for name in EVALUATION_FIELDS})
        for point in record.get("evaluations", [])
    ]
    return run


# ------------------------------------------------------------------------------------ reads
def local_records(
    engine: Engine,
    *,
    agent: str | None = None,
    suite: str | None = None,
    tier: str | None = None,
    suite_protocol_only: bool = True,
) -> list[dict[str, Any]]:
    """Records of the runs made here (no submission) matching the filters.

    ``suite_protocol_only`` leaves out runs with a protocol override (a bundle holds none;
    a merge of two stores takes them too).
    """
    query = select(Run).where(Run.submission_id.is_(None))
    if suite_protocol_only:
        query = query.where(Run.protocol_override.is_(None))
    for column, value in ((Run.agent, agent), (Run.suite, suite), (Run.tier, tier)):
        if value is not None:
            query = query.where(column == value)
    query = query.options(selectinload(Run.evaluations)).order_by(Run.task, Run.seed, Run.id)
    with Session(engine) as session:
        return [run_record(run) for run in session.scalars(query)]


def local_tiers(engine: Engine, agent: str, suite: str) -> list[str]:
    """Tiers in which ``agent`` has runs of ``suite`` made here."""
    query = select(Run.tier).where(
        Run.agent == agent, Run.suite == suite, Run.submission_id.is_(None)
    )
    with Session(engine) as session:
        return sorted(set(session.scalars(query)))


def known_run_keys(engine: Engine) -> set[str]:
    """Keys of every run stored here."""
    with Session(engine) as session:
        return set(session.scalars(select(Run.run_key)))


def submission_with_hash(engine: Engine, bundle_sha256: str) -> int | None:
    """The id of the submission of this bundle, if it was submitted already."""
    with Session(engine) as session:
        found = session.scalar(
            select(Submission.id).where(Submission.bundle_sha256 == bundle_sha256)
        )
        return None if found is None else int(found)


def submitted_keys(engine: Engine) -> dict[str, int]:
    """Run key -> submission id of every run of a submission not rejected."""
    query = (
        select(Run.run_key, Submission.id)
        .join(Submission, Submission.id == Run.submission_id)
        .where(Submission.status != "rejected")
    )
    with Session(engine) as session:
        return {bundle_key(key): int(number) for key, number in session.execute(query)}


def submission(engine: Engine, submission_id: int) -> dict[str, Any] | None:
    """A submission's columns and its runs' records, or None if there is none with that id."""
    with Session(engine) as session:
        row = session.get(Submission, submission_id)
        if row is None:
            return None
        fields = {column.key: getattr(row, column.key) for column in Submission.__table__.columns}
        runs = session.scalars(
            select(Run)
            .where(Run.submission_id == submission_id)
            .options(selectinload(Run.evaluations))
            .order_by(Run.task, Run.seed)
        )
        fields["runs"] = [run_record(run) for run in runs]
        return fields


# ----------------------------------------------------------------------------------- writes
def add_submission(
    engine: Engine, url: str, fields: dict[str, Any], records: list[dict[str, Any]]
) -> int:
    """Store a checked bundle as a pending submission with its runs, in one transaction."""

    def action() -> int:
        with Session(engine) as session, session.begin():
            row = Submission(status="pending", reasons=[], evidence={}, **fields)
            session.add(row)
            session.flush()
            for record in records:
                key = submitted_key(record["run_key"], row.id)
                session.add(_run_row(record, key, row.id))
            return int(row.id)

    return with_retry(action, url)


def set_status(
    engine: Engine,
    url: str,
    submission_id: int,
    status: str,
    reasons: list[str],
    evidence: dict[str, Any],
) -> None:
    """Record what ``pomdpbench verify`` found."""

    def action() -> None:
        with Session(engine) as session, session.begin():
            session.execute(
                update(Submission)
                .where(Submission.id == submission_id)
                .values(status=status, reasons=reasons, evidence=evidence, verified_at=utcnow())
            )

    with_retry(action, url)


def merge_records(engine: Engine, url: str, records: list[dict[str, Any]]) -> tuple[int, int]:
    """Add runs as made here, skipping those whose key is stored: ``(added, skipped)``.

    One transaction, so an import that fails midway leaves the store as it was; importing the
    same runs twice adds nothing the second time.
    """

    def action() -> tuple[int, int]:
        with Session(engine) as session, session.begin():
            present = set(session.scalars(select(Run.run_key)))
            added = 0
            for record in records:
                if record["run_key"] in present:
                    continue
                session.add(_run_row(record, record["run_key"], None))
                present.add(record["run_key"])
                added += 1
            return added, len(records) - added

    return with_retry(action, url)
