"""Where and with what a run ran: host, device, versions, git commit.

Recorded with every run so that a number on the leaderboard can be traced to the code and the
simulator that produced it (different simulator versions are a known source of incomparable
numbers; see reference/notes-leaderboards.md §7).
"""

from __future__ import annotations

import os
import platform
import socket
import subprocess
import sys
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
    """``cpu (<processor>; <matrix products>)`` or ``cuda:0 (<GPU name>)``.

    On a CPU, the processor's model and the library that runs the networks' large matrix
    products (``pomdpbench/agents/onednn.py``) fix a run's floating-point rounding as much as
    the package versions do, so both are recorded: ``verify`` replays a run bit for bit only
    where they match (its same-platform rule). Read without importing torch.
    """
    if device.startswith("cuda"):
        try:
            import torch

            return f"{device} ({torch.cuda.get_device_name(torch.device(device))})"
        except Exception:  # no GPU visible: record what was asked
            return device
    return f"cpu ({cpu_model()}; {cpu_products()} products)"[:128]  # the column's width


@lru_cache(maxsize=1)
def cpu_model() -> str:
    """The processor's model name, family and model (Linux), else what ``platform`` says."""
    fields: dict[str, str] = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            fields.setdefault(key.strip(), value.strip())
            if not key.strip():  # the first processor's block is enough
                break
    except OSError:
        pass
    if "model name" in fields:
        return (
            f"{fields['model name']}, family {fields.get('cpu family')} model {fields.get('model')}"
        )
    return platform.processor() or platform.machine()


def cpu_products() -> str:
    """Which library runs the shipped networks' large float32 products on this CPU.

    ``oneDNN`` on x86-64 unless ``POMDPBENCH_ONEDNN=0`` (the first two conditions of
    :func:`pomdpbench.agents.onednn._available`), else ``torch``; where that module is
    loaded, its own decision (its probe needs torch, which this does not import).
    """
    loaded = sys.modules.get("pomdpbench.agents.onednn")
    if loaded is not None:  # the networks' own decision, probe included, where it was made
        return "oneDNN" if loaded.ENABLED else "torch"
    x86 = platform.machine().lower() in ("x86_64", "amd64")
    return "oneDNN" if x86 and os.environ.get("POMDPBENCH_ONEDNN", "1") != "0" else "torch"


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
