"""``pomdpbench verify`` re-runs a submission's runs here: an honest bundle passes, a doctored one fails.

The doctored bundle is forged with care: its curves are raised by 50 on every evaluation, its
scores recomputed from them, its summary and hashes rewritten, so ``submit`` finds nothing
wrong and only a re-run can tell. Both use random's sanity smoke runs (seconds), so the test
also measures the honest deviation on the same platform: exactly 0.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from bundle_helpers import edit_run, read, rehash, rescore, runs, source_bundle, write

from pomdpbench.store.database import open_engine
from pomdpbench.store.submissions import submission

pytestmark = pytest.mark.slow


def raise_curve(record: dict[str, Any]) -> None:
    for point in record["evaluations"]:
        point["mean_return"] += 50.0
        point["returns"] = [r + 50.0 for r in point["returns"]]
    rescore(record)


def test_verify_passes_an_honest_bundle_and_rejects_a_doctored_curve(
    cli: Any, workdir: Path
) -> None:
    _, bundle = source_bundle(workdir)
    target = f"sqlite:///{workdir / 'board.db'}"
    assert cli("submit", str(bundle), "--db", target).status == 0
    honest = cli("verify", "1", "--runs", "3", "--seed", "4", "--db", target)
    assert honest.status == 0, honest.out + honest.err
    stored = submission(open_engine(target, create=False), 1)
    assert stored is not None and stored["status"] == "verified" and stored["reasons"] == []
    checks = stored["evidence"]["checks"]
    assert len(checks) == 3 and all(c["passed"] and c["platform"] == "same" for c in checks)
    assert all(c["max_deviation"] == 0.0 for c in checks)  # a bit-for-bit replay
    assert stored["evidence"]["seed"] == 4 and stored["evidence"]["runs_in_submission"] == 9

    files = read(bundle)
    for record in list(runs(files).values()):
        files = edit_run(files, record["task"], raise_curve)
    forged = write(rehash(files), workdir / "forged.zip")
    assert cli("submit", str(forged), "--db", target).status == 2  # its runs are submission 1's
    target = f"sqlite:///{workdir / 'other-board.db'}"
    accepted = cli("submit", str(forged), "--db", target)
    assert accepted.status == 0, accepted.err  # consistent in itself: only a re-run tells
    doctored = cli("verify", "1", "--runs", "2", "--db", target)
    assert doctored.status == 1, doctored.out + doctored.err
    stored = submission(open_engine(target, create=False), 1)
    assert stored is not None and stored["status"] == "rejected" and len(stored["reasons"]) == 2
    assert all("differs from the submitted one" in reason for reason in stored["reasons"])
    assert all(not c["passed"] and c["max_deviation"] > 0.02 for c in stored["evidence"]["checks"])
    assert "FAIL" in doctored.out
    assert json.loads(cli("results", "--db", target, "--json").out) == []  # rejected: not pooled
