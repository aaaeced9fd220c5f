"""The command line answers at once: light commands import none of the heavy libraries.

Each check runs the commands in a fresh interpreter (this test process has torch loaded
already) and then looks at ``sys.modules``. benchmarks/cli_latency.py measures the time.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HEAVY = ("torch", "rliable", "pandas", "matplotlib", "streamlit", "scipy", "arch")


def loaded_after(commands: list[list[str]], cwd: Path) -> dict[str, object]:
    """Run ``pomdpbench`` with each argv in one new interpreter; exit codes and heavy modules."""
    code = (
        "import contextlib, io, json, sys\n"
        "from pomdpbench.cli.app import main\n"
        "codes = []\n"
        f"for argv in {commands!r}:\n"
        "    with contextlib.redirect_stdout(io.StringIO()), "
        "contextlib.redirect_stderr(io.StringIO()):\n"
        "        try:\n"
        "            codes.append(main(argv))\n"
        "        except SystemExit as exc:\n"
        "            codes.append(exc.code)\n"
        f"heavy = sorted(m for m in {HEAVY!r} if m in sys.modules)\n"
        "print(json.dumps({'codes': codes, 'heavy': heavy}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=cwd
    )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_listing_help_and_a_refused_agent_import_no_heavy_library(tmp_path: Path) -> None:
    commands = [
        ["--help"],
        ["list", "suites"],
        ["list", "tasks", "--suite", "classic"],
        ["list", "agents", "--json"],
        ["run", "--agent", "no-such-agent", "--suite", "classic"],
        ["report", "--help"],
        ["leaderboard", "--help"],
    ]
    found = loaded_after(commands, tmp_path)
    assert found["codes"] == [0, 0, 0, 0, 2, 0, 0]
    assert found["heavy"] == [], f"imported by a light command: {found['heavy']}"


def test_results_reads_the_store_without_torch(tmp_path: Path) -> None:
    found = loaded_after([["results", "--db", f"sqlite:///{tmp_path / 'none.db'}"]], tmp_path)
    assert found["codes"] == [2]  # no database there: a one-line error
    assert "torch" not in found["heavy"]  # type: ignore[operator]
