"""How fast the leaderboard answers on a large results database.

Builds a SQLite file under /tmp with 10,000 finished runs and 1,000,000 evaluation points
(5 suites x 20 tasks x 10 agents x 10 seeds, 100 evaluations per run; bulk inserts), then
times the headline table of one suite through the app's own cached functions
(leaderboard/data.py): cold (new engine, empty caches: query + normalization + bootstrap of
every agent at the page's 2,000 replications) and warm (the cached answer, what every later
page view costs). Also times the suite's evaluation query (the curves' input) and shows the
split of the cold time. Goal: cold under 2 s.

    python benchmarks/leaderboard_queries.py [--keep]

The last line is ``cold_s = X``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from pomdpbench.registry import (
    ReferenceScore,
    SuiteSpec,
    TaskSpec,
    TierProtocol,
    register_suite,
    register_task,
)
from pomdpbench.store.database import open_engine
from pomdpbench.store.synthetic import SyntheticRun, insert_runs

SUITES, TASKS, AGENTS, SEEDS, POINTS = 5, 20, 10, 10, 100
BUDGET = 100_000


def register_bench_suites() -> None:
    """Synthetic suites whose tasks have references random 0 and target 100."""
    tier = TierProtocol(budget=BUDGET, eval_every=BUDGET // POINTS, eval_episodes=10)
    refs = {"random": ReferenceScore(0.0, "benchmark"), "target": ReferenceScore(100.0, "bench")}
    for s in range(SUITES):
        ids = []
        for t in range(TASKS):
            spec = TaskSpec(
                id=f"BenchTask{s}x{t}-v0",
                suite=f"bench{s}",
                entry_point="pomdpbench.envs.tmaze:PassiveTMaze",
                max_episode_steps=11,
                metric="return",
                observation_size=2,
                action_space="Discrete(4)",
                tiers={name: tier for name in ("full", "short", "smoke")},
                simulator="none",
                simulator_package="pomdpbench",
                references=refs,
            )
            ids.append(register_task(spec).id)
        register_suite(SuiteSpec(f"bench{s}", "benchmark", "return", tuple(ids), {}))


def synthetic_runs() -> Iterator[SyntheticRun]:
    """10,000 finished runs, each with a 100-point learning curve."""
    rng = np.random.default_rng(0)
    steps = np.linspace(BUDGET // POINTS, BUDGET, POINTS, dtype=np.int64)
    for s in range(SUITES):
        for a in range(AGENTS):
            skill = 10.0 + 8.0 * a
            for t in range(TASKS):
                for seed in range(SEEDS):
                    final = skill + rng.normal(0.0, 10.0)
                    values = final * steps / BUDGET + rng.normal(0.0, 2.0, POINTS)
                    yield SyntheticRun(
                        f"agent{a}",
                        f"BenchTask{s}x{t}-v0",
                        f"bench{s}",
                        seed,
                        float(final),
                        tier="full",
                        budget=BUDGET,
                        curve=list(zip(steps.tolist(), values.tolist(), strict=True)),
                    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the database file")
    args = parser.parse_args()
    register_bench_suites()
    path = Path(tempfile.mkdtemp(prefix="pomdpbench-bench-", dir="/tmp")) / "large.db"
    url = f"sqlite:///{path}"
    started = time.perf_counter()
    insert_runs(open_engine(url), synthetic_runs())
    runs = SUITES * TASKS * AGENTS * SEEDS
    size_mib = path.stat().st_size / 2**20
    elapsed = time.perf_counter() - started
    print(
        f"built {path}: {runs:,} runs, {runs * POINTS:,} evaluations in {elapsed:.1f} s "
        f"({size_mib:.0f} MiB)"
    )

    os.environ["POMDPBENCH_DB"] = url
    from pomdpbench._leaderboard import data

    from pomdpbench.stats.board import build_board
    from pomdpbench.store import queries as query

    suite, tier = "bench2", "full"
    started, cpu_started = time.perf_counter(), time.process_time()
    board = data.board(url, suite, tier, tuple(f"agent{a}" for a in range(AGENTS)), None)
    cold = time.perf_counter() - started
    cold_cpu = time.process_time() - cpu_started
    started = time.perf_counter()
    again = data.board(url, suite, tier, tuple(f"agent{a}" for a in range(AGENTS)), None)
    warm = time.perf_counter() - started
    assert again.headline.equals(board.headline)

    engine = data.engine_for(url)[0]
    started = time.perf_counter()
    runs = query.suite_runs(engine, suite, tier)
    query_s = time.perf_counter() - started
    started = time.perf_counter()
    build_board(runs, suite, tier)
    stats_s = time.perf_counter() - started
    started = time.perf_counter()
    points = query.suite_evaluations(engine, suite, tier)
    curves_s = time.perf_counter() - started

    print(board.headline[["agent", "IQM", "IQM low", "IQM high", "runs"]].to_string(index=False))
    print(f"runs query of one suite ({len(runs):,} runs): {query_s:.3f} s")
    print(f"normalization + bootstrap of {AGENTS} agents: {stats_s:.3f} s")
    print(f"evaluation query of one suite ({len(points):,} points): {curves_s:.3f} s")
    print(f"headline warm: {warm:.4f} s; cold / warm = {cold / max(warm, 1e-9):,.0f}")
    load = os.getloadavg()[0]
    print(
        f"headline cold CPU time: {cold_cpu:.3f} s (load average {load:.1f} on "
        f"{os.cpu_count()} cores: wall time grows when others share the machine)"
    )
    if not args.keep:
        path.unlink()
        for suffix in ("-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        path.parent.rmdir()
    print(f"cold_s = {cold:.3f}")


if __name__ == "__main__":
    main()
