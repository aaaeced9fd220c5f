"""Where and with what a run ran: host, device, versions, git commit.

Recorded with every run so that a number on the leaderboard can be traced to the code and the
simulator that produced it (different simulator versions are a known source of incomparable
numbers; see reference/notes-leaderboards.md §7).
"""

from __future__ import annotations

import platform
import socket
import subprocess
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pomdpbench

CORE_PACKAGES = ("pomdpbench", "torch", "gymnasium", "numpy", "sqlalchemy")


def package_versions(extra: tuple[str, ...] = ()) -> dict[str, str]:
    """Installed versions of the core packages and ``extra`` ones ("missing" if absent)."""
    versions: dict[str, str] = {}
    for name in (*CORE_PACKAGES, *extra):
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "missing"
    return versions


@lru_cache(maxsize=1)
def git_state() -> tuple[str | None, bool | None]:
    """Commit and dirty flag of the pomdpbench checkout, or (None, None) if not in git."""
    root = Path(pomdpbench.__file__).resolve().parent.parent
    if not (root / ".git").exists():
        return None, None
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        status = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None, None
    return commit or None, bool(status.strip())


def device_name(device: str) -> str:
    """``cpu (<processor>)`` or ``cuda:0 (<GPU name>)``."""
    if device.startswith("cuda"):
        try:
            import torch

            return f"{device} ({torch.cuda.get_device_name(torch.device(device))})"
        except Exception:  # no GPU visible: record what was asked
            return device
    return f"cpu ({platform.processor() or platform.machine()})"


def collect(device: str, simulator_package: str) -> dict[str, Any]:
    """All provenance fields of a run row."""
    commit, dirty = git_state()
    return {
        "host": socket.gethostname(),
        "device": device_name(device),
        "python_version": platform.python_version(),
        "packages": package_versions((simulator_package,)),
        "pomdpbench_version": pomdpbench.__version__,
        "git_commit": commit,
        "git_dirty": dirty,
    }
