"""Normalization against hand-computed figures, and the rules that build score matrices."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from stats_fixtures import (
    NO_REFERENCE_SUITE,
    NO_REFERENCE_TASK,
    SUITE,
    TASKS,
    build_fixture_db,
    expected_matrix,
    raw_score,
)

from pomdpbench.stats.board import build_board
from pomdpbench.stats.normalize import normalize_one, normalize_scores, task_norm
from pomdpbench.stats.scores import build_suite_scores
from pomdpbench.store import queries as query
from pomdpbench.store.database import open_engine
from pomdpbench.store.synthetic import SyntheticRun, insert_runs


def test_normalized_scores_match_hand_computed_figures() -> None:
    # (score - random) / (target - random) with the fixture's references
    assert normalize_one("StatsProbeA-v0", 25.0) == pytest.approx(0.25)  # (25-0)/(100-0)
    assert normalize_one("StatsProbeB-v0", 5.0) == pytest.approx(0.75)  # (5+10)/(10+10)
    assert normalize_one("StatsProbeB-v0", -14.0) == pytest.approx(-0.2)  # below random
    assert normalize_one("StatsProbeA-v0", 130.0) == pytest.approx(1.3)  # above target
    series = normalize_scores(
        pd.Series([50.0, 0.0, 0.4, 7.0, 3.0]),
        pd.Series(
            ["StatsProbeA-v0", "StatsProbeB-v0", "StatsProbeC-v0", "Unknown-v0", NO_REFERENCE_TASK]
        ),
    )
    assert series.iloc[:3].tolist() == pytest.approx([0.5, 0.5, 0.4])
    assert math.isnan(series.iloc[3]) and math.isnan(series.iloc[4])


def test_tasks_that_cannot_be_normalized_say_why() -> None:
    unknown = task_norm("NotInstalled-v3")
    assert not unknown.ok and "not registered in this installation" in (unknown.problem or "")
    bare = task_norm(NO_REFERENCE_TASK)
    assert not bare.ok and "no random or target reference" in (bare.problem or "")
    assert normalize_one(NO_REFERENCE_TASK, 1.0) is None
    assert task_norm("StatsProbeA-v0").ok


@pytest.fixture
def fixture_runs(tmp_path: Path) -> pd.DataFrame:
    _, engine = build_fixture_db(tmp_path / "fixture.db")
    return query.suite_runs(engine, SUITE, "smoke")


def test_matrices_hold_the_normalized_final_scores(fixture_runs: pd.DataFrame) -> None:
    scores = build_suite_scores(fixture_runs, SUITE, "smoke")
    assert scores.tasks == TASKS
    for agent in ("strong", "weak"):
        matrix = scores.entries[agent].matrix
        assert matrix is not None
        np.testing.assert_allclose(matrix, expected_matrix(agent))
    # different agents may have different numbers of runs
    assert scores.entries["strong"].runs_used == 9 and scores.entries["weak"].runs_used == 15


def test_an_agent_lacking_a_task_is_incomplete_not_averaged(fixture_runs: pd.DataFrame) -> None:
    board = build_board(fixture_runs, SUITE, "smoke", reps=200)
    partial = board.scores.entries["partial"]
    assert not partial.complete and partial.missing == (TASKS[2],)
    row = board.headline.set_index("agent").loc["partial"]
    assert math.isnan(row["IQM"]) and math.isnan(row["mean"])
    assert row["tasks covered"] == "2/3" and row["status"].startswith("incomplete")
    assert "partial" not in board.intervals
    assert any("partial lacks StatsProbeC-v0" in m for m in board.messages)
    # when the user narrows the aggregate to the tasks it has, it is complete, and said so
    narrowed = build_board(fixture_runs, SUITE, "smoke", tasks=TASKS[:2], reps=200)
    assert narrowed.scores.entries["partial"].complete
    assert any("2 chosen task(s) of the suite's 3" in m for m in narrowed.messages)
    assert any(
        "Fewer than 3 runs per task" in m and "partial has 1" in m for m in narrowed.messages
    )


def test_unfinished_runs_are_named_and_left_out(fixture_runs: pd.DataFrame) -> None:
    board = build_board(fixture_runs, SUITE, "smoke", reps=200)
    assert any("1 running, 1 failed run(s) are not counted" in m for m in board.messages)
    assert set(board.scores.finished["status"]) == {"finished"}


def test_unequal_runs_per_task_keep_the_lowest_seeds(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'unequal.db'}")
    runs = [
        SyntheticRun("a", task, SUITE, seed, float(seed) * 10, metric="return")
        for task in TASKS[:2]
        for seed in range(4)
    ]
    runs += [SyntheticRun("a", TASKS[2], SUITE, seed, 0.1 * seed) for seed in (5, 2)]
    insert_runs(engine, runs)
    scores = build_suite_scores(query.suite_runs(engine, SUITE, "smoke"), SUITE, "smoke")
    entry = scores.entries["a"]
    assert entry.left_out == 4  # 4 + 4 + 2 runs, 2 per task used
    assert entry.matrix is not None
    # seeds 0 and 1 on A and B; seeds 2 and 5 on C
    np.testing.assert_allclose(entry.matrix[:, 0], [0.0, 0.1])  # A: (0, 10) / 100
    np.testing.assert_allclose(entry.matrix[:, 1], [0.5, 1.0])  # B: (0 + 10, 10 + 10) / 20
    np.testing.assert_allclose(entry.matrix[:, 2], [0.2, 0.5])


def test_versions_and_configs_never_pool(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'mixed.db'}")
    # per-task configs are normal (one agent, one entry) ...
    runs = [
        SyntheticRun("a", task, SUITE, s, raw_score(task, 0.5), config_hash=f"per-{task}")
        for task in TASKS
        for s in range(2)
    ]
    # ... a second config on one task (a --set override) is left out, not pooled
    runs.append(SyntheticRun("a", TASKS[0], SUITE, 0, raw_score(TASKS[0], 0.9), config_hash="x"))
    runs += [
        SyntheticRun("a", task, SUITE, 0, raw_score(task, 0.1), agent_version="2") for task in TASKS
    ]
    runs.append(SyntheticRun("a", "StatsProbeA-v1", SUITE, 0, 99.0))
    insert_runs(engine, runs)
    board = build_board(query.suite_runs(engine, SUITE, "smoke"), SUITE, "smoke", reps=50)
    entries = board.scores.entries
    assert set(entries) == {"a (v1)", "a (v2)"}
    assert entries["a (v1)"].other_configs == 1 and entries["a (v1)"].runs_used == 6
    np.testing.assert_allclose(entries["a (v1)"].matrix, 0.5)  # the 0.9 run is not in
    np.testing.assert_allclose(entries["a (v2)"].matrix, 0.1)
    assert any("a (v1) leaves out 1" in m and "not pooled" in m for m in board.messages)
    assert any("StatsProbeA-v1 are left out" in n for n in board.messages)


def test_suites_and_tasks_unknown_here_are_reported_in_words(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'foreign.db'}")
    insert_runs(engine, [SyntheticRun("a", "Foreign-v0", "foreign", s, 1.0) for s in range(2)])
    board = build_board(query.suite_runs(engine, "foreign", "smoke"), "foreign", "smoke", reps=50)
    assert board.scores.tasks == () and board.intervals == {}
    assert any("suite foreign is not registered in this installation" in m for m in board.messages)
    assert board.headline.loc[0, "status"] == "no normalizable task"
    insert_runs(engine, [SyntheticRun("b", NO_REFERENCE_TASK, NO_REFERENCE_SUITE, 0, 1.0)], 10)
    runs = query.suite_runs(engine, NO_REFERENCE_SUITE, "smoke")
    bare = build_board(runs, NO_REFERENCE_SUITE, "smoke", reps=50)
    assert any("no random or target reference score" in m for m in bare.messages)
