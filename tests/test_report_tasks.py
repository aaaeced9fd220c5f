"""``pomdpbench report --tasks`` and the sentences for the plots it could not draw."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from report_helpers import report_args
from stats_fixtures import SUITE, build_fixture_db


def test_report_over_a_task_subset(cli: Any, tmp_path: Path) -> None:
    url, _ = build_fixture_db(tmp_path / "fixture.db")
    out = tmp_path / "r"
    result = cli(
        *report_args(url, out, 50, "--tasks", "StatsProbeA-v0", "StatsProbeB-v0", suite=SUITE)
    )
    assert result.status == 0, result.err
    headline = pd.read_csv(out / "headline.csv").set_index("agent")
    # partial lacks only StatsProbeC-v0, so over A and B it is complete
    assert set(headline.index) == {"strong", "weak", "partial"}
    assert (headline["status"] == "complete").all()
    assert sorted(p.name for p in (out / "curves").glob("*.png")) == [
        "StatsProbeA-v0.png",
        "StatsProbeB-v0.png",
    ]


def test_every_plot_not_drawn_gets_a_sentence(cli: Any, tmp_path: Path) -> None:
    url, _ = build_fixture_db(tmp_path / "fixture.db")
    out = tmp_path / "r"
    result = cli(*report_args(url, out, 50, "--agents", "partial", suite=SUITE))
    assert result.status == 0, result.err
    for name in ("intervals", "profiles", "improvement", "sample_efficiency"):
        assert not (out / f"{name}.png").exists()
    assert "intervals.png, profiles.png and sample_efficiency.png were not drawn: no agent" in (
        result.out
    )
    assert "improvement.png was not drawn: it compares two complete agents and 0 are" in (
        result.out
    )
    assert "were not drawn" in (out / "report.md").read_text()


def test_a_task_outside_the_suite_is_a_one_line_error(cli: Any, tmp_path: Path) -> None:
    url, _ = build_fixture_db(tmp_path / "fixture.db")
    result = cli(*report_args(url, tmp_path / "r", None, "--tasks", "StatsProbeA-v1", suite=SUITE))
    assert result.status == 2 and "StatsProbeA-v0" in result.err
    assert len(result.err.strip().splitlines()) == 1
