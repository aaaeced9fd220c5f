"""Nothing a sweep starts outlives it: child processes end when their parent ends.

A worker re-parented to init after its sweep was killed would keep training with nobody to
store its evaluations, and would write checkpoints ahead of what the database holds. On Linux
the kernel ends a child when its parent dies if the child asked for it with
``prctl(PR_SET_PDEATHSIG)``; that works whatever killed the parent, ``kill -9`` included.
Elsewhere a daemon thread in the child watches ``getppid()`` and exits when it changes.

The request is checked against a race: if the parent died before the child made it, the
child's parent is already someone else, and the child exits at once.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
WATCH_INTERVAL_S = 0.5


def _prctl_pdeathsig(signum: int) -> bool:
    """Ask Linux to send ``signum`` to this process when its parent dies; False if unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return int(libc.prctl(PR_SET_PDEATHSIG, signum, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def die_with_parent(parent_pid: int, signum: int = signal.SIGKILL) -> None:
    """End this process (with ``signum``) as soon as ``parent_pid`` is no longer its parent."""
    armed = _prctl_pdeathsig(signum)
    if os.getppid() != parent_pid:  # the parent died before the request was made
        os._exit(1)
    if not armed:

        def watch() -> None:
            while os.getppid() == parent_pid:
                time.sleep(WATCH_INTERVAL_S)
            os._exit(1)

        threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _child_setup(parent_pid: int, signum: int) -> Callable[[], None]:
    def setup() -> None:  # runs in the child between fork and exec; the signal survives exec
        _prctl_pdeathsig(signum)
        if os.getppid() != parent_pid:
            os._exit(1)

    return setup


def popen_tied_to_parent(
    command: Sequence[str], signum: int = signal.SIGTERM, **kwargs: Any
) -> subprocess.Popen[bytes]:
    """Start ``command`` so that it receives ``signum`` when this process dies."""
    preexec = _child_setup(os.getpid(), signum) if sys.platform.startswith("linux") else None
    return subprocess.Popen(list(command), preexec_fn=preexec, **kwargs)


@contextlib.contextmanager
def package_first_on_path() -> Iterator[None]:
    """Put the folder holding this pomdpbench first on ``sys.path`` for the duration.

    Spawned workers start from the parent's ``sys.path``; with the working directory on it, a
    ``pomdpbench/`` folder there (a clone) would shadow the installed package in the workers
    only. Workers are started inside this block so they import the parent's pomdpbench.
    """
    import pomdpbench

    root = str(Path(pomdpbench.__file__).resolve().parent.parent)
    saved = list(sys.path)
    sys.path[:] = [root, *(p for p in saved if p != root)]
    try:
        yield
    finally:
        sys.path[:] = saved
