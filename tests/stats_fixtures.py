"""Tasks and results databases for the statistics, report and leaderboard tests.

The tests register their own tasks with known reference scores (suite ``statsprobe``), so they
never depend on the reference figures of the shipped suites. Importing this module registers
them once per process.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sqlalchemy import Engine

from pomdpbench.registry import (
    ReferenceScore,
    SuiteSpec,
    TaskSpec,
    TierProtocol,
    list_suites,
    register_suite,
    register_task,
)
from pomdpbench.store.database import open_engine
from pomdpbench.store.synthetic import SyntheticRun, insert_runs

SUITE = "statsprobe"
# task id -> (random, target, metric)
REFERENCES = {
    "StatsProbeA-v0": (0.0, 100.0, "return"),
    "StatsProbeB-v0": (-10.0, 10.0, "return"),
    "StatsProbeC-v0": (0.0, 1.0, "success"),
}
NO_REFERENCE_TASK = "StatsProbeNoRef-v0"
NO_REFERENCE_SUITE = "statsnoref"
TASKS = tuple(REFERENCES)
BUDGET = 1000


def _spec(task_id: str, suite: str, refs: tuple[float, float, str] | None) -> TaskSpec:
    tier = TierProtocol(budget=BUDGET, eval_every=100, eval_episodes=2)
    references = {}
    if refs is not None:
        references = {
            "random": ReferenceScore(refs[0], "test fixture"),
            "target": ReferenceScore(refs[1], "test fixture"),
        }
    return TaskSpec(
        id=task_id,
        suite=suite,
        entry_point="pomdpbench.envs.tmaze:PassiveTMaze",
        max_episode_steps=11,
        metric=refs[2] if refs else "return",
        observation_size=2,
        action_space="Discrete(4)",
        tiers={t: tier for t in ("full", "short", "smoke")},
        simulator="numpy (test)",
        simulator_package="pomdpbench",
        kwargs={"corridor_length": 10},
        references=references,
    )


def register_fixture_tasks() -> None:
    """Register the fixture suites (idempotent within a process)."""
    if SUITE in {s.id for s in list_suites()}:
        return
    for task_id, refs in REFERENCES.items():
        register_task(_spec(task_id, SUITE, refs))
    register_suite(SuiteSpec(SUITE, "test fixture", "return", TASKS, {}))
    register_task(_spec(NO_REFERENCE_TASK, NO_REFERENCE_SUITE, None))
    register_suite(
        SuiteSpec(NO_REFERENCE_SUITE, "test fixture", "return", (NO_REFERENCE_TASK,), {})
    )


register_fixture_tasks()


def raw_score(task_id: str, normalized: float) -> float:
    """The raw score whose normalized value is ``normalized``."""
    low, high, _ = REFERENCES[task_id]
    return low + (high - low) * normalized


def curve(task_id: str, final_normalized: float) -> list[tuple[int, float]]:
    """A straight learning curve from the random score to the final one."""
    return [
        (step, raw_score(task_id, final_normalized * step / BUDGET))
        for step in range(0, BUDGET + 1, 100)
    ]


# agent -> normalized final score of seed s on every task: base + 0.01 * s
AGENTS = {"strong": 0.8, "weak": 0.3}


def fixture_runs() -> list[SyntheticRun]:
    """``strong`` (3 seeds) and ``weak`` (5 seeds) on every task in tier smoke, ``partial``
    lacking task C, a running and a failed run, and a short-tier run of ``strong``."""
    runs = []
    for agent, base in AGENTS.items():
        for task_id in TASKS:
            for seed in range(3 if agent == "strong" else 5):
                value = base + 0.01 * seed
                runs.append(
                    SyntheticRun(
                        agent,
                        task_id,
                        SUITE,
                        seed,
                        raw_score(task_id, value),
                        metric=REFERENCES[task_id][2],
                        budget=BUDGET,
                        curve=curve(task_id, value),
                    )
                )
    for task_id in TASKS[:2]:
        runs.append(
            SyntheticRun(
                "partial",
                task_id,
                SUITE,
                0,
                raw_score(task_id, 0.5),
                budget=BUDGET,
                curve=curve(task_id, 0.5),
            )
        )
    runs.append(SyntheticRun("strong", TASKS[0], SUITE, 7, None, status="running"))
    runs.append(SyntheticRun("weak", TASKS[0], SUITE, 8, None, status="failed"))
    runs.append(
        SyntheticRun(
            "strong",
            TASKS[0],
            SUITE,
            0,
            raw_score(TASKS[0], 0.9),
            tier="short",
            curve=curve(TASKS[0], 0.9),
        )
    )
    return runs


def build_fixture_db(path: Path) -> tuple[str, Engine]:
    """A SQLite database with :func:`fixture_runs`; returns its URL and engine."""
    url = f"sqlite:///{path}"
    engine = open_engine(url)
    insert_runs(engine, fixture_runs())
    return url, engine


def expected_matrix(agent: str) -> np.ndarray:
    """The normalized (runs x tasks) matrix the fixture implies for a complete agent."""
    seeds = 3 if agent == "strong" else 5
    column = np.array([AGENTS[agent] + 0.01 * s for s in range(seeds)])
    return np.repeat(column[:, None], len(TASKS), axis=1)
