"""The results store: round trip, scoring from stored curves, schema and lock errors."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import pomdpbench
from pomdpbench.errors import StoreError
from pomdpbench.harness.evaluation import EvalResult
from pomdpbench.record import events as ev
from pomdpbench.record.job import JobSpec
from pomdpbench.store import Store, database
from pomdpbench.store.models import SCHEMA_VERSION
from pomdpbench.store.provenance import collect


def make_job(seed: int = 0, task: str = "TMazePassive-10-v0") -> JobSpec:
    return JobSpec(
        agent="random",
        agent_version="1",
        agent_entry_point="x:y",
        task=task,
        suite="diagnostic",
        tier="custom",
        seed=seed,
        budget=100,
        eval_every=50,
        eval_episodes=2,
        config={"a": 1},
    )


def evaluated(job: JobSpec, step: int, successes: tuple[bool, ...]) -> ev.Evaluated:
    result = EvalResult(
        env_step=step,
        returns=tuple(float(s) for s in successes),
        lengths=(11,) * len(successes),
        successes=successes,
    )
    return ev.Evaluated(job.run_key, result, wall_time_s=step / 100, train_metrics={"loss": 0.5})


def begin(store: Store, job: JobSpec) -> None:
    task = pomdpbench.get_task(job.task)
    store.begin_run(job, task, collect("cpu", task.simulator_package))


def test_round_trip_scores_from_the_stored_curve(db_url: str) -> None:
    store = Store.open(db_url)
    job = make_job()
    begin(store, job)
    store.apply(ev.Started(job.run_key, 0, "cpu", 1))
    for step, successes in ((0, (False, False)), (50, (True, False)), (100, (True, True))):
        store.apply(evaluated(job, step, successes))
    store.apply(ev.Finished(job.run_key, env_steps=100, wall_time_s=2.0))

    (run,) = Store.open(db_url, create=False).runs(suite="diagnostic")
    assert run.status == "finished" and run.env_steps == 100 and run.metric == "success"
    assert run.final_score == pytest.approx(1.0)  # only step 100 lies in the last 5 %
    assert run.auc == pytest.approx((0.25 * 50 + 0.75 * 50) / 100)  # trapezoids over 0..100
    assert run.steps_per_s == pytest.approx(50.0)
    assert store.curve(job.run_key) == [(0, 0.0, 0.0), (50, 0.5, 0.5), (100, 1.0, 1.0)]
    assert store.eval_steps(job.run_key) == (0, 50, 100)
    assert run.to_json()["task_version"] == 0


def test_provenance_is_recorded(db_url: str) -> None:
    store = Store.open(db_url)
    job = make_job()
    begin(store, job)
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from pomdpbench.store.models import Run

    with Session(store.engine) as session:
        row = session.scalars(select(Run)).one()
        assert row.host and row.python_version and row.device.startswith("cpu")
        assert row.packages["gymnasium"] != "missing" and row.packages["torch"] != "missing"
        assert row.pomdpbench_version == pomdpbench.__version__
        assert row.agent_config == {"a": 1} and row.task_spec["id"] == job.task
        assert row.git_commit is None or len(row.git_commit) == 40


def test_duplicate_evaluations_are_kept_once_and_filters_work(db_url: str) -> None:
    store = Store.open(db_url)
    jobs = [make_job(seed) for seed in (0, 1)]
    for job in jobs:
        begin(store, job)
    store.apply(evaluated(jobs[0], 50, (True, True)))
    store.apply(evaluated(jobs[0], 50, (False, False)))  # a resumed run re-reporting a step
    assert store.curve(jobs[0].run_key) == [(50, 1.0, 1.0)]
    store.apply(ev.Stopped(jobs[1].run_key, "interrupted", 60, 1.0))
    assert [r.seed for r in store.runs(status="interrupted")] == [1]
    assert [r.seed for r in store.runs(status="running")] == [0]
    store.mark_interrupted([jobs[0].run_key], "gone")
    assert store.find(jobs[0].run_key).status == "interrupted"  # type: ignore[union-attr]


def test_old_schema_is_refused_and_left_untouched(db_url: str) -> None:
    Store.open(db_url)
    path = db_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE pomdpbench_meta SET value = '0' WHERE key = 'schema_version'")
    with pytest.raises(
        StoreError, match=f"older than this pomdpbench's {SCHEMA_VERSION}; it was left untouched"
    ):
        Store.open(db_url)
    with sqlite3.connect(path) as connection:
        (value,) = connection.execute("SELECT value FROM pomdpbench_meta").fetchone()
    assert value == "0"


def test_newer_schema_asks_for_an_upgrade(db_url: str) -> None:
    Store.open(db_url)
    with sqlite3.connect(db_url.removeprefix("sqlite:///")) as connection:
        connection.execute("UPDATE pomdpbench_meta SET value = '99'")
    with pytest.raises(StoreError, match="newer pomdpbench"):
        Store.open(db_url)


def test_foreign_database_is_refused(workdir: Path) -> None:
    with sqlite3.connect(workdir / "other.db") as connection:
        connection.execute("CREATE TABLE notes (id INTEGER)")
    with pytest.raises(StoreError, match="not a pomdpbench results database"):
        Store.open(f"sqlite:///{workdir / 'other.db'}")


def test_locked_database_gives_a_one_line_error(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store.open(db_url)
    monkeypatch.setattr(database, "LOCK_TIMEOUT_S", 0.1)
    locker = sqlite3.connect(db_url.removeprefix("sqlite:///"))
    locker.execute("BEGIN EXCLUSIVE")
    try:
        fresh = Store(database.create_store_engine(db_url), db_url, write_timeout_s=0.3)
        with pytest.raises(StoreError, match="locked by another process") as info:
            begin(fresh, make_job(5))
        assert "\n" not in str(info.value)
    finally:
        locker.rollback()
        locker.close()
    assert store.find(make_job(5).run_key) is None  # nothing half-written


def test_missing_file_and_bad_urls(workdir: Path) -> None:
    with pytest.raises(StoreError, match="no results database at"):
        Store.open(f"sqlite:///{workdir / 'absent.db'}", create=False)
    assert not (workdir / "absent.db").exists()
    with pytest.raises(StoreError, match="malformed database URL"):
        Store.open("not a url")
    with pytest.raises(StoreError, match="does not exist: create it") as info:
        Store.open(f"sqlite:///{workdir / 'no' / 'such' / 'dir.db'}")
    assert "server" not in str(info.value)  # was "check that the server is running"
