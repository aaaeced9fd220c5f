"""The leaderboard's "Training stability" section (RESeL Figs. 4-5), driven with AppTest."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest
import streamlit as st
from stats_fixtures import SUITE, TASKS
from test_leaderboard_app import REPS, open_app
from test_report_stability import STEPS, metrics

from pomdpbench.stats.scores import build_suite_scores
from pomdpbench.stats.stability import stability_curves, task_points
from pomdpbench.store import queries as query
from pomdpbench.store.database import open_engine
from pomdpbench.store.synthetic import SyntheticRun, insert_runs
from pomdpbench.store.train_metrics import suite_train_metrics


@pytest.fixture(autouse=True)
def fresh_caches() -> Iterator[None]:
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def url(tmp_path: Path) -> str:
    """sac (critic_loss, policy_grad_norm, alpha), ppo (value_loss, grad_norm) and random
    (nothing) on task A, 3 seeds each in smoke; one short-tier run so the tier is chosen."""
    url = f"sqlite:///{tmp_path / 'stability.db'}"
    runs = [
        SyntheticRun(
            agent,
            TASKS[0],
            SUITE,
            seed,
            1.0,
            budget=1000,
            curve=[(s, 0.0) for s in STEPS],
            train_metrics=metrics(agent, seed),
        )
        for agent in ("sac", "ppo", "random")
        for seed in range(3)
    ] + [SyntheticRun("sac", TASKS[0], SUITE, 0, 1.0, tier="short", curve=[(0, 0.0)])]
    insert_runs(open_engine(url), runs)
    return url


def chart_data(chart: Any) -> pd.DataFrame:
    """The rows a Vega-Lite chart draws (Streamlit ships them as Arrow datasets)."""
    frames = [pa.ipc.open_stream(d.data.data).read_all().to_pandas() for d in chart.proto.datasets]
    return pd.concat(frames, ignore_index=True)


def drill_down(monkeypatch: pytest.MonkeyPatch, url: str) -> Any:
    app = open_app(monkeypatch, url)
    app.radio(key="view").set_value("Per task").run()
    app.selectbox(key="task").select(TASKS[0]).run()
    assert not app.exception, app.exception
    return app


def test_the_section_draws_gradient_norm_and_value_loss_per_agent_and_per_run(
    monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    app = drill_down(monkeypatch, url)
    assert "Training stability" in [s.value for s in app.subheader]
    chooser = app.multiselect(key=f"stability_{TASKS[0]}")
    assert chooser.value == ["gradient norm", "value loss"]  # RESeL Figs. 4 and 5 by default
    assert "alpha" in chooser.options and "value_loss" in chooser.options
    charts = app.get("vega_lite_chart")
    assert len(charts) == 4  # per metric: agents' mean and interval, and every run
    engine = open_engine(url, create=False)
    finished = build_suite_scores(query.suite_runs(engine, SUITE, "smoke"), SUITE, "smoke").finished
    points = task_points(suite_train_metrics(engine, SUITE, "smoke"), finished, TASKS[0])
    expected = stability_curves(points, "value loss", reps=REPS)
    drawn = chart_data(charts[2]).drop_duplicates(["label", "env_step"])
    merged = drawn.merge(expected, on=["label", "env_step"], suffixes=("", "_expected"))
    assert len(merged) == len(expected.dropna(subset=["mean"]))
    assert list(merged["mean"]) == pytest.approx(list(merged["mean_expected"]))
    assert list(merged["upper"]) == pytest.approx(list(merged["upper_expected"]))
    assert set(merged["metric"]) == {"critic_loss", "value_loss"}  # each agent's own name
    runs = chart_data(charts[3])
    assert set(runs["seed"]) == {0, 1, 2} and set(runs["label"]) == {"sac", "ppo"}
    spec = json.loads(charts[3].proto.spec)
    assert "tooltip" in json.dumps(spec) and '"bind": "scales"' in charts[3].proto.spec
    captions = " ".join(c.value for c in app.caption)
    assert "random reports no gradient norm" in captions
    assert "random reports no value loss" in captions


def test_any_reported_metric_can_be_chosen_and_a_log_scale_set(
    monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    app = drill_down(monkeypatch, url)
    app.multiselect(key=f"stability_{TASKS[0]}").set_value(["alpha"]).run()
    app.checkbox(key=f"stability_log_{TASKS[0]}").check().run()
    assert not app.exception, app.exception
    charts = app.get("vega_lite_chart")
    assert len(charts) == 2
    assert set(chart_data(charts[0])["label"]) == {"sac"}
    assert '"type": "log"' in charts[0].proto.spec
    captions = " ".join(c.value for c in app.caption)
    assert "ppo reports no alpha (alpha); it reports grad_norm, value_loss." in captions


def test_a_task_without_training_metrics_says_so(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'none.db'}"
    insert_runs(
        open_engine(url),
        [
            SyntheticRun("random", TASKS[0], SUITE, 0, 1.0, curve=[(0, 0.0)]),
            SyntheticRun("random", TASKS[0], SUITE, 0, 1.0, tier="short", curve=[(0, 0.0)]),
        ],
    )
    app = drill_down(monkeypatch, url)
    assert any("stored no training metrics" in i.value for i in app.info)
