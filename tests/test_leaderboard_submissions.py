"""The leaderboard's Submissions view: submitted runs listed apart, pooled only once verified."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from bundle_helpers import quiet, source_bundle
from stats_fixtures import SUITE, build_fixture_db
from streamlit.testing.v1 import AppTest

from pomdpbench.paths import leaderboard_dir
from pomdpbench.store.database import open_engine
from pomdpbench.store.submissions import set_status

APP = str(leaderboard_dir() / "app.py")


@pytest.fixture(autouse=True)
def fresh_caches() -> Iterator[None]:
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return source_bundle(tmp_path_factory.mktemp("source"))[1]


def page(monkeypatch: pytest.MonkeyPatch, url: str) -> AppTest:
    monkeypatch.setenv("POMDPBENCH_DB", url)
    monkeypatch.setenv("POMDPBENCH_REPS", "50")
    app = AppTest.from_file(APP, default_timeout=120).run()
    assert not app.exception, app.exception
    return app


def frames(app: AppTest) -> dict[str, Any]:
    """The submissions table and the submitted runs' table, found by their columns."""
    found = {}
    for frame in app.dataframe:
        columns = set(frame.value.columns)
        if {"submitter", "reasons", "runs"} <= columns:
            found["submissions"] = frame.value
        elif "kind" in columns and "submitter" in columns:
            found["submitted_runs"] = frame.value
    return found


def test_submitted_runs_are_listed_as_submitted_and_pooled_only_when_verified(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, bundle: Path
) -> None:
    url = build_fixture_db(tmp_path / "board.db")[0]
    assert quiet("submit", str(bundle), "--db", url, "--submitter", "grace") == 0
    app = page(monkeypatch, url)
    assert "sanity" not in app.sidebar.selectbox(key="suite").options  # pending: not pooled
    app.radio(key="view").set_value("Submissions").run()
    assert not app.exception, app.exception
    shown = frames(app)
    row = shown["submissions"].iloc[0]
    assert (row["submitter"], row["agent"], row["status"], row["runs"]) == (
        "grace",
        "random",
        "pending",
        9,
    )
    runs = shown["submitted_runs"]
    assert (
        len(runs) == 9 and set(runs["kind"]) == {"submitted"} and set(runs["status"]) == {"pending"}
    )

    set_status(open_engine(url, create=False), url, 1, "verified", [], {})
    st.cache_data.clear()
    app = page(monkeypatch, url)
    assert set(app.sidebar.selectbox(key="suite").options) == {SUITE, "sanity"}


def test_an_empty_database_lists_its_submissions(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _, bundle = source_bundle(tmp_path)
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    assert quiet("submit", str(bundle), "--db", url) == 0
    app = page(monkeypatch, url)
    assert "holds no runs yet" in " ".join(i.value for i in app.info)
    assert frames(app)["submissions"].iloc[0]["status"] == "pending"
