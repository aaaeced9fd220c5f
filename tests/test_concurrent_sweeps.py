"""Two sweeps of 8 local workers each writing one store at once: nothing lost, nothing twice.

Both sweeps start together on a database that does not exist yet (so they race to create it),
and their seeds overlap (so they race for the same runs' leases). Whatever the interleaving,
the store must end with every planned run finished exactly once, each with its full evaluation
schedule, the reported figures loaded once, no lease left behind, and neither sweep may have
met "database is locked". Run on a SQLite file and on the PostgreSQL server of
tests/pg_server.py. Slow: 32 spawned workers on a two-core machine take a minute or two.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from pomdpbench.sweep.plan import SweepRequest, plan

TASKS = ("CartPole-V-v0", "CartPole-P-v0")
STEPS, EVAL_EVERY = 3000, 300
SEEDS = {"a": tuple(range(0, 8)), "b": tuple(range(4, 12))}  # seeds 4-7 in both sweeps
WORKERS = 8


def sweep_command(url: str, seeds: tuple[int, ...], checkpoints: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "pomdpbench",
        "run",
        "--agent",
        "random",
        "--task",
        *TASKS,
        "--seeds",
        *map(str, seeds),
        "--steps",
        str(STEPS),
        "--eval-every",
        str(EVAL_EVERY),
        "--eval-episodes",
        "2",
        "--workers",
        str(WORKERS),
        "--db",
        url,
        "--checkpoint-dir",
        str(checkpoints),
    ]


def planned_keys() -> set[str]:
    keys = set()
    for seeds in SEEDS.values():
        request = SweepRequest(
            agent="random",
            tasks=TASKS,
            seeds=seeds,
            steps=STEPS,
            eval_every=EVAL_EVERY,
            eval_episodes=2,
        )
        keys |= {job.run_key for job in plan(request)}
    return keys


@pytest.mark.slow
def test_two_concurrent_sweeps_lose_and_duplicate_nothing(store_url: str, workdir: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POMDPBENCH_")}
    processes = [
        subprocess.Popen(
            sweep_command(store_url, seeds, workdir / "checkpoints"),
            cwd=workdir,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for seeds in SEEDS.values()
    ]
    try:
        outputs = [process.communicate(timeout=900)[0] for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    for process, output in zip(processes, outputs, strict=True):
        assert "locked" not in output and "Traceback" not in output, output[-3000:]
        # 1 only for runs the other sweep owned at that moment (it finished them)
        assert process.returncode in (0, 1), output[-3000:]
        if process.returncode == 1:  # the only kind of unfinished run: none failed
            assert re.search(
                r"runs did not finish \(\d+ owned by another running sweep\)", output
            ), output[-3000:]
    starts = [line for o in outputs for line in o.splitlines() if line.startswith("start")]
    keys = planned_keys()
    assert len(keys) == 24 and len(starts) == len(keys)  # every run trained by one sweep, once

    engine = create_engine(store_url)
    with engine.connect() as connection:
        runs = connection.execute(text("SELECT run_key, status FROM runs")).all()
        per_run = connection.execute(
            text(
                "SELECT r.run_key, count(e.id), min(e.env_step), max(e.env_step) FROM runs r "
                "JOIN evaluations e ON e.run_id = r.id GROUP BY r.run_key"
            )
        ).all()
        evaluations = connection.scalar(text("SELECT count(*) FROM evaluations"))
        reported = connection.scalar(text("SELECT count(*) FROM reported_results"))
        leases = connection.scalar(text("SELECT count(*) FROM run_leases"))
    engine.dispose()
    assert sorted(key for key, _ in runs) == sorted(keys)  # none lost, none twice
    assert {status for _, status in runs} == {"finished"}
    schedule = STEPS // EVAL_EVERY + 1
    assert {key: (n, lo, hi) for key, n, lo, hi in per_run} == {
        key: (schedule, 0, STEPS) for key in keys
    }
    assert evaluations == schedule * len(keys)
    assert reported == 202  # the figures loaded once although both sweeps created the store
    assert leases == 0
