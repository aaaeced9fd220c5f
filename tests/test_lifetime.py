"""Nothing a sweep starts outlives it (reproductions 1, 2 and 8 of issue 11).

On the old main ``kill -9`` of a sweep left its workers training as orphans, SIGTERM to
``pomdpbench leaderboard`` left the Streamlit server holding the port, and ``--workers 2`` from a
folder holding a ``pomdpbench/`` directory failed every run with "unknown task".
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO, run_cli_subprocess


def alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie waiting to be reaped."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state != "Z"


def wait_gone(pids: list[int], timeout: float = 10.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = [pid for pid in pids if alive(pid)]
        if not left:
            return []
        time.sleep(0.05)
    return [pid for pid in pids if alive(pid)]


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (FileNotFoundError, ProcessLookupError, IndexError):
                continue
            if ppid == pid:
                found.append(int(entry.name))
    return found


# The module is loaded from its file, not through the pomdpbench package: these children need
# nothing else, and importing the package (every task) would cost seconds per process.
LOAD = (
    "import importlib.util as u, sys\n"
    f"spec = u.spec_from_file_location('lifetime', {str(REPO / 'pomdpbench/sweep/lifetime.py')!r})\n"
    "lifetime = u.module_from_spec(spec); spec.loader.exec_module(lifetime)\n"
)
PARENT = (
    LOAD
    + """
import time
popen_tied_to_parent = lifetime.popen_tied_to_parent
child = popen_tied_to_parent(["sleep", "60"])
print(child.pid, flush=True)
time.sleep(60)
"""
)

WATCHED = (
    LOAD
    + """
import time
die_with_parent = lifetime.die_with_parent
die_with_parent(int(sys.argv[1]))
print("armed", flush=True)
time.sleep(60)
"""
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_server_started_by_the_command_dies_with_it_even_by_kill_9() -> None:
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    assert alive(child)
    parent.kill()
    parent.wait()
    assert wait_gone([child]) == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_worker_dies_with_its_parent() -> None:
    # a middle process starts the worker, then is killed; the worker must not survive it
    middle = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import os, subprocess, sys, time\n"
            f"w = subprocess.Popen([sys.executable, '-c', {WATCHED!r}, str(os.getpid())],"
            " stdout=subprocess.PIPE, text=True)\n"
            "assert w.stdout.readline().strip() == 'armed'\n"
            "print(w.pid, flush=True)\ntime.sleep(60)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert middle.stdout is not None
    worker = int(middle.stdout.readline())
    assert alive(worker)
    middle.kill()
    middle.wait()
    assert wait_gone([worker]) == []


def test_a_worker_whose_parent_already_died_exits_at_once() -> None:
    code = LOAD + (
        "lifetime.die_with_parent(1)\n"  # pid 1 is not our parent: as if the parent died before
        "print('still here')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 1 and "still here" not in out.stdout


def test_spawned_workers_find_the_parents_pomdpbench_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib
    import multiprocessing

    from pomdpbench.sweep.lifetime import package_first_on_path

    shadow = tmp_path / "pomdpbench"
    shadow.mkdir()
    (shadow / "__init__.py").write_text("raise SystemExit(3)  # the clone in the working folder\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [str(tmp_path), *sys.path])  # as the old `run` put it
    context = multiprocessing.get_context("spawn")
    with package_first_on_path():
        worker = context.Process(target=importlib.import_module, args=("pomdpbench",))
        worker.start()
    worker.join(120)
    assert worker.exitcode == 0  # 3: the worker imported the folder's pomdpbench


@pytest.mark.slow
def test_workers_import_the_parents_pomdpbench_not_a_folder_in_the_cwd(tmp_path: Path) -> None:
    shadow = tmp_path / "pomdpbench"
    shadow.mkdir()
    (shadow / "__init__.py").write_text("raise ImportError('the clone in the working folder')\n")
    script = Path(sys.executable).with_name("pomdpbench")  # the installed command, as users run it
    out = subprocess.run(
        [
            str(script),
            "run",
            "--agent",
            "random",
            "--task",
            "CartPole-V-v0",
            "--steps",
            "20",
            "--seeds",
            "0",
            "1",
            "--workers",
            "2",
            "--db",
            f"sqlite:///{tmp_path / 'r.db'}",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    )
    assert out.returncode == 0, out.stderr
    assert "2 finished" in out.stderr


# ------------------------------------------------------------------ slow: real sweeps and servers
def start_sweep(args: list[str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "pomdpbench", *args],
        cwd=cwd,
        text=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def wait_for_workers(parent: int, count: int, timeout: float = 120.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        workers = [
            p
            for p in children_of(parent)
            if b"spawn_main" in Path(f"/proc/{p}/cmdline").read_bytes()
        ]
        if len(workers) >= count:
            return workers
        time.sleep(0.1)
    raise AssertionError("the workers did not start")


def descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        for child in children_of(todo.pop()):
            found.append(child)
            todo.append(child)
    return found


@pytest.mark.slow
def test_kill_9_of_a_sweep_leaves_no_orphan_and_the_rerun_completes(workdir: Path) -> None:
    args = [
        "run",
        "--agent",
        "random",
        "--task",
        "Pendulum-V-v0",
        "CartPole-V-v0",
        "--steps",
        "300000",
        "--eval-every",
        "30000",
        "--eval-episodes",
        "1",
        "--workers",
        "2",
        "--checkpoint-every",
        "0",
    ]
    sweep = start_sweep(args, workdir)
    wait_for_workers(sweep.pid, 2)
    time.sleep(3)
    everything = descendants(sweep.pid)
    os.kill(sweep.pid, signal.SIGKILL)
    sweep.wait()
    assert wait_gone(everything) == [], "a process of the killed sweep survived it"
    rerun = run_cli_subprocess(*args, cwd=workdir, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    runs = json.loads(run_cli_subprocess("results", "--json", cwd=workdir).stdout)
    assert [r["status"] for r in runs] == ["finished", "finished"]


@pytest.mark.slow
def test_sigterm_to_the_leaderboard_command_stops_its_server(workdir: Path) -> None:
    assert (
        run_cli_subprocess(
            "run", "--agent", "random", "--task", "CartPole-V-v0", "--steps", "20", cwd=workdir
        ).returncode
        == 0
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "pomdpbench", "leaderboard", "--port", str(port)]
    board = subprocess.Popen(
        command,
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    deadline = time.monotonic() + 120
    while not children_of(board.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    server = descendants(board.pid)
    assert server, "streamlit did not start"
    board.send_signal(signal.SIGTERM)
    board.wait(60)
    assert wait_gone(server, 30) == []
    # and by kill -9: the kernel ends the server
    board = subprocess.Popen(
        command, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 120
    while not children_of(board.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    server = descendants(board.pid)
    board.kill()
    board.wait()
    assert wait_gone(server, 30) == []
