"""Make a real bundle and tamper with it as a dishonest submitter would (tests' helpers).

``source_bundle`` runs ``random`` on the sanity suite's smoke tier (9 runs, a few seconds) and
exports it. The editing helpers change a bundle's members and, when asked, recompute what a
careful forger would: the summary, the scores from the edited curve, and the manifest hashes.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pomdpbench.cli.app import main
from pomdpbench.record.scoring import area_under_curve, final_score
from pomdpbench.submission.bundle import MANIFEST, SUMMARY, encode_json, sha256, summary_csv

Files = dict[str, bytes]


def quiet(*argv: str) -> int:
    """Run the CLI in this process with its output swallowed; the exit status."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return main(list(argv))


def source_bundle(folder: Path) -> tuple[str, Path]:
    """A database with random's sanity smoke runs, and their exported bundle."""
    url = f"sqlite:///{folder / 'source.db'}"
    assert (
        quiet("run", "--agent", "random", "--suite", "sanity", "--budget", "smoke", "--db", url)
        == 0
    )
    bundle = folder / "bundle.zip"
    assert (
        quiet("export", "--agent", "random", "--suite", "sanity", "--out", str(bundle), "--db", url)
        == 0
    )
    return url, bundle


def read(bundle: Path) -> Files:
    with zipfile.ZipFile(bundle) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def write(files: Files, path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return path


def runs(files: Files) -> dict[str, dict[str, Any]]:
    """Run records by member name (members that are not JSON left out)."""
    found = {}
    for name, data in files.items():
        if name.startswith("runs/"):
            try:
                found[name] = json.loads(data)
            except ValueError:
                continue
    return found


def run_named(files: Files, task: str) -> str:
    return next(n for n, r in runs(files).items() if r["task"] == task)


def edit_run(files: Files, task: str, change: Callable[[dict[str, Any]], None]) -> Files:
    """Apply ``change`` to the record of ``task`` (hashes left as they were)."""
    name = run_named(files, task)
    record = json.loads(files[name])
    change(record)
    return {**files, name: encode_json(record)}


def rescore(record: dict[str, Any]) -> None:
    """Make the record's scores agree with its (edited) curve, as a careful forger would."""
    curve = [(p["env_step"], p["mean_return"]) for p in record["evaluations"]]
    record["final_score"] = final_score(curve, record["budget_steps"])
    record["auc"] = area_under_curve(curve, record["budget_steps"])


def rehash(files: Files, manifest_change: Callable[[dict[str, Any]], None] | None = None) -> Files:
    """Rewrite the summary and the manifest's file list (and apply ``manifest_change``)."""
    records = sorted(runs(files).values(), key=lambda r: r["run_key"])
    files = {**files, SUMMARY: summary_csv(records)}
    manifest = json.loads(files[MANIFEST])
    manifest["files"] = [
        {"path": name, "sha256": sha256(data), "bytes": len(data)}
        for name, data in sorted(files.items())
        if name != MANIFEST and (name.startswith("runs/") or name == SUMMARY)
    ]
    manifest["runs"] = len(records)
    if manifest_change is not None:
        manifest_change(manifest)
    return {**files, MANIFEST: encode_json(manifest)}


def file_hash(path: Path) -> str:
    """Hash of a SQLite file with its write-ahead log and shared memory, if any."""
    digest = hashlib.sha256()
    for part in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        digest.update(part.read_bytes() if part.exists() else b"-")
    return digest.hexdigest()
