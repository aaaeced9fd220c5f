"""The Ray backend: same runs as the local backend, a killed Ray worker loses and duplicates
nothing, a private Ray instance dies with its sweep, and a missing Ray is one line.

The slow tests run real Ray: a private instance started by ``pomdpbench run``, or a cluster of
a head and two one-CPU worker nodes that the tests start with ``ray start`` and stop in a
``finally`` (:mod:`ray_cluster`).
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ctrl_c_not_ignored
from ray_cluster import RayCluster, alive, descendants, free_port, ray_cluster

from pomdpbench.sweep.ray_backend import Origin


def pendulum_jobs(agent: str, seeds: str, steps: int, *extra: str) -> tuple[str, ...]:
    """``run --agent AGENT --task Pendulum-V-v0 --seeds SEEDS... --steps STEPS EXTRA...``."""
    return (
        "run",
        "--agent",
        agent,
        "--task",
        "Pendulum-V-v0",
        "--seeds",
        *seeds.split(),
        "--steps",
        str(steps),
        *extra,
    )


def checkpointed(every: int) -> tuple[str, ...]:
    """An evaluation (and the checkpoint it takes) every ``every`` steps, one episode each."""
    return ("--eval-every", str(every), "--eval-episodes", "1", "--checkpoint-every", "0")


RANDOM_JOBS = pendulum_jobs("random", "0 1", 20000, "--eval-episodes", "2")
SAC_JOBS = pendulum_jobs("sac-mlp", "0", 1500, "--eval-every", "500", "--eval-episodes", "1")
PRIVATE_RAY = ("--backend", "ray", "--workers", "1")  # pomdpbench starts its own Ray instance


# ------------------------------------------------------------------------------- fast: input
def test_backend_ray_without_ray_is_one_line_naming_the_install(
    cli: Any, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    result = cli(
        "run", "--agent", "random", "--task", "CartPole-V-v0", "--steps", "100", "--backend", "ray"
    )
    assert result.status == 2
    assert result.err.strip().splitlines() == [
        "error: --backend ray needs Ray, which is not installed: pip install 'pomdpbench[ray]'"
    ]
    assert not (workdir / "pomdpbench.db").exists()  # nothing ran, nothing written


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--address", "auto"), "--address is a Ray setting: add --backend ray"),
        (("--cpus-per-run", "2"), "--cpus-per-run is a Ray setting: add --backend ray"),
        (("--backend", "ray", "--cpus-per-run", "1.5"), "above 1 must be a whole number"),
        (("--backend", "ray", "--gpus-per-run", "-1"), "must be a non-negative number"),
        (("--backend", "ray", "--device", "cuda"), "needs --gpus-per-run"),
        (("--backend", "ray", "--address", "auto", "--workers", "2"), "leave out --workers"),
        (("--backend", "ray", "--address", "head-node"), "is not host:port"),
        (("--backend", "ray", "--address", f"127.0.0.2:{free_port()}"), "nothing answers at"),
    ],
)
def test_ray_settings_are_checked_before_anything_runs(
    cli: Any, workdir: Path, args: tuple[str, ...], message: str
) -> None:
    pytest.importorskip("ray")
    result = cli("run", "--agent", "random", "--task", "CartPole-V-v0", "--steps", "100", *args)
    assert result.status == 2, result.err
    assert message in result.err and len(result.err.strip().splitlines()) == 1
    assert not (workdir / "pomdpbench.db").exists()


def test_a_node_that_cannot_see_the_checkpoint_folder_refuses_the_run(tmp_path: Path) -> None:
    import pomdpbench

    package = os.path.realpath(pomdpbench.__file__)
    origin = Origin(pomdpbench.__version__, package, "driver-host", ".pomdpbench-sweep-x")
    run_dir = tmp_path / "checkpoints" / "run"
    refusal = origin.refusal(run_dir)
    assert refusal is not None and "not reachable from node" in refusal
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / ".pomdpbench-sweep-x").write_text("")
    assert origin.refusal(run_dir) is None
    other = Origin("0.0.0-other", package, "driver-host", ".pomdpbench-sweep-x")
    assert "install the same version on every node" in (other.refusal(run_dir) or "")


# ------------------------------------------------------------------------------ slow: real Ray
def sweep(
    args: tuple[str, ...], cwd: Path, env: dict[str, str] | None = None, timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    full = {**(env or os.environ)}
    full.pop("POMDPBENCH_DB", None)
    return subprocess.run(
        [sys.executable, "-m", "pomdpbench", *args],
        cwd=cwd,
        env=full,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def start_driver(
    args: tuple[str, ...], cwd: Path, env: dict[str, str], **streams: Any
) -> subprocess.Popen[str]:
    """A ``pomdpbench`` sweep in the background (to be killed or interrupted mid-run)."""
    with ctrl_c_not_ignored():
        return subprocess.Popen(
            [sys.executable, "-m", "pomdpbench", *args], cwd=cwd, env=env, text=True, **streams
        )


def private_env() -> dict[str, str]:
    """This environment without a results database or a Ray address to inherit."""
    return {k: v for k, v in os.environ.items() if k not in ("POMDPBENCH_DB", "RAY_ADDRESS")}


def stored(db: Path) -> dict[tuple[str, str, int], dict[str, Any]]:
    """Every run of a results database with its status and evaluation curve."""
    with sqlite3.connect(db) as connection:
        runs = connection.execute(
            "SELECT id, run_key, agent, task, seed, status, final_score FROM runs"
        ).fetchall()
        out = {}
        for run_id, key, agent, task, seed, status, final in runs:
            curve = connection.execute(
                "SELECT env_step, mean_return, returns FROM evaluations WHERE run_id = ? "
                "ORDER BY env_step",
                (run_id,),
            ).fetchall()
            out[(agent, task, seed)] = {
                "key": key,
                "status": status,
                "final": final,
                "curve": curve,
            }
    return out


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RayCluster]:
    with ray_cluster(tmp_path_factory.mktemp("ray-logs")) as running:
        yield running
    assert not running.leftover, f"processes of the test cluster outlived it: {running.leftover}"


@pytest.mark.slow
def test_a_sweep_on_a_ray_cluster_matches_the_local_backend(
    cluster: RayCluster, tmp_path: Path
) -> None:
    for where in ("local", "ray"):
        (tmp_path / where).mkdir()
        extra = ("--backend", "ray", "--address", cluster.address) if where == "ray" else ()
        for jobs in (RANDOM_JOBS, SAC_JOBS):
            out = sweep((*jobs, *extra), tmp_path / where, cluster.env)
            assert out.returncode == 0, out.stderr
    local, ray = stored(tmp_path / "local/pomdpbench.db"), stored(tmp_path / "ray/pomdpbench.db")
    assert len(local) == 3 and all(r["status"] == "finished" for r in local.values())
    assert ray == local  # same runs (keys), same scores, every evaluation identical


@pytest.mark.slow
def test_killing_the_ray_worker_of_a_run_loses_and_duplicates_nothing(
    cluster: RayCluster, tmp_path: Path
) -> None:
    steps, every = 100_000, 10_000
    on_cluster = ("--backend", "ray", "--address", cluster.address)
    args = pendulum_jobs("random", "0 1", steps, *checkpointed(every), *on_cluster)
    env = {k: v for k, v in cluster.env.items() if k != "POMDPBENCH_DB"}
    driver = start_driver(args, tmp_path, env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        db, key, deadline = tmp_path / "pomdpbench.db", None, time.monotonic() + 300
        while key is None and time.monotonic() < deadline:
            time.sleep(0.5)
            if db.exists():
                with sqlite3.connect(db, timeout=5) as connection:
                    row = connection.execute(
                        "SELECT run_key FROM runs WHERE checkpoint_step >= ? AND status = 'running'",
                        (every,),
                    ).fetchone()
                key = row[0] if row else None
        assert key is not None, "no run reached its first checkpoint"
        (worker,) = cluster.task_workers(f"pomdpbench-run:{key}")
        os.kill(worker, signal.SIGKILL)
        _, err = driver.communicate(timeout=900)
    finally:
        if driver.poll() is None:
            driver.kill()
    assert driver.returncode == 0, err
    assert "retry  random Pendulum-V-v0" in err and "re-runs it from its checkpoint at step" in err
    with sqlite3.connect(tmp_path / "pomdpbench.db") as connection:
        runs = connection.execute("SELECT id, status, env_steps FROM runs").fetchall()
        assert [(s, n) for _, s, n in runs] == [("finished", steps)] * 2
        for run_id, _, _ in runs:
            evaluations = connection.execute(
                "SELECT env_step FROM evaluations WHERE run_id = ? ORDER BY env_step", (run_id,)
            ).fetchall()
            assert [s for (s,) in evaluations] == list(range(0, steps + 1, every))  # once each


@pytest.mark.slow
def test_a_private_ray_instance_ends_with_its_sweep_even_on_kill_9(tmp_path: Path) -> None:
    args = pendulum_jobs("random", "0", 4000, "--eval-every", "1000", "--eval-episodes", "1")
    for kill in (False, True):
        cwd = tmp_path / f"kill-{kill}"
        cwd.mkdir()
        driver = start_driver(
            (*args, *PRIVATE_RAY),
            cwd,
            private_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        seen: set[int] = set()
        try:
            deadline = time.monotonic() + 300
            while driver.poll() is None and time.monotonic() < deadline:
                seen |= descendants(driver.pid)
                if kill and any(
                    "raylet" in Path(f"/proc/{p}/comm").read_text(errors="ignore")
                    for p in alive(seen)
                ):
                    time.sleep(3)
                    seen |= descendants(driver.pid)
                    os.kill(driver.pid, signal.SIGKILL)
                    break
                time.sleep(0.2)
            driver.wait(300)
        finally:
            if driver.poll() is None:
                driver.kill()
        if not kill:
            assert driver.returncode == 0, driver.stderr.read() if driver.stderr else ""
        assert len(seen) >= 3  # the instance's own processes: gcs, raylet, a worker ...
        deadline = time.monotonic() + 60
        while alive(seen) and time.monotonic() < deadline:
            time.sleep(0.5)
        left = alive(seen)
        for pid in left:  # started by this test's sweep: do not leave them to others
            os.kill(pid, signal.SIGKILL)
        assert not left, f"processes of the Ray instance outlived the sweep (kill -9: {kill})"
    results = sweep(("results", "--json"), tmp_path / "kill-False")
    assert [r["status"] for r in json.loads(results.stdout)] == ["finished"]


@pytest.mark.slow
def test_ctrl_c_on_ray_checkpoints_and_the_same_command_resumes(tmp_path: Path) -> None:
    steps, every = 200_000, 20_000
    args = pendulum_jobs("random", "0", steps, *checkpointed(every), *PRIVATE_RAY)
    env = private_env()
    driver = start_driver(
        args,
        tmp_path,
        env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        db, deadline = tmp_path / "pomdpbench.db", time.monotonic() + 300
        while time.monotonic() < deadline:
            time.sleep(0.5)
            if db.exists():
                with sqlite3.connect(db, timeout=5) as connection:
                    row = connection.execute("SELECT checkpoint_step FROM runs").fetchone()
                if row and row[0]:
                    break
        os.killpg(driver.pid, signal.SIGINT)  # what Ctrl-C does to the foreground group
        _, err = driver.communicate(timeout=180)
    finally:
        if driver.poll() is None:
            driver.kill()
    assert driver.returncode == 130, err
    assert "run the same command again to resume" in err and "Traceback" not in err
    (run,) = json.loads(sweep(("results", "--json"), tmp_path).stdout)
    assert run["status"] == "interrupted" and 0 < run["env_steps"] < steps
    resumed = sweep(args, tmp_path, env)
    assert resumed.returncode == 0 and "resuming at step" in resumed.stderr, resumed.stderr
    (run,) = json.loads(sweep(("results", "--json"), tmp_path).stdout)
    assert run["status"] == "finished"
    with sqlite3.connect(db) as connection:
        evaluations = [s for (s,) in connection.execute("SELECT env_step FROM evaluations")]
    assert sorted(evaluations) == list(range(0, steps + 1, every))
