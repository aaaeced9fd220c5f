"""Store and statistics kept apart: who imports whom, where SQL lives, and reads that write nothing.

The statistics are functions of frames (like rliable), the store owns every SQL statement,
and the run record's vocabulary (events, job identity, scoring) imports neither side. The
reported figures are written when a database is created or by ``pomdpbench reported --sync``,
never by a command that only reads.
"""

from __future__ import annotations

import hashlib
import json
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from conftest import REPO
from report_helpers import report_args
from stats_fixtures import SUITE, build_fixture_db
from streamlit.testing.v1 import AppTest

from pomdpbench.paths import leaderboard_dir
from pomdpbench.store.database import open_engine
from pomdpbench.store.reported import CHECKSUM_KEY, reported_for_suite, sync_state


def modules_after(*steps: str) -> list[set[str]]:
    """Modules loaded after each import statement in turn, in one fresh interpreter."""
    code = (
        "import json, sys\nseen = []\n"
        + "".join(f"{step}\nseen.append(sorted(sys.modules))\n" for step in steps)
        + "print(json.dumps(seen))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return [set(names) for names in json.loads(done.stdout)]


def test_statistics_import_neither_sqlalchemy_nor_torch_and_the_store_no_harness() -> None:
    modules = {path.stem for path in (REPO / "pomdpbench" / "stats").glob("*.py")}
    stats, store = modules_after(
        "; ".join(f"import pomdpbench.stats.{m}" for m in sorted(modules)),
        "import pomdpbench.store, pomdpbench.store.queries, pomdpbench.store.reported",
    )
    assert "sqlalchemy" not in stats and "torch" not in stats
    assert not {m for m in stats if m.startswith("pomdpbench.store")}
    assert not {m for m in store if m.startswith("pomdpbench.harness")}
    assert "torch" not in store


def test_no_sql_outside_the_store() -> None:
    for folder in ("stats", "record", "cli"):
        for path in (REPO / "pomdpbench" / folder).glob("*.py"):
            text = path.read_text()
            assert "sqlalchemy" not in text, f"{path.relative_to(REPO)} talks SQL"
    assert "sqlalchemy import" not in (REPO / "leaderboard" / "app.py").read_text()


def test_the_run_record_imports_neither_harness_nor_store() -> None:
    (loaded,) = modules_after(
        "import pomdpbench.record.events, pomdpbench.record.job, pomdpbench.record.scoring"
    )
    assert not {m for m in loaded if m.startswith(("pomdpbench.harness", "pomdpbench.store"))}
    assert "sqlalchemy" not in loaded and "torch" not in loaded


def test_a_new_database_holds_the_reported_figures(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'new.db'}")
    assert sync_state(engine) == "current"
    assert len(reported_for_suite(engine)) == 202


def sha256(path: Path) -> str:
    """Hash of the database file and its write-ahead log (where an uncheckpointed write is)."""
    wal = path.with_name(path.name + "-wal")
    return hashlib.sha256(
        path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    ).hexdigest()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_read_commands_write_nothing_and_say_when_the_figures_are_old(
    cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, engine = build_fixture_db(tmp_path / "fixture.db")
    engine.dispose()
    with sqlite3.connect(tmp_path / "fixture.db") as connection:  # as an older pomdpbench left it
        connection.execute(
            "UPDATE pomdpbench_meta SET value = 'old' WHERE key = ?", (CHECKSUM_KEY,)
        )
        connection.execute("DELETE FROM reported_results WHERE suite = 'mdp'")
    before = sha256(tmp_path / "fixture.db")
    report = cli(*report_args(url, tmp_path / "r", 20, suite=SUITE))
    assert report.status == 0, report.err
    assert "older copy of the reported figures" in report.out
    assert "pomdpbench reported --sync" in report.out
    assert cli("results", "--db", url, "--json").status == 0
    assert cli("submissions", "--db", url).status == 0
    listed = cli("reported", "--suite", "mdp", "--db", url, "--json")
    assert listed.status == 0 and json.loads(listed.out.split("\n", 1)[1]) == []
    from pomdpbench.cli import leaderboard_cmd

    monkeypatch.setattr(leaderboard_cmd, "serve", lambda command, env: 0)  # no server: the checks
    assert cli("leaderboard", "--db", url, "--port", str(free_port())).status == 0
    monkeypatch.setenv("POMDPBENCH_DB", url)
    page = AppTest.from_file(str(leaderboard_dir() / "app.py"), default_timeout=120).run()
    assert not page.exception and "older copy" in page.warning[0].value
    st.cache_resource.clear()
    st.cache_data.clear()
    assert sha256(tmp_path / "fixture.db") == before
    synced = cli("reported", "--sync", "--db", url)
    assert synced.status == 0 and "202 reported figures" in synced.out
    assert sha256(tmp_path / "fixture.db") != before
    assert sync_state(open_engine(url, create=False)) == "current"


def test_reported_sync_creates_a_database_a_plain_read_does_not(cli: Any, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    refused = cli("reported", "--db", url)
    assert refused.status == 2 and not (tmp_path / "fresh.db").exists()
    assert cli("reported", "--sync", "--db", url).status == 0
    rows = json.loads(cli("reported", "--suite", "gravity", "--db", url, "--json").out)
    assert len(rows) == 40 and {r["suite"] for r in rows} == {"gravity"}
