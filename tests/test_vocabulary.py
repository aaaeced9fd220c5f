"""Run status and tier as enums: each member is its stored string, so old databases read as before."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

import pomdpbench
from pomdpbench.record import events as ev
from pomdpbench.record.job import JobSpec
from pomdpbench.record.vocabulary import NOT_FINISHED, PROTOCOL_TIERS, RunStatus, Tier
from pomdpbench.registry import TIERS
from pomdpbench.store import Store, queries
from pomdpbench.store.database import open_engine
from pomdpbench.store.provenance import collect
from pomdpbench.store.synthetic import SyntheticRun, insert_runs

STORED = {
    RunStatus: ["running", "finished", "failed", "interrupted"],
    Tier: ["full", "short", "smoke", "custom", "reference"],
}


@pytest.mark.parametrize("enum", [RunStatus, Tier])
def test_members_are_exactly_the_strings_stored_so_far(enum: type) -> None:
    assert [member.value for member in enum] == STORED[enum]
    for member in enum:
        assert member == member.value and hash(member) == hash(member.value)
        assert str(member) == f"{member}" == member.value  # messages and f-strings
        assert json.dumps({"tier": member}) == json.dumps({"tier": member.value})  # run keys
        assert enum(member.value) is member


def test_protocol_tiers_are_the_tasks_own_and_custom_and_reference_are_not() -> None:
    assert TIERS == PROTOCOL_TIERS == (Tier.FULL, Tier.SHORT, Tier.SMOKE)
    assert [t for t in Tier if t.is_protocol] == list(PROTOCOL_TIERS)
    assert not Tier.CUSTOM.is_protocol and not Tier.REFERENCE.is_protocol
    for task in pomdpbench.list_tasks("sanity"):
        assert set(task.tiers) == set(PROTOCOL_TIERS)
    assert RunStatus.FINISHED not in NOT_FINISHED
    assert set(NOT_FINISHED) | {RunStatus.FINISHED} == set(RunStatus)
    assert [s for s in RunStatus if s.is_scored] == [RunStatus.FINISHED]


def test_a_run_key_is_the_same_with_the_tier_as_enum_or_string() -> None:
    fields = dict(
        agent="random",
        agent_version="1",
        agent_entry_point="x:y",
        task="TMazePassive-10-v0",
        suite="diagnostic",
        seed=0,
        budget=100,
        eval_every=50,
        eval_episodes=2,
    )
    as_enum = JobSpec(tier=Tier.CUSTOM, **fields)  # type: ignore[arg-type]
    as_string = JobSpec(tier="custom", **fields)  # type: ignore[arg-type]
    assert as_enum.run_key == as_string.run_key


def test_the_store_writes_plain_strings(db_url: str, tmp_path: Path) -> None:
    store = Store.open(db_url)
    job = JobSpec(
        agent="random",
        agent_version="1",
        agent_entry_point="x:y",
        task="TMazePassive-10-v0",
        suite="diagnostic",
        tier=Tier.CUSTOM,
        seed=0,
        budget=100,
        eval_every=50,
        eval_episodes=2,
    )
    task = pomdpbench.get_task(job.task)
    store.begin_run(job, task, collect("cpu", task.simulator_package))
    store.apply(ev.Stopped(job.run_key, RunStatus.FAILED, 0, 0.0, "boom"))
    path = db_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as connection:
        status, tier = connection.execute("SELECT status, tier FROM runs").fetchone()
    assert (type(status), status, type(tier), tier) == (str, "failed", str, "custom")


def test_a_database_written_with_plain_strings_reads_unchanged(tmp_path: Path) -> None:
    """Rows as an older pomdpbench wrote them (plain strings) are found by the enum filters."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = open_engine(url)
    insert_runs(
        engine,
        [
            SyntheticRun(
                "random",
                "Pendulum-P-v0",
                "sanity",
                0,
                -1200.0,
                tier="smoke",
                status="finished",
                curve=((0, -1300.0), (1000, -1200.0)),
            ),
            SyntheticRun(
                "random",
                "Pendulum-P-v0",
                "sanity",
                1,
                None,
                tier="smoke",
                status="interrupted",
                curve=((0, -1250.0),),
            ),
        ],
    )
    runs = queries.suite_runs(engine, "sanity", Tier.SMOKE)
    assert sorted(runs["status"]) == ["finished", "interrupted"]
    finished = runs[runs["status"] == RunStatus.FINISHED]
    assert list(finished["seed"]) == [0]
    points = queries.suite_evaluations(engine, "sanity", Tier.SMOKE)
    assert len(points) == 2 and set(points["run_id"]) == set(finished["run_id"])


def test_results_refuses_an_unknown_status_or_tier_in_one_line(cli: object) -> None:
    for flag, value, named in (
        ("--status", "finshed", "'finished'"),
        ("--tier", "reference", "'smoke', 'custom')"),
    ):
        result = cli("results", flag, value)  # type: ignore[operator]
        assert result.status == 2
        assert len(result.err.strip().splitlines()) == 1, result.err
        assert f"invalid choice: '{value}'" in result.err and named in result.err
        assert "<" not in result.err  # the values, not the enum members' reprs
