"""A watchdog that ends the processes a sweep started outside its reach, when the sweep ends.

A private Ray instance is a tree of processes: the driver starts the GCS and the raylet (which
Ray ties to the driver with ``PR_SET_PDEATHSIG``), and the raylet starts its agents and
workers. After ``kill -9`` of the driver the raylet dies with it, but its agents only notice
after trying to report to the dead GCS, which can take minutes: they would outlive the sweep.

The watchdog is a small separate process (its own session, so the driver's death does not
take it along) that reads the driver's process list from a pipe. When the pipe closes (the
driver exited or was killed: the kernel closes the write end either way), it kills every
listed process that still runs, checking each one's start time so that a reused pid is never
hit. Only Linux lists processes this way; elsewhere :class:`Reaper` does nothing.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

SCAN_INTERVAL_S = 2.0
"""How often the driver sends the watchdog the processes below it (workers come and go)."""

# The watchdog's whole program: read "pid starttime" lines until EOF, then kill the survivors.
_WATCHDOG = """
import os, signal, sys
seen = set()
for line in sys.stdin:
    pid, start = line.split()
    seen.add((int(pid), start))
for pid, start in seen:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        if fields[19] == start and fields[0] != "Z":
            os.kill(pid, signal.SIGKILL)
    except (OSError, IndexError):
        pass
"""


def start_time(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (field 22 of /proc/pid/stat), or None if gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def descendants(root: int) -> set[int]:
    """Every process below ``root``, read from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found: set[int] = set()
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


class Reaper:
    """Kills the processes that appear below this one while it is active, once this one ends.

    ``exclude`` are processes that were already there (a caller's own children) and are not
    the reaper's business.
    """

    def __init__(self, exclude: Iterable[int] = ()) -> None:
        self.exclude = set(exclude)
        self.enabled = sys.platform.startswith("linux")
        self._stop = threading.Event()
        self._sent: set[int] = set()
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._pipe: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the watchdog and the thread that keeps its list current."""
        if not self.enabled:
            return
        self._process = subprocess.Popen(
            [sys.executable, "-c", _WATCHDOG],
            stdin=subprocess.PIPE,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._pipe = self._process.stdin
        self.exclude.add(self._process.pid)
        self.send()
        self._thread = threading.Thread(target=self._watch, name="reaper-scan", daemon=True)
        self._thread.start()

    def send(self) -> None:
        """Tell the watchdog about processes below this one that it does not know yet."""
        if self._pipe is None:
            return
        with self._lock:
            lines = []
            for pid in sorted(descendants(os.getpid()) - self.exclude - self._sent):
                start = start_time(pid)
                if start is not None:
                    lines.append(f"{pid} {start}\n")
                    self._sent.add(pid)
            if lines:
                with contextlib.suppress(OSError, ValueError):
                    self._pipe.write("".join(lines).encode())
                    self._pipe.flush()

    def _watch(self) -> None:
        while not self._stop.wait(SCAN_INTERVAL_S):
            self.send()

    def stop(self) -> None:
        """Close the pipe: the watchdog kills what is left of the listed processes and exits."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(SCAN_INTERVAL_S + 1)
        if self._pipe is not None:
            with contextlib.suppress(OSError):
                self._pipe.close()
            self._pipe = None
        if self._process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._process.wait(10)
