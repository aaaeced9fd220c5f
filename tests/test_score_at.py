"""Scores at intermediate steps (the mdp suite's 300k and 1M, RESeL Table 6), end to end.

Synthetic runs of Ant-MDP-v0 with known curves go into a database; ``results``, ``report`` and
the statistics must derive the same scores at 300k and 1M from the stored evaluations, put
Table 6's reported figures at the same steps beside them, and give a run whose budget stops
short of a step no score there.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from report_helpers import report_args

from pomdpbench.stats.intermediate import (
    run_scores_at,
    step_label,
    suite_step_tables,
    wide_step_table,
)
from pomdpbench.stats.scores import build_suite_scores
from pomdpbench.store import queries
from pomdpbench.store.database import open_engine
from pomdpbench.store.reported import reported_for_suite
from pomdpbench.store.synthetic import SyntheticRun, insert_runs

TASK = "Ant-MDP-v0"
FULL = 5_000_000


def curve(offset: float, budget: int, every: int) -> list[tuple[int, float]]:
    """Value step / 1000 + offset at every evaluation: the score at s is s / 1000 + offset."""
    return [(s, s / 1000 + offset) for s in range(0, budget + 1, every)]


@pytest.fixture
def mdp_db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'mdp.db'}"
    engine = open_engine(url)
    runs = [
        SyntheticRun(
            "resel",
            TASK,
            "mdp",
            seed,
            4_900.0 + offset,
            tier="full",
            budget=FULL,
            curve=curve(offset, FULL, 100_000),
        )
        for seed, offset in ((0, 0.0), (1, 100.0))
    ] + [
        SyntheticRun(
            "resel", TASK, "mdp", 0, 2.0, tier="smoke", budget=2_000, curve=curve(0.0, 2_000, 1_000)
        ),
    ]
    insert_runs(engine, runs)
    engine.dispose()
    return url


def test_step_labels_read_as_in_table_6() -> None:
    assert [step_label(s) for s in (300_000, 1_000_000, 1_500_000, 5_000_000, 500)] == [
        "300k",
        "1M",
        "1.5M",
        "5M",
        "500",
    ]


def test_scores_at_come_from_the_window_before_each_step(mdp_db: str) -> None:
    engine = open_engine(mdp_db, create=False)
    runs = queries.suite_runs(engine, "mdp", "full")
    scores = run_scores_at(runs, queries.suite_evaluations(engine, "mdp", "full"))
    # window [285k, 300k] holds only the 300k evaluation: 300 + offset
    got = {(int(r.run_id), int(r.step)): r.score for r in scores.itertuples()}
    assert got == {
        (1, 300_000): 300.0,
        (1, 1_000_000): 1000.0,
        (2, 300_000): 400.0,
        (2, 1_000_000): 1100.0,
    }
    smoke = queries.suite_runs(engine, "mdp", "smoke")
    assert run_scores_at(smoke, queries.suite_evaluations(engine, "mdp", "smoke")).empty


def test_table_6_columns_beside_the_reported_figures(mdp_db: str) -> None:
    engine = open_engine(mdp_db, create=False)
    runs = queries.suite_runs(engine, "mdp", "full")
    finished = build_suite_scores(runs, "mdp", "full").finished
    tables = suite_step_tables(
        finished,
        queries.suite_evaluations(engine, "mdp", "full"),
        reported_for_suite(engine, "mdp"),
        [TASK, "Hopper-MDP-v0"],
    )
    long = tables[TASK]
    here = long[long["kind"] == "here"].set_index("step")
    assert list(here.index) == [300_000, 1_000_000, FULL]
    assert here.loc[300_000, "mean"] == pytest.approx(350.0)
    assert here.loc[300_000, "stderr"] == pytest.approx(50.0)  # std 70.7 / sqrt(2)
    assert here.loc[FULL, "mean"] == pytest.approx(4950.0)  # the final scores
    reported = long[(long["kind"] == "reported") & (long["agent"] == "RESeL")]
    assert dict(zip(reported["step"], reported["mean"], strict=True)) == {
        300_000: 4181.0,
        1_000_000: 6295.0,
        FULL: 8006.0,
    }
    wide = wide_step_table(long).set_index("agent")
    assert list(wide.columns) == ["kind", "at 300k", "at 1M", "at 5M"]
    assert wide.loc["resel", "at 300k"] == "350 ± 50"
    assert wide.loc["RESeL", "at 1M"] == "6,295 ± 102"
    assert set(tables[TASK]["kind"]) == {"here", "reported"}
    assert set(tables["Hopper-MDP-v0"]["kind"]) == {"reported"}  # no run of it here


def test_results_lists_the_scores_at_each_step(cli: Any, mdp_db: str) -> None:
    rows = json.loads(cli("results", "--suite", "mdp", "--db", mdp_db, "--json").out)
    by_tier = {(r["tier"], r["seed"]): r["scores_at"] for r in rows}
    assert by_tier[("full", 0)] == {"300000": 300.0, "1000000": 1000.0}
    assert by_tier[("full", 1)] == {"300000": 400.0, "1000000": 1100.0}
    assert by_tier[("smoke", 0)] == {}  # a 2,000-step budget reaches neither step
    table = cli("results", "--suite", "mdp", "--db", mdp_db)
    assert table.status == 0 and "at 300k" in table.out and "at 1M" in table.out


def test_report_writes_the_steps_table(cli: Any, mdp_db: str, tmp_path: Path) -> None:
    out = tmp_path / "report"
    result = cli(*report_args(mdp_db, out, 20, suite="mdp", tier="full"))
    assert result.status == 0, result.err
    at_steps = pd.read_csv(out / "at_steps.csv")
    here = at_steps[(at_steps["kind"] == "here") & (at_steps["task"] == TASK)]
    assert dict(zip(here["step"], here["mean"], strict=True)) == pytest.approx(
        {300_000: 350.0, 1_000_000: 1050.0, FULL: 4950.0}
    )
    assert math.isclose(float(here["runs"].iloc[0]), 2.0)
    text = (out / "report.md").read_text()
    assert "## Scores at intermediate steps" in text
    assert "| here | resel | 350 ± 50 | 1,050 ± 50 | 4,950 ± 50 |" in text
    assert "| reported | RESeL | 4,181 ± 438 | 6,295 ± 102 | 8,006 ± 63 |" in text


def test_the_leaderboard_shows_table_6_beside_the_runs(
    monkeypatch: pytest.MonkeyPatch, mdp_db: str
) -> None:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from pomdpbench.paths import leaderboard_dir

    st.cache_data.clear()
    st.cache_resource.clear()
    monkeypatch.setenv("POMDPBENCH_DB", mdp_db)
    monkeypatch.setenv("POMDPBENCH_REPS", "20")
    app = AppTest.from_file(str(leaderboard_dir() / "app.py"), default_timeout=120).run()
    app.sidebar.selectbox(key="suite").select("mdp").run()
    app.sidebar.selectbox(key="tier").select("full").run()
    app.radio(key="view").set_value("Per task").run()
    app.selectbox(key="task").select(TASK).run()
    assert not app.exception, app.exception
    steps = next(d.value for d in app.dataframe if "at 300k" in d.value.columns)
    table = steps.set_index("agent")
    assert table.loc["resel", "at 300k"] == "350 ± 50"
    assert table.loc["TD7", "at 5M"] == "10,133 ± 966"
    st.cache_data.clear()
    st.cache_resource.clear()
