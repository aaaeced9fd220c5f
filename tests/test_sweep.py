"""Sweeps across processes: workers, a killed run resuming, Ctrl-C, a killed worker."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import ctrl_c_not_ignored, run_cli_subprocess

# The random agent on Pendulum runs ~30k steps/s: a 200k-step run lasts long enough to be
# killed after its first checkpoint and still finishes within seconds when resumed.
STEPS = 400_000  # long enough that an interrupt lands mid-run on a busy machine
LONG_RUN = (
    "run",
    "--agent",
    "random",
    "--task",
    "Pendulum-V-v0",
    "--steps",
    str(STEPS),
    "--eval-every",
    "40000",
    "--eval-episodes",
    "1",
    "--checkpoint-every",
    "0",
)


def start(args: tuple[str, ...], cwd: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "POMDPBENCH_DB"}
    with ctrl_c_not_ignored():
        return subprocess.Popen(
            [sys.executable, "-m", "pomdpbench", *args],
            cwd=cwd,
            env=env,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )


def wait_for(db: Path, query: str, timeout: float = 120.0) -> Any:
    """Poll the results database until ``query`` returns a non-null first value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if db.exists():
            try:
                with sqlite3.connect(db, timeout=1) as connection:
                    row = connection.execute(query).fetchone()
                if row and row[0] is not None:
                    return row[0]
            except sqlite3.OperationalError:
                pass
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {query}")


def results(cwd: Path) -> list[dict[str, Any]]:
    out = run_cli_subprocess("results", "--json", cwd=cwd)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def eval_steps(db: Path) -> list[int]:
    with sqlite3.connect(db) as connection:
        return [
            row[0]
            for row in connection.execute("SELECT env_step FROM evaluations ORDER BY env_step")
        ]


def test_killed_run_resumes_from_its_checkpoint(workdir: Path) -> None:
    db = workdir / "pomdpbench.db"
    process = start(LONG_RUN, workdir)
    checkpoint = wait_for(db, "SELECT checkpoint_step FROM runs")
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(30)
    (run,) = results(workdir)
    assert run["status"] == "running"  # nobody was left to say otherwise
    assert (workdir / "pomdpbench-checkpoints").is_dir()

    resumed = run_cli_subprocess(*LONG_RUN, cwd=workdir)
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming at step" in resumed.stderr
    (run,) = results(workdir)
    assert run["status"] == "finished" and run["env_steps"] == STEPS
    assert eval_steps(db) == list(range(0, STEPS + 1, 40_000))  # each once, none lost
    assert checkpoint >= 40_000
    assert not any((workdir / "pomdpbench-checkpoints").iterdir())  # cleaned up when finished


def test_ctrl_c_marks_interrupted_and_the_same_command_resumes(workdir: Path) -> None:
    db = workdir / "pomdpbench.db"
    process = start(LONG_RUN, workdir)
    wait_for(db, "SELECT checkpoint_step FROM runs")
    os.killpg(process.pid, signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "run the same command again to resume" in err and "Traceback" not in err
    (run,) = results(workdir)
    assert run["status"] == "interrupted" and 0 < run["env_steps"] < STEPS

    resumed = run_cli_subprocess(*LONG_RUN, cwd=workdir)
    assert resumed.returncode == 0, resumed.stderr
    (run,) = results(workdir)
    assert run["status"] == "finished"
    assert eval_steps(db) == list(range(0, STEPS + 1, 40_000))


def test_workers_run_jobs_in_parallel_processes(workdir: Path) -> None:
    out = run_cli_subprocess(
        "run",
        "--agent",
        "random",
        "--suite",
        "diagnostic",
        "--budget",
        "smoke",
        "--workers",
        "2",
        cwd=workdir,
    )
    assert out.returncode == 0, out.stderr
    runs = results(workdir)
    assert sorted(r["task"] for r in runs) == sorted(f"TMazePassive-{n}-v0" for n in (10, 30, 100))
    assert all(r["status"] == "finished" for r in runs)
    assert len({r["pid"] for r in runs}) == 1  # the parent wrote every row


@pytest.mark.slow
def test_killed_worker_is_marked_interrupted_and_resumes(workdir: Path) -> None:
    db = workdir / "pomdpbench.db"
    args = (*LONG_RUN[:4], "Pendulum-V-v0", "Pendulum-P-v0", *LONG_RUN[5:], "--workers", "2")
    process = start(args, workdir)
    wait_for(db, "SELECT checkpoint_step FROM runs WHERE task = 'Pendulum-V-v0'")
    children = subprocess.run(
        ["pgrep", "-P", str(process.pid)], capture_output=True, text=True, check=False
    ).stdout.split()
    # job processes, not multiprocessing's resource tracker
    workers = [int(p) for p in children if b"spawn_main" in Path(f"/proc/{p}/cmdline").read_bytes()]
    assert len(workers) == 2
    os.kill(workers[0], signal.SIGKILL)
    _, err = process.communicate(timeout=180)
    statuses = sorted(r["status"] for r in results(workdir))
    assert statuses == ["finished", "interrupted"], err
    assert process.returncode == 1 and "1 of 2 runs did not finish (1 interrupted)" in err
    resumed = run_cli_subprocess(*args, cwd=workdir)
    assert resumed.returncode == 0, resumed.stderr
    assert sorted(r["status"] for r in results(workdir)) == ["finished", "finished"]
