"""The figures published in papers, in their own table of the results store.

``baselines/reported_results.csv`` holds published means and standard errors (RESeL paper,
Tables 4-6, transcribed from the project's reference/reported_results.csv). They are loaded
into the ``reported_results`` table once: when the database is created
(:func:`pomdpbench.store.database.open_engine`) or when asked (``pomdpbench reported --sync``).
A checksum of the file in ``pomdpbench_meta`` says which file a database holds, so a read
command can tell a user that the figures are out of date without writing anything itself.
"""

from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from pomdpbench.errors import ConfigError
from pomdpbench.paths import baselines_dir
from pomdpbench.store.database import describe, with_retry, writers_lock
from pomdpbench.store.models import Meta, ReportedResult

if TYPE_CHECKING:
    import pandas as pd

CSV_COLUMNS = (
    "source",
    "suite",
    "task",
    "agent",
    "env_steps",
    "metric",
    "mean",
    "stderr",
    "n_seeds",
    "environment",
)
CHECKSUM_KEY = "reported_results_sha256"
SyncState = Literal["current", "outdated", "absent"]


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


def _checksum(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def sync_reported(engine: Engine, path: Path | None = None) -> int:
    """Load the CSV into the ``reported_results`` table unless it is already there.

    The table is replaced as a whole when the stored checksum differs from the file's; an
    unchanged file writes nothing. Returns the number of rows in the table.
    """
    path = path or reported_csv_path()
    rows = read_reported_csv(path)
    checksum = _checksum(path)

    def action() -> int:
        with Session(engine) as session, session.begin():
            writers_lock(session.connection())  # two sweeps opening a new database at once
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
                )
                for r in rows
            )
            session.merge(Meta(key=CHECKSUM_KEY, value=checksum))
        return len(rows)

    return with_retry(action, str(engine.url))


def sync_state(engine: Engine, path: Path | None = None) -> SyncState:
    """Whether the database holds this installation's reported figures (reads only)."""
    with Session(engine) as session:
        stored = session.get(Meta, CHECKSUM_KEY)
    if stored is None:
        return "absent"
    return "current" if stored.value == _checksum(path or reported_csv_path()) else "outdated"


def sync_note(engine: Engine, url: str) -> str | None:
    """A sentence for read commands when the stored figures are missing or out of date."""
    state = sync_state(engine)
    if state == "current":
        return None
    if state == "absent":
        what = "holds no reported figures"
    else:
        what = "holds an older copy of the reported figures"
    return (
        f"{describe(url)} {what}: load them with `pomdpbench reported --sync --db {describe(url)}`"
    )


def reported_for_suite(engine: Engine, suite: str | None = None) -> pd.DataFrame:
    """Reported figures of one suite (or of all) from the database table."""
    import pandas as pd  # here, so that creating a database needs no pandas

    query = select(
        ReportedResult.source,
        ReportedResult.suite,
        ReportedResult.task,
        ReportedResult.agent,
        ReportedResult.env_steps,
        ReportedResult.metric,
        ReportedResult.mean,
        ReportedResult.stderr,
        ReportedResult.n_seeds,
        ReportedResult.note,
    ).order_by(ReportedResult.id)
    if suite is not None:
        query = query.where(ReportedResult.suite == suite)
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    return pd.DataFrame(rows, columns=list(CSV_COLUMNS))
