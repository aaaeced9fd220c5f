"""Chaos: a two-worker sweep killed with ``kill -9`` at ten random moments, rerun each time.

What docs/protocol.md promises, and this test checks after the tenth rerun:

* every run is ``finished`` with exactly its schedule's evaluations, each stored once;
* between kills no process of the killed sweep is alive (workers die with their parent);
* the stored evaluations, final scores and areas equal an uninterrupted sweep's. The ``random``
  agent's behaviour does not depend on the training environment's stream, so even a run resumed
  from a checkpoint reproduces the uninterrupted run exactly (for a learning agent only a run
  that restarted from step 0 does, see docs/protocol.md).

The first kill lands while the sweep starts, the others at random moments of training (0.3 to
6 s after the workers appear). The first five kills hit the parent only (the kernel ends the
workers); the last five the parent and its workers together. About five minutes on a loaded
two-core machine.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import run_cli_subprocess
from test_lifetime import children_of, descendants, wait_gone

ARGS = [
    "run",
    "--agent",
    "random",
    "--task",
    "Pendulum-V-v0",
    "CartPole-V-v0",
    "--seeds",
    "0",
    "1",
    "--steps",
    "40000",
    "--eval-every",
    "4000",
    "--eval-episodes",
    "1",
    "--workers",
    "2",
    "--checkpoint-every",
    "0",
]
SCHEDULE = list(range(0, 40001, 4000))
KILLS = 10


def workers_of(pid: int) -> list[int]:
    """The sweep's job processes (not multiprocessing's resource tracker)."""
    found = []
    for child in children_of(pid):
        with contextlib.suppress(OSError):
            if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                found.append(child)
    return found


def stored(db: Path) -> dict[tuple[str, int], dict[str, object]]:
    with sqlite3.connect(db) as connection:
        runs = connection.execute(
            "SELECT id, task, seed, status, final_score, auc FROM runs"
        ).fetchall()
        found = {}
        for run_id, task, seed, status, final, auc in runs:
            rows = connection.execute(
                "SELECT env_step, mean_return FROM evaluations WHERE run_id = ? ORDER BY env_step",
                (run_id,),
            ).fetchall()
            found[(task, seed)] = {"status": status, "final": final, "auc": auc, "curve": rows}
    connection.close()
    return found


@pytest.mark.slow
def test_kill_9_at_random_moments_then_rerun_gives_the_uninterrupted_results(
    tmp_path: Path,
) -> None:
    reference_dir = tmp_path / "reference"
    reference_dir.mkdir()
    done = run_cli_subprocess(*ARGS, cwd=reference_dir, timeout=600)
    assert done.returncode == 0, done.stderr
    reference = stored(reference_dir / "pomdpbench.db")
    assert len(reference) == 4

    chaos = tmp_path / "chaos"
    chaos.mkdir()
    # seconds after the workers appear (the first kill lands while the sweep is still starting)
    moments = [-1.0, *(round(random.Random(11 + k).uniform(0.3, 6.0), 1) for k in range(KILLS - 1))]
    env = {k: v for k, v in os.environ.items() if k != "POMDPBENCH_DB"}
    mid_sweep = 0  # kills that found evaluations stored and runs unfinished
    for kill, moment in enumerate(moments):
        sweep = subprocess.Popen(
            [sys.executable, "-m", "pomdpbench", *ARGS],
            cwd=chaos,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        if moment < 0:
            time.sleep(1.0)
        else:
            deadline = time.monotonic() + 120
            while sweep.poll() is None and time.monotonic() < deadline:
                if workers_of(sweep.pid):
                    break
                time.sleep(0.1)
            time.sleep(moment)
        family = descendants(sweep.pid)
        os.kill(sweep.pid, signal.SIGKILL)
        if kill >= KILLS // 2:
            for pid in family:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        sweep.wait()
        assert wait_gone(family) == [], f"kill {kill} at {moment} s left processes alive"
        if (chaos / "pomdpbench.db").exists():
            now = stored(chaos / "pomdpbench.db")
            evaluations = sum(len(run["curve"]) for run in now.values())  # type: ignore[arg-type]
            unfinished = any(run["status"] != "finished" for run in now.values()) or len(now) < 4
            mid_sweep += bool(evaluations and unfinished)

    assert mid_sweep >= 3, "the kills did not hit the sweep while it was training"
    final = run_cli_subprocess(*ARGS, cwd=chaos, timeout=600)
    assert final.returncode == 0, final.stderr
    found = stored(chaos / "pomdpbench.db")
    assert set(found) == set(reference)
    for key, run in found.items():
        assert run["status"] == "finished", (key, run)
        assert [step for step, _ in run["curve"]] == SCHEDULE, key  # type: ignore[attr-defined]
        assert run == reference[key], key
