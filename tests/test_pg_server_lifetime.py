"""The tests' PostgreSQL server dies with the process that started it, even on ``kill -9``.

The rule: nothing a test starts may outlive it. ``pg_ctl start`` daemonizes the server, so a
test process killed with ``SIGKILL`` (no ``atexit``, no fixture finalizer) would leave it
running with its data folder; ``tests/pg_watchdog.py`` stops it. Here a real Python process
starts a server through ``pg_server.start_server``, is killed with ``kill -9`` once the server
answers, and within a few seconds neither the postmaster nor any of its child processes may
remain, nor its folder. Slow: ``initdb`` and a server start take several seconds.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pg_server import require_server
from pg_watchdog import stop_server

pytestmark = pytest.mark.slow

TESTS = Path(__file__).resolve().parent

# Start a server, print its folder once it accepts connections, then wait to be killed.
STARTER = f"""
import sys, time
sys.path.insert(0, {str(TESTS)!r})
import pg_server
server = pg_server.start_server()
with server.admin() as connection:
    connection.execute("SELECT 1")
print(server.folder, flush=True)
time.sleep(600)
"""


def _ppid(pid: int) -> int | None:
    """The parent of ``pid`` from /proc, or None when there is no such process (any more)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def _alive(pid: int) -> bool:
    """Whether ``pid`` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _server_processes(postmaster: int) -> set[int]:
    """The postmaster and its children (checkpointer, writer, backends...)."""
    pids = {postmaster}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and _ppid(int(entry.name)) == postmaster:
            pids.add(int(entry.name))
    return pids


def _processes_using(folder: Path) -> set[int]:
    """Processes whose command line names ``folder`` (the postmaster's ``-D`` and ``-k``)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if str(folder) in command and "pg_watchdog" not in command and _alive(int(entry.name)):
            found.add(int(entry.name))
    return found


def test_server_is_stopped_and_removed_when_its_starter_is_killed() -> None:
    bindir, account = require_server()
    starter = subprocess.Popen(
        [sys.executable, "-c", STARTER],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    folder: Path | None = None
    try:
        assert starter.stdout is not None
        line = starter.stdout.readline().strip()
        assert line, f"the starter printed no folder: {starter.communicate(timeout=30)[1][-800:]}"
        folder = Path(line)
        postmaster = int((folder / "data" / "postmaster.pid").read_text().split()[0])
        server = _server_processes(postmaster)
        assert _alive(postmaster) and len(server) > 1, "the server should be running"
        assert postmaster in _processes_using(folder)

        os.kill(starter.pid, signal.SIGKILL)
        starter.wait(timeout=10)

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            left = {pid for pid in server if _alive(pid)} | _processes_using(folder)
            if not left and not folder.exists():
                break
            time.sleep(0.2)
        left = {pid for pid in server if _alive(pid)} | _processes_using(folder)
        assert not left, f"server processes {sorted(left)} outlived their starter by 10 s"
        assert not folder.exists(), f"the server's folder {folder} outlived its starter"
    finally:
        if starter.poll() is None:
            starter.kill()
            starter.wait()
        if folder is not None:
            stop_server(folder, str(bindir / "pg_ctl"), account)  # if it failed: leave nothing
