"""Turn one agent's runs of a suite and tier into a bundle (``pomdpbench export``).

Only finished runs of the suite's own protocol go in (a run with ``--eval-every`` or
``--eval-episodes`` overrides, or unfinished, is not comparable); the manifest lists which of
the suite's task x seed pairs are missing, so an incomplete bundle says so instead of being
averaged over a subset. The run records come from the store
(:func:`pomdpbench.store.submissions.local_records`); this module writes no SQL.
"""

from __future__ import annotations

import getpass
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pomdpbench
from pomdpbench.errors import ConfigError
from pomdpbench.record.vocabulary import Tier
from pomdpbench.registry import get_suite
from pomdpbench.store.provenance import git_state
from pomdpbench.submission.bundle import FORMAT, FORMAT_VERSION, bundle_files, write_zip
from pomdpbench.submission.schema import errors


@dataclass(frozen=True)
class Exported:
    """What went into a bundle."""

    path: Path
    runs: int
    missing: list[tuple[str, int]]
    left_out: int
    """Runs of the agent, suite and tier that are not finished, so not exported."""


def required_pairs(suite_id: str, tier: str) -> list[tuple[str, int]]:
    """Every (task, seed) a complete bundle of the suite and tier holds."""
    suite = get_suite(suite_id)
    seeds = suite.seeds[Tier.SMOKE if tier == Tier.CUSTOM else Tier(tier)]
    return [(task, seed) for task in suite.tasks for seed in seeds]


def default_submitter() -> str:
    """The user name of this session (what the manifest records unless told otherwise)."""
    try:
        return getpass.getuser() or "unknown"
    except (KeyError, OSError):  # no passwd entry in some containers
        return "unknown"


def export(
    records: list[dict[str, Any]],
    agent: str,
    suite: str,
    tier: str,
    out: Path,
    submitter: str | None = None,
) -> Exported:
    """Write the bundle of ``records`` (the agent's stored runs of suite and tier) to ``out``."""
    finished = [r for r in records if r["status"] == "finished"]
    if not finished:
        raise ConfigError(
            f"no finished run of {agent} on suite {suite} ({tier} tier) to export: run "
            f"`pomdpbench run --agent {agent} --suite {suite}` first, or check --db and --tier"
        )
    versions = sorted({r["agent_version"] for r in finished})
    if len(versions) > 1:
        raise ConfigError(
            f"{agent} has finished runs of versions {', '.join(versions)} here; a bundle holds "
            "one version: export from a database that holds the runs of one"
        )
    by_pair: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for record in finished:
        by_pair.setdefault((record["task"], record["seed"]), []).append(record)
    doubled = sorted(pair for pair, runs in by_pair.items() if len(runs) > 1)
    if doubled:
        task, seed = doubled[0]
        raise ConfigError(
            f"{agent} has {len(by_pair[doubled[0]])} finished runs of {task} seed {seed} "
            "(different configs, e.g. from --set): a bundle holds one run per task and seed: "
            "export from a database holding one config"
        )
    missing = [pair for pair in required_pairs(suite, tier) if pair not in by_pair]
    commit, _ = git_state()
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created_at": datetime.now(timezone.utc).isoformat(),
        "submitter": submitter or default_submitter(),
        "pomdpbench_version": pomdpbench.__version__,
        "git_commit": commit,
        "agent": agent,
        "agent_version": versions[0],
        "suite": suite,
        "tier": tier,
        "complete": not missing,
        "missing": [{"task": task, "seed": seed} for task, seed in missing],
    }
    files = bundle_files(manifest, finished)
    problems = errors(json.loads(files["manifest.json"]), "manifest.json")
    if problems:  # a bug here, not the user's: say so rather than write a bundle submit refuses
        raise RuntimeError(f"export produced an invalid manifest: {problems[0]}")
    write_zip(out, files)
    return Exported(out, len(finished), missing, len(records) - len(finished))
