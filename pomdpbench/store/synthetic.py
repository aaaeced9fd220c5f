"""Synthetic results for tests, the query benchmark and demos of the leaderboard.

Rows are written with bulk INSERT statements straight into the store's tables (the harness writes
one run at a time, far too slowly for a 10,000-run database). Every column the store requires
gets a plausible value, with host ``synthetic`` so such rows are recognisable.
"""

from __future__ import annotations

import platform
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, insert, text

from pomdpbench.record.vocabulary import RunStatus, Tier
from pomdpbench.store.models import Evaluation, Run

CHUNK = 20_000


@dataclass(frozen=True)
class SyntheticRun:
    """One fake run: identity, status, final score and (optionally) its curve."""

    agent: str
    task: str
    suite: str
    seed: int
    final_score: float | None
    tier: str = Tier.SMOKE
    status: str = RunStatus.FINISHED
    metric: str = "return"
    budget: int = 1000
    agent_version: str = "1"
    config_hash: str = "cfg0"
    curve: Sequence[tuple[int, float]] = ()
    """(env_step, value) points; the value is the return, or the success rate."""
    train_metrics: Sequence[Mapping[str, float]] = ()
    """The training metrics stored with each curve point, in order (none past its end)."""


def run_row(run_id: int, run: SyntheticRun) -> dict[str, Any]:
    """A complete ``runs`` row for ``run``."""
    version = int(run.task.rsplit("-v", 1)[1]) if "-v" in run.task else 0
    finished = run.status == RunStatus.FINISHED
    return {
        "id": run_id,
        "run_key": f"synthetic-{run_id}",
        "agent": run.agent,
        "agent_version": run.agent_version,
        "agent_config": {"synthetic": True},
        "config_hash": run.config_hash,
        "task": run.task,
        "task_version": version,
        "suite": run.suite,
        "tier": run.tier,
        "seed": run.seed,
        "budget_steps": run.budget,
        "eval_every": max(1, run.budget // 10),
        "eval_episodes": 10,
        "metric": run.metric,
        "protocol_version": 1,
        "task_spec": {"id": run.task},
        "status": run.status,
        "env_steps": run.budget if finished else run.budget // 2,
        "final_score": run.final_score if finished else None,
        "auc": run.final_score if finished else None,
        "wall_time_s": 1.0,
        "steps_per_s": float(run.budget),
        "host": "synthetic",
        "device": "cpu",
        "python_version": platform.python_version(),
        "packages": {"pomdpbench": "0.1.0", "gymnasium": "1.0.0"},
        "pomdpbench_version": "0.1.0",
        "git_commit": "0" * 40,
        "git_dirty": False,
        "pid": None,
        "checkpoint_step": None,
        "error": None,
    }


def evaluation_rows(run_id: int, run: SyntheticRun) -> list[dict[str, Any]]:
    """``evaluations`` rows of the run's curve."""
    success = run.metric == "success"
    return [
        {
            "run_id": run_id,
            "env_step": int(step),
            "mean_return": float(value),
            "std_return": 0.0,
            "success_rate": float(value) if success else None,
            "episodes": 10,
            "mean_length": 100.0,
            "returns": [],
            "wall_time_s": 1.0,
            "train_metrics": dict(run.train_metrics[i]) if i < len(run.train_metrics) else {},
        }
        for i, (step, value) in enumerate(run.curve)
    ]


def insert_runs(engine: Engine, runs: Iterable[SyntheticRun], first_id: int = 1) -> int:
    """Bulk-insert runs and their curves; returns the id after the last one used."""
    run_id = first_id
    run_batch: list[dict[str, Any]] = []
    eval_batch: list[dict[str, Any]] = []
    with engine.begin() as connection:
        for run in runs:
            run_batch.append(run_row(run_id, run))
            eval_batch.extend(evaluation_rows(run_id, run))
            run_id += 1
            if len(run_batch) >= CHUNK or len(eval_batch) >= CHUNK * 10:
                _flush(connection, run_batch, eval_batch)
        _flush(connection, run_batch, eval_batch)
        if connection.dialect.name == "postgresql":
            # explicit ids leave PostgreSQL's id sequence behind: the next real run would
            # collide with a synthetic one (SQLite takes max(id) + 1 by itself)
            connection.execute(
                text("SELECT setval(pg_get_serial_sequence('runs', 'id'), max(id)) FROM runs")
            )
    return run_id


def _flush(connection: Any, runs: list[dict[str, Any]], evals: list[dict[str, Any]]) -> None:
    if runs:
        connection.execute(insert(Run), runs)
        runs.clear()
    if evals:
        connection.execute(insert(Evaluation), evals)
        evals.clear()
