"""One owner per run, and resume that never skips an evaluation (reproduction 1 of issue 11).

On the old main a sweep killed with ``kill -9`` left workers training with nobody storing
their evaluations; the rerun resumed from their newer checkpoint and marked the run finished
with holes in its schedule, and a rerun while they lived trained one run twice.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from pomdpbench.harness import events as ev
from pomdpbench.harness.job import JobSpec
from pomdpbench.harness.loop import run_job
from pomdpbench.store import Store, leases
from pomdpbench.store.models import RunLease
from pomdpbench.sweep import run_sweep
from pomdpbench.sweep.display import SweepDisplay
from pomdpbench.sweep.local import SweepReport, prepare
from pomdpbench.sweep.plan import SweepRequest, plan

CMD = ("run", "--agent", "random", "--task", "CartPole-V-v0", "--steps", "40")


def the_job(**fields: Any) -> JobSpec:
    (job,) = plan(SweepRequest(agent="random", tasks=("CartPole-V-v0",), steps=40, **fields))
    return job


def put_lease(url: str, run_key: str, host: str, pid: int, age_s: float) -> None:
    store = Store.open(url)
    with Session(store.engine) as session, session.begin():
        now = time.time() - age_s
        session.merge(
            RunLease(
                run_key=run_key, owner_host=host, owner_pid=pid, acquired_at=now, heartbeat_at=now
            )
        )


def dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


@pytest.mark.parametrize(
    ("host", "pid", "age_s", "live"),
    [
        ("this", "parent", 0.0, True),  # another process on this host, alive
        ("this", "dead", 0.0, False),  # its owner died (a kill -9 of a sweep)
        ("elsewhere", 1, 5.0, True),  # another machine, heartbeat fresh
        ("elsewhere", 1, 2 * leases.LEASE_TTL_S, False),  # another machine gone quiet
    ],
)
def test_a_live_owner_is_respected_and_a_stale_one_taken_over(
    cli: Any, store_url: str, host: str, pid: Any, age_s: float, live: bool
) -> None:
    db_url = store_url  # a SQLite file and a PostgreSQL database (tests/pg_server.py)
    import os

    owner_pid = (
        {"parent": os.getppid(), "dead": None}.get(pid, pid) if isinstance(pid, str) else pid
    )
    if owner_pid is None:
        owner_pid = dead_pid()
    owner_host = socket.gethostname() if host == "this" else "elsewhere.example"
    put_lease(db_url, the_job().run_key, owner_host, owner_pid, age_s)
    result = cli(*CMD, "--db", db_url)
    if live:
        assert result.status == 1
        assert f"pid {owner_pid} on {owner_host}" in result.err and "is running it" in result.err
        assert "1 owned by another running sweep" in result.err
        assert Store.open(db_url).find(the_job().run_key) is None  # not touched
    else:
        assert result.status == 0, result.err
        assert f"over from pid {owner_pid} on {owner_host}" in result.err
        with Session(Store.open(db_url).engine) as session:
            assert session.get(RunLease, the_job().run_key) is None  # released when it ended


def test_of_two_sweeps_racing_for_a_run_one_wins(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = Store.open(store_url), Store.open(store_url)
    key = the_job().run_key
    import os

    monkeypatch.setattr(leases, "me", lambda: (socket.gethostname(), os.getppid()))
    assert first.take_lease(key) == (True, None)
    monkeypatch.setattr(leases, "me", lambda: (socket.gethostname(), os.getpid()))
    taken, owner = second.take_lease(key)
    assert not taken and owner is not None and owner.pid == os.getppid()


# ------------------------------------------------------------------ resume never skips anything
def sweep_job(root: Path) -> JobSpec:
    request = SweepRequest(
        agent="random",
        tasks=("Pendulum-V-v0",),
        steps=1000,
        eval_every=100,
        eval_episodes=1,
        checkpoint_root=root,
        checkpoint_every_s=0.0,
    )
    (job,) = plan(request)
    return job


def curve(store: Store, job: JobSpec) -> list[tuple[int, float, float | None]]:
    return store.curve(job.run_key)


def killed_after_checkpoint(job: JobSpec, store: Store, at: int, lost: set[int]) -> None:
    """Leave ``store`` and the checkpoint folder as a ``kill -9`` right after the checkpoint at
    step ``at`` would: evaluations from ``at`` on never arrived, nor those in ``lost``."""
    saved = Path(str(job.checkpoint_dir) + ".saved")
    events: list[ev.Event] = []

    def sink(event: ev.Event) -> None:
        events.append(event)
        if isinstance(event, ev.Checkpointed) and event.env_step == at:
            shutil.copytree(job.checkpoint_dir, saved)

    prepared = prepare(job, store, SweepDisplay(live=False), SweepReport())
    assert prepared is not None
    run_job(prepared, sink)
    for event in events:
        if isinstance(event, ev.Evaluated) and (
            event.result.env_step >= at or event.result.env_step in lost
        ):
            continue
        if isinstance(event, (ev.Started, ev.Evaluated)):
            store.apply(event)
    store.mark_interrupted([job.run_key], "killed")
    store.release_leases()
    shutil.rmtree(job.checkpoint_dir)
    saved.rename(job.checkpoint_dir)


@pytest.mark.parametrize("lost", [set(), {200}])
def test_resume_redoes_every_missing_evaluation_and_matches_an_uninterrupted_run(
    workdir: Path, lost: set[int]
) -> None:
    reference_store = Store.open(f"sqlite:///{workdir / 'ref.db'}")
    job = sweep_job(workdir / "ref-ckpt")
    run_sweep([job], reference_store, SweepDisplay(live=False))
    reference = curve(reference_store, job)
    assert [s for s, _, _ in reference] == list(range(0, 1001, 100))

    store = Store.open(f"sqlite:///{workdir / 'killed.db'}")
    job = sweep_job(workdir / "ckpt")
    killed_after_checkpoint(job, store, at=500, lost=lost)
    assert [s for s in store.eval_steps(job.run_key)] == sorted({0, 100, 200, 300, 400} - lost)
    report = run_sweep([job], store, SweepDisplay(live=False))
    assert [r.status for r in report.finished] == ["finished"]
    # every step of the schedule once, with the uninterrupted run's values: the evaluation at
    # the resumed step used that step's seeds, and a checkpoint ahead of a gap was not used
    assert curve(store, job) == reference
    assert store.find(job.run_key).final_score == reference_store.find(job.run_key).final_score  # type: ignore[union-attr]


def test_a_run_with_a_gap_is_never_finished(db_url: str) -> None:
    store = Store.open(db_url)
    job = replace(the_job(), checkpoint_dir="")
    prepared = prepare(job, store, SweepDisplay(live=False), SweepReport())
    assert prepared is not None
    events: list[ev.Event] = []
    run_job(prepared, events.append)
    for event in events:
        if not (isinstance(event, ev.Evaluated) and event.result.env_step == 20):
            store.apply(event)
    found = store.find(job.run_key)
    assert found is not None and found.status == "failed"
    assert "evaluation schedule incomplete: no evaluation at step(s) 20" in (found.error or "")


def test_a_run_finished_by_a_rival_while_its_lease_was_free_is_not_trained_again(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two sweeps sharing a store: B reads the run as running, A finishes it and drops the
    lease, B takes the free lease. B retrained the finished run from step 0 (its evaluations
    discarded, its score overwritten)."""
    store = Store.open(store_url)
    job = replace(the_job(), checkpoint_dir="")
    run_sweep([job], store, SweepDisplay(live=False))
    finished = store.find(job.run_key)
    assert finished is not None and finished.status == "finished"
    curve_before = store.curve(job.run_key)
    reads = iter([replace(finished, status="running")])  # B's first read, before A finished
    real_find = store.find
    monkeypatch.setattr(store, "find", lambda key: next(reads, None) or real_find(key))
    report = SweepReport()
    assert prepare(job, store, SweepDisplay(live=False), report) is None
    assert report.skipped == [f"{job.label} (finished)"]
    assert store.curve(job.run_key) == curve_before
    assert real_find(job.run_key).status == "finished"  # type: ignore[union-attr]
    with Session(store.engine) as session:
        assert session.get(RunLease, job.run_key) is None  # the lease it took is released
