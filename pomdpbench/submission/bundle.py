"""The bundle file: a zip of JSON and CSV, written and read with nothing executable in it.

Layout (the manifest's schema is docs/submission-schema.json)::

    manifest.json          what the bundle claims: agent, suite, tier, completeness, file hashes
    summary.csv            one row per run: task, seed, final score, area under the curve
    runs/<run_key>.json    one run record each: identity, protocol, provenance, evaluations

Reading never unpickles, imports or extracts anything to disk: members are read into memory
after their names and sizes are checked, so a path like ``../x`` or a zip bomb is refused
before a byte of it is inflated.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
import zipfile
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pomdpbench.errors import PomdpbenchError
from pomdpbench.record.job import JobSpec

MANIFEST = "manifest.json"
SUMMARY = "summary.csv"
RUNS_DIR = "runs/"
FORMAT = "pomdpbench-bundle"
FORMAT_VERSION = 1
MAX_MEMBER_BYTES = 64 * 2**20
"""A run record of a full-budget run with thousands of evaluations is a few MB; 64 MB is far."""
MAX_TOTAL_BYTES = 1024 * 2**20
SUMMARY_COLUMNS = ("run_key", "task", "seed", "status", "final_score", "auc", "env_steps")


class BundleError(PomdpbenchError):
    """A bundle that cannot be read at all (not a zip, damaged, unsafe)."""


def sha256(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def encode_json(data: Any) -> bytes:
    """Canonical JSON: sorted keys, no NaN (non-finite training metrics become null)."""
    return (json.dumps(_finite(data), sort_keys=True, indent=1, allow_nan=False) + "\n").encode()


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def summary_csv(records: Sequence[Mapping[str, Any]]) -> bytes:
    """The human-readable table of the runs (checked against the run records on submit)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(SUMMARY_COLUMNS)
    for record in records:
        writer.writerow([_cell(record.get(column)) for column in SUMMARY_COLUMNS])
    return out.getvalue().encode()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return repr(value) if isinstance(value, float) else str(value)


def run_path(run_key: str) -> str:
    """Where a run's record lives inside the bundle."""
    return f"{RUNS_DIR}{run_key}.json"


def record_job(record: Mapping[str, Any], entry_point: str = "") -> JobSpec:
    """The job a run record describes, read back from the bundle.

    Without ``entry_point`` it is the run's identity (its run key and config hash, which a check
    compares with the record's own); with the installed agent's entry point, a job to run again.
    """
    return JobSpec(
        agent=record["agent"],
        agent_version=record["agent_version"],
        agent_entry_point=entry_point,
        task=record["task"],
        suite=record["suite"],
        tier=record["tier"],
        seed=record["seed"],
        budget=record["budget_steps"],
        eval_every=record["eval_every"],
        eval_episodes=record["eval_episodes"],
        config=record["agent_config"],
    )


def bundle_files(manifest: dict[str, Any], records: Sequence[dict[str, Any]]) -> dict[str, bytes]:
    """Every file of a bundle: the run records, the summary and the manifest hashing them."""
    files = {run_path(r["run_key"]): encode_json(r) for r in records}
    files[SUMMARY] = summary_csv(records)
    listed = [
        {"path": path, "sha256": sha256(data), "bytes": len(data)}
        for path, data in sorted(files.items())
    ]
    files[MANIFEST] = encode_json({**manifest, "runs": len(records), "files": listed})
    return files


def write_zip(path: Path, files: Mapping[str, bytes]) -> None:
    """Write the members to ``path`` (through a temporary file, so no half bundle is left)."""
    partial = path.with_name(path.name + ".partial")
    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name in sorted(files):
                archive.writestr(
                    zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)),
                    files[name],
                    compress_type=zipfile.ZIP_DEFLATED,
                )
        os.replace(partial, path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise BundleError(
            f"cannot write {path}: {exc.strerror or exc}: choose another --out"
        ) from None


def read_zip(path: Path) -> dict[str, bytes]:
    """The members of a bundle, by name, read into memory.

    Raises:
        BundleError: missing, not a zip, damaged, or with unsafe names or sizes.
    """
    if not path.is_file():
        raise BundleError(f"no bundle at {path}: give the .zip that `pomdpbench export` wrote")
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            _check_members(path, infos)
            return {info.filename: archive.read(info) for info in infos if not info.is_dir()}
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, ValueError) as exc:
        raise BundleError(
            f"{path} is not a readable zip archive ({' '.join(str(exc).split())}): export the "
            "bundle again with `pomdpbench export`"
        ) from None
    except OSError as exc:
        raise BundleError(f"cannot read {path}: {exc.strerror or exc}") from None


def _check_members(path: Path, infos: Sequence[zipfile.ZipInfo]) -> None:
    total = 0
    for info in infos:
        name = info.filename
        if name.startswith(("/", "\\")) or ".." in name.split("/") or "\\" in name:
            raise BundleError(f"{path} holds an unsafe member name {name!r}: refused unread")
        if info.file_size > MAX_MEMBER_BYTES:
            raise BundleError(
                f"{path}: member {name} would inflate to {info.file_size:,} bytes (at most "
                f"{MAX_MEMBER_BYTES:,}): refused unread"
            )
        total += info.file_size
    if total > MAX_TOTAL_BYTES:
        raise BundleError(f"{path} would inflate to {total:,} bytes: refused unread")
