"""Shared fixtures: a temporary working directory and database, and an in-process CLI runner."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

import pomdpbench  # noqa: F401 - registers the tasks
from pomdpbench.cli.app import main

# One thread: small networks gain nothing from two, and a busy machine makes OpenMP threads
# spin against each other (a 2 s test took 80 s under load).
torch.set_num_threads(1)

REPO = Path(__file__).resolve().parent.parent


@dataclass
class CliResult:
    """Exit status and captured output of one CLI call."""

    status: int
    out: str
    err: str


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh working directory with no POMDPBENCH_* settings leaking in."""
    monkeypatch.chdir(tmp_path)
    for name in ("POMDPBENCH_DB", "POMDPBENCH_CHECKPOINTS"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.fixture
def db_url(workdir: Path) -> str:
    """A SQLite URL in the working directory."""
    return f"sqlite:///{workdir / 'results.db'}"


@pytest.fixture
def cli(workdir: Path, capsys: pytest.CaptureFixture[str]) -> Iterator[object]:
    """Call ``pomdpbench`` in this process: ``cli("list", "suites") -> CliResult``."""

    def run(*args: str) -> CliResult:
        capsys.readouterr()
        try:
            status = main(list(args))
        except SystemExit as exc:  # argparse usage errors and --help
            status = int(exc.code or 0)
        captured = capsys.readouterr()
        return CliResult(status, captured.out, captured.err)

    yield run


@contextmanager
def ctrl_c_not_ignored() -> Iterator[None]:
    """Children started inside get Ctrl-C's default handling, for tests that send SIGINT.

    A shell without job control starts a background command with SIGINT ignored (POSIX), and
    every child inherits that: Python then installs no KeyboardInterrupt handler, so a sweep
    the test interrupts would run to its end (seen: ``.ci/run`` started with ``&`` from a
    script). How the tests were launched must not decide what they find. The handler is set
    here, in the parent, rather than in a ``preexec_fn`` (not safe with threads): a caught
    signal is reset to its default in the child at ``exec``, an ignored one stays ignored.
    """
    ignored = signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    if ignored:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        if ignored:
            signal.signal(signal.SIGINT, signal.SIG_IGN)


def run_cli_subprocess(
    *args: str, cwd: Path, timeout: float = 300, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m pomdpbench`` in a fresh interpreter (for kill/resume tests)."""
    full_env = {**os.environ, **(env or {})}
    full_env.pop("POMDPBENCH_DB", None)
    return subprocess.run(
        [sys.executable, "-m", "pomdpbench", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
        check=False,
    )


# A PostgreSQL server the tests start themselves (skipped without the binaries): pg_server.py.
from pg_server import pg_url, postgres_server, store_url  # noqa: E402, F401
