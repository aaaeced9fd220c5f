"""Reported figures: the shipped CSV, loading it into its own table, matching tasks."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pomdpbench.errors import ConfigError
from pomdpbench.stats.reported import matches_task, reported_for_task
from pomdpbench.store.database import open_engine
from pomdpbench.store.models import ReportedResult
from pomdpbench.store.reported import (
    read_reported_csv,
    reported_csv_path,
    reported_for_suite,
    sync_reported,
)


def test_shipped_csv_holds_the_papers_tables() -> None:
    rows = read_reported_csv()
    assert len(rows) == 202  # RESeL Tables 4 (72 rows), 5 (40) and 6 (90)
    counts = {s: sum(r["suite"] == s for r in rows) for s in ("classic", "gravity", "mdp")}
    assert counts == {"classic": 72, "gravity": 40, "mdp": 90}
    resel = next(r for r in rows if r["task"] == "AntBLT-P-v0" and r["agent"] == "RESeL")
    assert (resel["mean"], resel["stderr"], resel["n_seeds"]) == (2829.0, 56.0, 6)
    assert resel["env_steps"] == 1_500_000
    assert all(r["environment"] for r in rows)  # every figure names the environment it ran on


def test_sync_loads_once_and_reloads_a_changed_file(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'r.db'}")
    assert sync_reported(engine) == 202
    assert sync_reported(engine) == 202  # unchanged file: nothing rewritten, nothing doubled
    with Session(engine) as session:
        assert session.scalar(select(func.count(ReportedResult.id))) == 202
    edited = tmp_path / "reported.csv"
    lines = reported_csv_path().read_text().splitlines()
    edited.write_text("\n".join(lines[:8]) + "\n")  # header comments, header and 2 rows
    assert sync_reported(engine, edited) == 2
    frame = reported_for_suite(engine, "classic")
    assert len(frame) == 2 and set(frame["agent"]) == {"RESeL", "PPO-GRU"}


def test_malformed_csv_is_a_one_line_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("source,suite,task\nx,y,z\n")
    with pytest.raises(ConfigError, match="missing column"):
        read_reported_csv(bad)
    header = reported_csv_path().read_text().splitlines()[5]
    bad.write_text(header + "\nsrc,classic,T-v0,A,many,return,1,0.1,6,env\n")
    with pytest.raises(ConfigError, match="data row 2"):
        read_reported_csv(bad)


def test_reported_task_ids_match_across_versions_not_across_masks() -> None:
    assert matches_task("Ant-gravity-v2", "AntGravity-v0")
    assert matches_task("AntBLT-P-v0", "AntBLT-P-v1")
    assert not matches_task("AntBLT-P-v0", "AntBLT-V-v0")
    assert not matches_task("HalfCheetah-v2", "HalfCheetahBLT-P-v0")


def test_reported_rows_name_both_environments(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'r.db'}")
    sync_reported(engine)
    rows = reported_for_task(reported_for_suite(engine, "classic"), "HopperBLT-V-v0", ["1.0"])
    assert len(rows) == 9 and set(rows["env_steps"]) == {1_500_000}
    assert rows["environment"].str.contains("pybullet 3.2.5, gym 0.21").all()
    assert rows["here"].str.contains("HopperBLT-V-v0").all()


def test_the_mdp_tasks_find_table_6_through_reported_as(tmp_path: Path) -> None:
    rows = reported_for_suite(open_engine(f"sqlite:///{tmp_path / 'r.db'}"), "mdp")
    for task in ("Ant", "HalfCheetah", "Hopper", "Humanoid", "Walker2d"):
        matched = reported_for_task(rows, f"{task}-MDP-v0")
        assert set(matched["task"]) == {f"{task}-v2"}  # named by metadata.reported_as
        assert len(matched) == 18  # 6 agents x (300k, 1M, 5M)
        assert set(matched["env_steps"]) == {300_000, 1_000_000, 5_000_000}
