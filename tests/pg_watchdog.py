"""Stops the tests' PostgreSQL server when the process that started it dies, even by ``kill -9``.

``pg_ctl start`` daemonizes the server: the postmaster is re-parented to init at once, so
neither a parent-death signal (``prctl(PR_SET_PDEATHSIG)`` is lost with the launcher that
exits) nor the test process's own clean-up (``atexit`` and fixture finalizers do not run on
``SIGKILL``) can reach it. This script is started by ``tests/pg_server.py`` beside the server,
in its own session so that killing the test's process group does not take it too. It polls its
parent: once it has been re-parented (the test process is gone), it stops the server with
``pg_ctl stop -m immediate`` and removes the server's folder, then exits. A clean end of the
tests terminates it first.

Usage: ``python pg_watchdog.py PARENT_PID FOLDER PG_CTL [UID GID]``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

POLL_SECONDS = 0.2


def stop_server(folder: Path, pg_ctl: str, account: dict[str, Any]) -> None:
    """``pg_ctl stop -m immediate`` when a server runs in ``folder``, then delete the folder."""
    data = folder / "data"
    if (data / "postmaster.pid").exists():
        subprocess.run(
            [pg_ctl, "-D", str(data), "-m", "immediate", "-w", "-t", "30", "stop"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
            cwd="/",
            **account,
        )
    shutil.rmtree(folder, ignore_errors=True)


def main(argv: list[str]) -> int:
    parent, folder, pg_ctl = int(argv[0]), Path(argv[1]), argv[2]
    account: dict[str, Any] = {}
    if len(argv) == 5:
        account = {"user": int(argv[3]), "group": int(argv[4]), "extra_groups": []}
    while os.getppid() == parent:
        time.sleep(POLL_SECONDS)
    stop_server(folder, pg_ctl, account)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
