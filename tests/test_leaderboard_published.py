"""The published figures as leaderboards: the numbers, the app's view, and a run beside them."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import streamlit as st
from report_helpers import report_args
from streamlit.testing.v1 import AppTest

from pomdpbench.paths import leaderboard_dir
from pomdpbench.registry import get_suite, get_task
from pomdpbench.stats.published import (
    AGGREGATE,
    aggregate,
    published_steps,
    published_table,
    suite_published,
)
from pomdpbench.store import queries
from pomdpbench.store.database import open_engine
from pomdpbench.store.reported import read_reported_csv, reported_for_suite
from pomdpbench.store.synthetic import SyntheticRun, insert_runs

APP = str(leaderboard_dir() / "app.py")


@pytest.fixture(autouse=True)
def fresh_caches() -> Iterator[None]:
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


def expected_aggregate(suite: str, agent: str, step: int) -> tuple[float, float]:
    """RESeL's normalized mean and its error, recomputed straight from the CSV."""
    by_task = {
        r["task"]: (r["mean"], r["stderr"])
        for r in read_reported_csv()
        if r["suite"] == suite and r["agent"] == agent and r["env_steps"] == step
    }
    means, errors = [], []
    for task_id in get_suite(suite).tasks:
        spec = get_task(task_id)
        reported_as = spec.metadata.get("reported_as", task_id)
        mean, stderr = by_task[reported_as]
        scale = spec.references["target"].score - spec.references["random"].score
        means.append((mean - spec.references["random"].score) / scale)
        errors.append(stderr / scale)
    return float(np.mean(means)), math.sqrt(sum(e * e for e in errors)) / len(errors)


@pytest.mark.parametrize(("suite", "step"), [("classic", 1_500_000), ("mdp", 300_000)])
def test_published_aggregates_use_the_fixed_references(
    tmp_path: Path, suite: str, step: int
) -> None:
    reported = reported_for_suite(open_engine(f"sqlite:///{tmp_path / 'p.db'}"), suite)
    table = published_table(reported, suite, step)
    tasks = list(get_suite(suite).tasks)
    summary = aggregate(table.long, tasks).set_index("agent")
    mean, stderr = expected_aggregate(suite, "RESeL", step)
    assert summary.loc["RESeL", AGGREGATE] == pytest.approx(mean)
    assert summary.loc["RESeL", "se"] == pytest.approx(stderr)
    assert set(table.table["kind"]) == {"reported"}
    assert list(table.table.columns[4:]) == tasks  # every task has its own column
    assert len(table.environments) == len(tasks)


def test_steps_and_titles_name_the_papers_tables(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'p.db'}")
    mdp = reported_for_suite(engine, "mdp")
    assert published_steps(mdp) == [5_000_000, 1_000_000, 300_000]
    tables = suite_published(
        mdp,
        "mdp",
        queries.suite_runs(engine, "mdp", "full"),
        queries.suite_evaluations(engine, "mdp", "full"),
    )
    assert [t.title.rsplit(" · ", 1)[1] for t in tables] == ["5M steps", "1M steps", "300k steps"]
    assert tables[0].title.startswith("RESeL paper, Table 6")
    gravity = published_table(reported_for_suite(engine, "gravity"), "gravity", 2_000_000)
    assert gravity.title == "RESeL paper, Table 5 · 2M steps"
    assert "mujoco-py 2.1.2.14" in gravity.environments["paper ran on"].iloc[0]


def test_an_entry_missing_a_task_gets_no_aggregate(tmp_path: Path) -> None:
    reported = reported_for_suite(open_engine(f"sqlite:///{tmp_path / 'p.db'}"), "classic")
    reported = reported[~((reported["agent"] == "VRM") & (reported["task"] == "AntBLT-P-v0"))]
    table = published_table(reported, "classic", 1_500_000)
    summary = aggregate(table.long, list(get_suite("classic").tasks)).set_index("agent")
    assert math.isnan(summary.loc["VRM", AGGREGATE]) and summary.loc["VRM", "tasks"] == "7/8"
    assert table.table.set_index("agent").loc["VRM", AGGREGATE] == "-"


def open_app(monkeypatch: pytest.MonkeyPatch, url: str) -> AppTest:
    monkeypatch.setenv("POMDPBENCH_DB", url)
    monkeypatch.setenv("POMDPBENCH_REPS", "20")
    app = AppTest.from_file(APP, default_timeout=120).run()
    assert not app.exception, app.exception
    return app


def test_an_empty_database_shows_the_published_leaderboards(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    open_engine(url).dispose()
    app = open_app(monkeypatch, url)
    assert "holds no runs yet" in app.info[0].value
    assert app.selectbox(key="published").options == ["classic", "gravity", "mdp"]
    table = app.dataframe[0].value.set_index("agent")
    mean, stderr = expected_aggregate("classic", "RESeL", 1_500_000)
    assert table.loc["RESeL", AGGREGATE] == f"{mean:.3f} ± {stderr:.3f}"
    assert table.loc["RESeL", "AntBLT-P-v0"] == "2,829 ± 56"
    charts = app.get("vega_lite_chart")
    assert len(charts) == 2
    for chart in charts:  # Vega-Lite with hover tooltips and wheel zoom / drag pan
        spec = chart.proto.spec
        assert '"tooltip"' in spec and '"bind": "scales"' in spec
    app.selectbox(key="published").select("mdp").run()
    assert not app.exception
    subheaders = [s.value for s in app.subheader]
    assert [s.rsplit(" · ", 1)[1] for s in subheaders] == ["5M steps", "1M steps", "300k steps"]
    five_million = app.dataframe[0].value.set_index("agent")
    assert five_million.loc["TD7", "Ant-MDP-v0"] == "10,133 ± 966"  # Table 1 / Table 6 at 5M


def test_a_run_lands_beside_the_published_figures(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    engine = open_engine(url)
    runs = [
        SyntheticRun(
            "resel",
            task,
            "mdp",
            0,
            5_000.0,
            tier="full",
            budget=5_000_000,
            curve=[(s, s / 1000) for s in range(0, 5_000_001, 100_000)],
        )
        for task in get_suite("mdp").tasks
    ] + [
        SyntheticRun(
            "resel",
            "Ant-MDP-v0",
            "mdp",
            0,
            7.0,
            tier="smoke",
            budget=2_000,
            curve=[(0, 1.0), (1_000, 4.0), (2_000, 7.0)],
        )
    ]
    insert_runs(engine, runs)
    engine.dispose()
    app = open_app(monkeypatch, url)
    app.radio(key="view").set_value("Published").run()
    assert not app.exception
    assert app.selectbox(key="published").value == "mdp"  # the sidebar's suite
    final, _, at_300k = (d.value.set_index("agent") for d in app.dataframe[:3])
    full = "resel · full (5,000,000 steps)"
    assert final.loc[full, "kind"] == "here" and final.loc[full, "Ant-MDP-v0"] == "5,000"
    assert final.loc["resel · smoke (2,000 steps)", "Ant-MDP-v0"] == "7.000"
    assert at_300k.loc["resel · full (300,000 steps)", "Hopper-MDP-v0"] == "300"
    assert "resel · smoke (2,000 steps)" not in at_300k.index  # its budget never got there
    assert final.loc["RESeL", "kind"] == "reported"


def test_report_and_reported_print_the_same_numbers(cli: Any, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    engine = open_engine(url)
    insert_runs(
        engine,
        [
            SyntheticRun(
                "resel",
                task,
                "classic",
                0,
                1_000.0,
                tier="smoke",
                budget=2_000,
                curve=[(2_000, 1_000.0)],
            )
            for task in get_suite("classic").tasks
        ],
    )
    engine.dispose()
    mean, stderr = expected_aggregate("classic", "RESeL", 1_500_000)
    expected = f"{mean:.3f} ± {stderr:.3f}"
    listed = cli("reported", "--suite", "classic", "--db", url)
    assert listed.status == 0 and expected in listed.out
    assert "resel · smoke" in listed.out  # (rich folds the rest of the label)
    out = tmp_path / "report"
    result = cli(*report_args(url, out, 20, suite="classic", tier=None))
    assert result.status == 0, result.err
    text = (out / "report.md").read_text()
    assert "## Published leaderboards" in text and "### RESeL paper, Table 4 · 1.5M steps" in text
    assert f"| reported | RESeL | {expected} | 8/8 | 2,829 ± 56 |" in text
    published = pd.read_csv(out / "published.csv")
    here = published[published["kind"] == "here"]
    assert len(here) == 8 and set(here["mean"]) == {1_000.0}
