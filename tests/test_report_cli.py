"""``pomdpbench report`` and ``pomdpbench leaderboard`` from the command line."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from report_helpers import report_args
from stats_fixtures import SUITE, build_fixture_db

from pomdpbench.cli import leaderboard_cmd
from pomdpbench.paths import leaderboard_dir
from pomdpbench.stats.board import build_board
from pomdpbench.store import queries as query
from pomdpbench.store.database import open_engine

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_report_writes_tables_and_plots(cli: Any, tmp_path: Path) -> None:
    url, engine = build_fixture_db(tmp_path / "fixture.db")
    out = tmp_path / "report"
    result = cli(*report_args(url, out, 200, suite=SUITE))
    assert result.status == 0, result.err
    assert "partial lacks StatsProbeC-v0" in result.out
    headline = pd.read_csv(out / "headline.csv").set_index("agent")
    board = build_board(query.suite_runs(engine, SUITE, "smoke"), SUITE, "smoke", reps=200)
    expected = board.headline.set_index("agent")
    for column in ("IQM", "IQM low", "IQM high", "optimality gap"):
        assert headline.loc["strong", column] == pytest.approx(expected.loc["strong", column])
    per_task = pd.read_csv(out / "per_task.csv")
    assert len(per_task) == 8  # 3 tasks x (strong, weak) + 2 tasks x partial
    for name in ("intervals", "profiles", "improvement", "sample_efficiency"):
        assert (out / f"{name}.png").read_bytes()[:8] == PNG_MAGIC
    assert len(list((out / "curves").glob("*.png"))) == 3
    text = (out / "report.md").read_text()
    assert "| strong | 0.810 |" in text and "![intervals](intervals.png)" in text


def test_report_says_why_there_is_nothing(cli: Any, tmp_path: Path) -> None:
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    open_engine(empty)
    result = cli(*report_args(empty, tmp_path / "r", None, suite="sanity", tier=None))
    assert result.status == 1 and "holds no runs yet" in result.out
    url, _ = build_fixture_db(tmp_path / "fixture.db")
    result = cli(*report_args(url, tmp_path / "r", None, suite="sanity", tier=None))
    assert result.status == 1 and "No runs of suite sanity" in result.out
    result = cli(*report_args(url, tmp_path / "r", None, suite="sanityy", tier=None))
    assert result.status == 2 and "did you mean 'sanity'" in result.err
    missing = f"sqlite:///{tmp_path / 'absent.db'}"
    result = cli(*report_args(missing, tmp_path / "r", None, suite=SUITE, tier=None))
    assert result.status == 2 and result.err.startswith("error: no results database")
    result = cli(*report_args(url, tmp_path / "r", 0, suite=SUITE, tier=None))
    assert result.status == 2 and "--reps must be at least 1" in result.err
    result = cli(*report_args(url, tmp_path / "r", None, "--agents", "strongg", suite=SUITE))
    assert result.status == 2 and "did you mean 'strong'?" in result.err


def test_leaderboard_command_starts_streamlit_on_the_app(
    cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = build_fixture_db(tmp_path / "fixture.db")
    calls: list[tuple[list[str], dict[str, str]]] = []

    def fake_serve(command: list[str], env: dict[str, str]) -> int:
        calls.append((command, env))
        return 0

    monkeypatch.setattr(leaderboard_cmd, "serve", fake_serve)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = cli("leaderboard", "--db", url, "--port", str(port))
    assert result.status == 0, result.err
    command, env = calls[0]
    assert command[1:4] == ["-m", "streamlit", "run"]
    assert Path(command[4]) == leaderboard_dir() / "app.py" and Path(command[4]).is_file()
    assert command[command.index("--server.port") + 1] == str(port)
    assert env["POMDPBENCH_DB"] == url


def test_leaderboard_command_errors_are_one_line(cli: Any, tmp_path: Path) -> None:
    url, _ = build_fixture_db(tmp_path / "fixture.db")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = cli("leaderboard", "--db", url, "--port", str(port))
    assert result.status == 2 and f"port {port} on 127.0.0.1 is in use" in result.err
    result = cli("leaderboard", "--db", url, "--port", "70000")
    assert result.status == 2 and "pass one from 1 to 65535" in result.err
    result = cli("leaderboard", "--db", f"sqlite:///{tmp_path / 'absent.db'}")
    assert result.status == 2 and "no results database" in result.err
    assert len(result.err.strip().splitlines()) == 1
