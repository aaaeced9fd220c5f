"""The results store on a real PostgreSQL server that the tests start (tests/pg_server.py).

Every command a user runs against a shared server (run, results, report, reported, leaderboard,
db upgrade) gives what it gives on SQLite; what PostgreSQL treats differently from SQLite is
checked where it bit: explicit ids leave its id sequence behind, its ``json`` refuses NaN, a
racing lease insert blocks and then fails, and an unreachable server is one line without the
password. Skipped, saying why, where the server binaries or psycopg are missing.
"""

from __future__ import annotations

import json
import math
import socket
import threading
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import streamlit as st
from report_helpers import report_args
from sqlalchemy import select
from sqlalchemy.orm import Session
from stats_fixtures import SUITE, fixture_runs
from streamlit.testing.v1 import AppTest
from test_store import begin, evaluated, make_job

from pomdpbench.paths import leaderboard_dir
from pomdpbench.record import events as ev
from pomdpbench.store import Store
from pomdpbench.store import queries as query
from pomdpbench.store.database import open_engine
from pomdpbench.store.models import Evaluation, RunLease
from pomdpbench.store.reported import reported_for_suite, sync_state
from pomdpbench.store.synthetic import insert_runs

RUN = ("run", "--agent", "random", "--task", "CartPole-V-v0", "CartPole-P-v0", "--steps", "40")


def one_line_error(result: Any, *needles: str) -> str:
    assert result.status == 2, (result.status, result.err)
    line = result.err.strip()
    assert "\n" not in line and line.startswith("error: "), result.err
    for needle in needles:
        assert needle in line, line
    return line


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # nobody listens once the probe is closed


def results(cli: Any, url: str) -> list[dict[str, Any]]:
    listed = cli("results", "--db", url, "--json")
    assert listed.status == 0, listed.err
    return [
        {k: v for k, v in run.items() if k not in ("wall_time_s", "steps_per_s", "pid")}
        for run in json.loads(listed.out)
    ]


def test_a_sweep_and_its_results_match_sqlite(cli: Any, pg_url: str, db_url: str) -> None:
    for url in (pg_url, db_url):
        done = cli(*RUN, "--db", url)
        assert done.status == 0, done.err
    on_server, on_file = results(cli, pg_url), results(cli, db_url)
    assert len(on_server) == 2 and all(run["status"] == "finished" for run in on_server)
    assert on_server == on_file  # same runs, keys, scores and protocol
    keys = [run["run_key"] for run in on_server]
    curves = [Store.open(url, create=False).curve(key) for url in (pg_url, db_url) for key in keys]
    assert curves[:2] == curves[2:] and all(len(c) == 11 for c in curves)
    again = cli(*RUN, "--db", pg_url)  # a rerun finds the finished runs on the server
    assert again.status == 0 and results(cli, pg_url) == on_server
    run_id = on_server[0]["run_id"]
    shown = cli("results", "--db", pg_url, "--run", str(run_id))
    assert shown.status == 0 and f"run {run_id} in postgresql+psycopg://" in shown.out


def test_the_store_round_trip_on_postgresql(pg_url: str) -> None:
    store = Store.open(pg_url)
    job = make_job()
    begin(store, job)
    store.apply(ev.Started(job.run_key, 0, "cpu", 1))
    for step, successes in ((0, (False, False)), (50, (True, False)), (100, (True, True))):
        store.apply(evaluated(job, step, successes))
    store.apply(ev.Finished(job.run_key, env_steps=100, wall_time_s=2.0))
    (run,) = Store.open(pg_url, create=False).runs(suite="diagnostic")
    assert run.status == "finished" and run.final_score == pytest.approx(1.0)
    assert run.auc == pytest.approx(0.5)
    assert store.curve(job.run_key) == [(0, 0.0, 0.0), (50, 0.5, 0.5), (100, 1.0, 1.0)]
    provenance = query.run_provenance(store.engine, run.run_id)
    assert provenance is not None and provenance["agent_config"] == {"a": 1}
    assert provenance["created_at"].tzinfo is not None  # timestamps keep their zone


def test_nan_training_metrics_are_stored_as_null(pg_url: str, db_url: str) -> None:
    """PostgreSQL's json refuses NaN: a NaN loss in an evaluation's metrics failed the write."""
    for url in (pg_url, db_url):
        store = Store.open(url)
        job = make_job()
        begin(store, job)
        point = evaluated(job, 0, (True, False))
        store.apply(
            ev.Evaluated(
                job.run_key, point.result, 1.0, {"loss": math.nan, "q": [1.0, math.inf], "ok": 0.5}
            )
        )
        with Session(store.engine) as session:
            stored = session.scalar(select(Evaluation.train_metrics))
        assert stored == {"loss": None, "q": [1.0, None], "ok": 0.5}


def test_runs_after_synthetic_rows_get_fresh_ids(pg_url: str) -> None:
    """Synthetic rows carry explicit ids; PostgreSQL's sequence must move past them."""
    engine = open_engine(pg_url)
    insert_runs(engine, fixture_runs())
    store = Store(engine, pg_url)
    begin(store, make_job())
    assert len(store.runs()) == len(fixture_runs()) + 1


def both_with_fixture_runs(pg_url: str, db_url: str) -> tuple[str, str]:
    for url in (pg_url, db_url):
        insert_runs(open_engine(url), fixture_runs())
    return pg_url, db_url


def test_the_leaderboard_queries_read_postgresql_as_they_read_sqlite(
    pg_url: str, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pomdpbench._leaderboard import data

    monkeypatch.setenv("POMDPBENCH_REPS", "50")
    both_with_fixture_runs(pg_url, db_url)
    server, file = open_engine(pg_url, create=False), open_engine(db_url, create=False)
    assert sync_state(server) == "current"
    pd.testing.assert_frame_equal(reported_for_suite(server), reported_for_suite(file))
    by_key = ["suite", "tier", "status"]
    pd.testing.assert_frame_equal(
        query.suite_tier_counts(server).sort_values(by_key, ignore_index=True),
        query.suite_tier_counts(file).sort_values(by_key, ignore_index=True),
    )
    for read in (query.suite_runs, query.suite_evaluations, query.override_runs):
        pd.testing.assert_frame_equal(read(server, SUITE, "smoke"), read(file, SUITE, "smoke"))
    # leaderboard/data.py, the page's cached reads, outside Streamlit's runtime
    st.cache_data.clear()
    st.cache_resource.clear()
    try:
        agents = ("strong", "weak", "partial")
        boards = [data.board(url, SUITE, "smoke", agents, None) for url in (pg_url, db_url)]
        pd.testing.assert_frame_equal(boards[0].headline, boards[1].headline)
        assert list(boards[0].headline["agent"]) == list(agents)
        assert data.published_suites(pg_url) == data.published_suites(db_url)
        assert data.provenance(pg_url, 1)["agent_config"] == {"synthetic": True}  # type: ignore[index]
        assert data.simulator_versions(pg_url, SUITE, "smoke", "StatsProbeA-v0") == ["0.1.0"]
    finally:
        st.cache_data.clear()
        st.cache_resource.clear()


@pytest.mark.slow
def test_the_leaderboard_page_and_report_on_postgresql(
    cli: Any, pg_url: str, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    both_with_fixture_runs(pg_url, db_url)
    from pomdpbench.cli import leaderboard_cmd

    monkeypatch.setattr(leaderboard_cmd, "serve", lambda command, env: 0)
    assert cli("leaderboard", "--db", pg_url, "--port", str(closed_port())).status == 0
    tables = []
    for url in (pg_url, db_url):
        st.cache_data.clear()
        st.cache_resource.clear()
        monkeypatch.setenv("POMDPBENCH_DB", url)
        monkeypatch.setenv("POMDPBENCH_REPS", "50")
        page = AppTest.from_file(str(leaderboard_dir() / "app.py"), default_timeout=120).run()
        assert not page.exception, page.exception
        page.sidebar.selectbox(key="tier").select("smoke").run()
        tables.append(page.dataframe[0].value)
    st.cache_data.clear()
    st.cache_resource.clear()
    assert list(tables[0]["agent"]) == ["strong", "weak", "partial"]
    pd.testing.assert_frame_equal(tables[0], tables[1])
    for url, out in ((pg_url, "pg"), (db_url, "file")):
        made = cli(*report_args(url, tmp_path / out, 20, suite=SUITE))
        assert made.status == 0, made.err
    written = sorted(p.name for p in (tmp_path / "pg").iterdir() if p.suffix in (".md", ".csv"))
    assert written
    for name in written:
        assert (tmp_path / "pg" / name).read_text() == (tmp_path / "file" / name).read_text()


def test_a_lease_insert_racing_an_uncommitted_one_loses(pg_url: str) -> None:
    """On PostgreSQL the second insert waits for the first transaction, then fails: the sweep
    must read that as "owned by another sweep", not crash."""
    store = Store.open(pg_url)
    key = make_job().run_key
    rival = Session(store.engine)
    rival.add(
        RunLease(
            run_key=key,
            owner_host="elsewhere.example",
            owner_pid=7,
            acquired_at=time.time(),
            heartbeat_at=time.time(),
        )
    )
    rival.flush()  # inserted, not committed: our insert below blocks on it
    threading.Timer(0.5, rival.commit).start()
    started = time.monotonic()
    taken, owner = store.take_lease(key)
    assert time.monotonic() - started >= 0.4  # it did wait for the rival
    assert not taken and owner is not None and owner.host == "elsewhere.example"
    rival.close()


def test_an_unreachable_server_is_one_line_without_the_password(cli: Any) -> None:
    pytest.importorskip("psycopg", reason="psycopg is not installed: pip install -e '.[postgres]'")
    url = f"postgresql+psycopg://alice:s3cret-pw@127.0.0.1:{closed_port()}/results"
    shown = "postgresql+psycopg://alice:***@127.0.0.1:"
    for command in (
        ("results",),
        RUN,
        ("reported",),
        ("db", "upgrade"),
        ("leaderboard", "--port", str(closed_port())),
    ):
        line = one_line_error(
            cli(*command, "--db", url), f"cannot open {shown}", "check that the server is running"
        )
        assert "s3cret" not in line


def test_a_missing_database_on_the_server_names_createdb(cli: Any, postgres_server: Any) -> None:
    url = postgres_server.url("no_such_database")
    one_line_error(
        cli("results", "--db", url), 'database "no_such_database" does not exist', "createdb"
    )


def test_an_empty_server_database_is_created_by_run_not_by_results(cli: Any, pg_url: str) -> None:
    one_line_error(cli("results", "--db", pg_url), "holds no pomdpbench results yet")
    assert cli(*RUN[:5], "--steps", "20", "--db", pg_url).status == 0
    assert len(results(cli, pg_url)) == 1
