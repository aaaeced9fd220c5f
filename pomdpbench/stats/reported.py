"""Figures reported in papers: loaded into their own table, shown beside reproduced runs.

``baselines/reported_results.csv`` holds published means and standard errors (RESeL paper,
Tables 4-6, transcribed in the project's reference/reported_results.csv). They are not runs:
they have no per-run scores, ran on older simulators, and so never enter the bootstrap
statistics. The leaderboard and the report show them per task, marked "reported", with the
environment the paper ran on next to the one this project's task runs on.

A reported row belongs to a task of this project when the suite is the same and either the
task's ``metadata.reported_task`` names the reported id, or both ids are equal once the
version suffix, case and punctuation are dropped (``Ant-gravity-v2`` ~ ``AntGravity-v0``).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from pomdpbench.errors import ConfigError, UnknownIdError
from pomdpbench.paths import baselines_dir
from pomdpbench.registry import get_task
from pomdpbench.store.database import with_retry
from pomdpbench.store.models import Meta, ReportedResult

CSV_COLUMNS = (
    "source", "suite", "task", "agent", "env_steps", "metric", "mean", "stderr", "n_seeds",
    "environment",
)  # fmt: skip
CHECKSUM_KEY = "reported_results_sha256"


def reported_csv_path() -> Path:
    """The shipped CSV of reported figures."""
    return baselines_dir() / "reported_results.csv"


def read_reported_csv(path: Path | None = None) -> list[dict[str, Any]]:
    """Parse the CSV (``#`` lines are comments) into typed rows.

    Raises:
        ConfigError: a missing column or a value that is not a number where one is needed.
    """
    path = path or reported_csv_path()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read reported results {path}: {exc.strerror}") from None
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    reader = csv.DictReader(io.StringIO("\n".join(lines)))
    missing = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise ConfigError(f"{path}: missing column(s) {', '.join(missing)}: fix the header")
    rows = []
    for number, raw in enumerate(reader, start=2):
        try:
            rows.append(
                {
                    **{key: raw[key] for key in ("source", "suite", "task", "agent", "metric")},
                    "env_steps": int(raw["env_steps"]),
                    "mean": float(raw["mean"]),
                    "stderr": float(raw["stderr"]) if raw["stderr"] else None,
                    "n_seeds": int(raw["n_seeds"]) if raw["n_seeds"] else None,
                    "environment": raw["environment"] or None,
                }
            )
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{path} data row {number}: {exc}: fix the value") from None
    return rows


def sync_reported(engine: Engine, path: Path | None = None) -> int:
    """Load the CSV into the ``reported_results`` table unless it is already there.

    A checksum of the file in ``pomdpbench_meta`` makes this a no-op when nothing changed;
    otherwise the table is replaced as a whole. Returns the number of rows in the table.
    """
    path = path or reported_csv_path()
    rows = read_reported_csv(path)
    checksum = hashlib.sha256(path.read_bytes()).hexdigest()

    def action() -> int:
        with Session(engine) as session, session.begin():
            stored = session.get(Meta, CHECKSUM_KEY)
            if stored is not None and stored.value == checksum:
                return len(rows)
            session.execute(delete(ReportedResult))
            session.add_all(
                ReportedResult(
                    source=r["source"],
                    suite=r["suite"],
                    task=r["task"],
                    agent=r["agent"],
                    env_steps=r["env_steps"],
                    metric=r["metric"],
                    mean=r["mean"],
                    stderr=r["stderr"],
                    n_seeds=r["n_seeds"],
                    note=r["environment"],
                )  # fmt: skip
                for r in rows
            )
            session.merge(Meta(key=CHECKSUM_KEY, value=checksum))
        return len(rows)

    return with_retry(action, str(engine.url))


def reported_for_suite(engine: Engine, suite: str) -> pd.DataFrame:
    """Reported figures of one suite from the database table."""
    query = select(
        ReportedResult.source, ReportedResult.suite, ReportedResult.task, ReportedResult.agent,
        ReportedResult.env_steps, ReportedResult.metric, ReportedResult.mean,
        ReportedResult.stderr, ReportedResult.n_seeds, ReportedResult.note,
    ).where(ReportedResult.suite == suite)  # fmt: skip
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    return pd.DataFrame(rows, columns=list(CSV_COLUMNS))


def _base_name(task_id: str) -> str:
    return re.sub(r"[^a-z0-9]", "", re.sub(r"-v\d+$", "", task_id).lower())


def matches_task(reported_task: str, task_id: str) -> bool:
    """True when a reported figure's task is this project's ``task_id`` (see module doc)."""
    try:
        named = get_task(task_id).metadata.get("reported_task")
    except UnknownIdError:
        named = None
    if named is not None:
        return bool(named == reported_task)
    return _base_name(reported_task) == _base_name(task_id)


def here_environment(task_id: str, simulator_versions: list[str]) -> str:
    """The environment this project's task runs on, in words."""
    try:
        spec = get_task(task_id)
    except UnknownIdError:
        return f"{task_id} (not registered in this installation)"
    versions = ", ".join(simulator_versions) if simulator_versions else "version not recorded"
    return f"{task_id} on {spec.simulator} ({spec.simulator_package} {versions})"


def reported_for_task(
    reported: pd.DataFrame, task_id: str, simulator_versions: list[str] | None = None
) -> pd.DataFrame:
    """The reported figures of ``task_id``, each with the environment difference named."""
    if reported.empty:
        return reported.assign(here=pd.Series(dtype=str))
    rows = reported[[matches_task(str(t), task_id) for t in reported["task"]]].copy()
    rows["here"] = here_environment(task_id, simulator_versions or [])
    return rows.sort_values(["env_steps", "mean"], ascending=[True, False])
