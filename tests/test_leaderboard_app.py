"""The Streamlit leaderboard, driven with streamlit.testing's AppTest on a fixture database."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from stats_fixtures import SUITE, TASKS, build_fixture_db
from streamlit.testing.v1 import AppTest

from pomdpbench.paths import leaderboard_dir
from pomdpbench.stats.board import build_board
from pomdpbench.store import queries as query
from pomdpbench.store.database import open_engine
from pomdpbench.store.synthetic import SyntheticRun, insert_runs

APP = str(leaderboard_dir() / "app.py")
REPS = 200  # fewer bootstrap replications than the page's default, to keep the tests fast


@pytest.fixture(autouse=True)
def fresh_caches() -> Iterator[None]:
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


def open_app(monkeypatch: pytest.MonkeyPatch, url: str, tier: str | None = "smoke") -> AppTest:
    monkeypatch.setenv("POMDPBENCH_DB", url)
    monkeypatch.setenv("POMDPBENCH_REPS", str(REPS))
    app = AppTest.from_file(APP, default_timeout=120).run()
    assert not app.exception, app.exception
    if tier is not None and app.sidebar.selectbox:
        # the fullest tier with runs comes first; the fixture's main data is in smoke
        assert app.sidebar.selectbox(key="tier").options[0] == "short"
        app.sidebar.selectbox(key="tier").select(tier).run()
        assert not app.exception, app.exception
    return app


@pytest.fixture
def fixture_url(tmp_path: Path) -> str:
    return build_fixture_db(tmp_path / "fixture.db")[0]


def test_headline_table_shows_the_statistics(
    monkeypatch: pytest.MonkeyPatch, fixture_url: str
) -> None:
    app = open_app(monkeypatch, fixture_url)
    table = app.dataframe[0].value
    assert list(table["agent"]) == ["strong", "weak", "partial"]
    engine = open_engine(fixture_url, create=False)
    expected = build_board(
        query.suite_runs(engine, SUITE, "smoke"), SUITE, "smoke", reps=REPS
    ).headline.set_index("agent")
    rows = table.set_index("agent")
    for agent in ("strong", "weak"):
        for column in ("IQM", "IQM low", "IQM high", "median", "mean", "optimality gap"):
            assert rows.loc[agent, column] == pytest.approx(expected.loc[agent, column])
    assert rows.loc["strong", "IQM"] == pytest.approx(0.81)  # 0.8 + 0.01 * seed, seeds 0-2
    assert rows.loc["strong", "runs"] == 9 and rows.loc["weak", "runs"] == 15
    assert math.isnan(rows.loc["partial", "IQM"])
    assert rows.loc["partial", "status"] == "incomplete: lacks StatsProbeC-v0"
    warnings = " ".join(w.value for w in app.warning)
    assert "1 running, 1 failed run(s) are not counted" in warnings


def test_filters_change_the_table(monkeypatch: pytest.MonkeyPatch, fixture_url: str) -> None:
    app = open_app(monkeypatch, fixture_url)
    app.sidebar.multiselect(key="agents").unselect("weak").run()
    assert not app.exception
    assert list(app.dataframe[0].value["agent"]) == ["strong", "partial"]
    app.sidebar.multiselect(key="tasks").unselect(TASKS[2]).run()
    table = app.dataframe[0].value.set_index("agent")
    assert table.loc["partial", "status"] == "complete"  # complete on the two chosen tasks
    assert table.loc["partial", "IQM"] == pytest.approx(0.5)
    app.sidebar.selectbox(key="tier").select("short").run()
    assert not app.exception
    assert list(app.dataframe[0].value["agent"]) == ["strong"]  # one run, on task A only


def test_drill_down_shows_the_chosen_task(
    monkeypatch: pytest.MonkeyPatch, fixture_url: str
) -> None:
    app = open_app(monkeypatch, fixture_url)
    app.radio(key="view").set_value("Per task").run()
    app.selectbox(key="task").select(TASKS[1]).run()
    assert not app.exception
    assert TASKS[1] in [s.value for s in app.subheader]
    per_task = next(d.value for d in app.dataframe if "normalized" in d.value.columns)
    assert set(per_task["task"]) == {TASKS[1]}
    strong = per_task.set_index("agent").loc["strong"]
    assert strong["runs"] == 3 and strong["normalized"] == pytest.approx(0.81)
    assert strong["score"] == pytest.approx(-10 + 20 * 0.81)


def test_provenance_of_a_run(monkeypatch: pytest.MonkeyPatch, fixture_url: str) -> None:
    app = open_app(monkeypatch, fixture_url)
    app.radio(key="view").set_value("Runs & provenance").run()
    run_ids = app.selectbox(key="run").options
    app.selectbox(key="run").select(run_ids[-1]).run()
    assert not app.exception
    provenance = app.dataframe[-1].value
    assert provenance.loc[0, "host"] == "synthetic"
    assert provenance.loc[0, "git_commit"] == "0" * 40


def test_runs_with_a_protocol_override_are_shown_apart_and_never_pooled(
    monkeypatch: pytest.MonkeyPatch, fixture_url: str
) -> None:
    engine = open_engine(fixture_url, create=False)
    (first, *_) = query.suite_runs(engine, SUITE, "smoke")["run_id"]
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "UPDATE runs SET protocol_override = 'eval_episodes=1' WHERE id = ?", (int(first),)
        )
    app = open_app(monkeypatch, fixture_url)
    app.radio(key="view").set_value("Runs & provenance").run()
    assert not app.exception
    tables = [frame.value for frame in app.dataframe if "run_id" in frame.value.columns]
    (pooled,) = [t for t in tables if "protocol_override" not in t.columns]
    (apart,) = [t for t in tables if "protocol_override" in t.columns]
    assert int(first) not in set(pooled["run_id"]) and list(apart["run_id"]) == [int(first)]
    assert apart.loc[0, "protocol_override"] == "eval_episodes=1"


def test_empty_and_missing_databases_are_said_in_words(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    open_engine(empty)
    app = open_app(monkeypatch, empty)
    assert "holds no runs yet" in app.info[0].value
    st.cache_resource.clear()
    missing = open_app(monkeypatch, f"sqlite:///{tmp_path / 'absent.db'}")
    assert "no results database" in missing.error[0].value


def test_comparison_view_draws_without_error(
    monkeypatch: pytest.MonkeyPatch, fixture_url: str
) -> None:
    app = open_app(monkeypatch, fixture_url)
    app.radio(key="view").set_value("Plots").run()
    assert not app.exception
    assert [s.value for s in app.subheader] == [
        "Interval estimates",
        "Performance profiles",
        "Probability of improvement",
        "Sample efficiency",
    ]
    assert app.selectbox(key="baseline").options == ["strong", "weak"]
    assert not app.info  # every plot had data


def test_a_suite_whose_runs_are_still_running(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'running.db'}"
    insert_runs(open_engine(url), [SyntheticRun("a", TASKS[0], SUITE, 0, None, status="running")])
    app = open_app(monkeypatch, url, tier=None)
    warnings = [w.value for w in app.warning]
    assert any("has finished yet" in w for w in warnings)
    assert any("1 running run(s) are not counted" in w for w in warnings)
