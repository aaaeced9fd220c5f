"""Everything ``pomdpbench submit`` checks in a bundle before a byte of it is stored.

Each check adds a one-line reason; a bundle with any reason is refused whole. In order:

* data only: no pickle (by content, whatever the name), no file but the manifest, the summary
  and the run records;
* the manifest and every run record against the published schema (docs/submission-schema.json);
* every file listed with its SHA-256 and size, and nothing unlisted;
* each run internally consistent: its key is the hash of its identity (so a changed config,
  seed or budget shows), its scores are the ones its curve gives, its evaluations are the
  protocol's schedule, and it agrees with the manifest and the summary;
* against this installation's registry: the task and its version exist and define the same
  environment, the budget and evaluation schedule are the suite's for the tier;
* the suite's tasks and the tier's seeds all present, or the bundle says which are missing.

Pure functions of the bundle's bytes and the registry: no database, no agent code.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass, field
from typing import Any

from pomdpbench.errors import UnknownIdError
from pomdpbench.record.job import PROTOCOL_VERSION, schedule
from pomdpbench.record.scoring import area_under_curve, final_score
from pomdpbench.record.vocabulary import Tier
from pomdpbench.registry import TIERS, TaskSpec, get_suite, get_task
from pomdpbench.submission import schema
from pomdpbench.submission.bundle import (
    MANIFEST,
    RUNS_DIR,
    SUMMARY,
    SUMMARY_COLUMNS,
    record_job,
    sha256,
)

TASK_DEFINITION = ("entry_point", "kwargs", "eval_kwargs", "max_episode_steps", "metric")
"""The parts of a task spec that change what the environment does."""
PICKLE_SUFFIXES = (".pkl", ".pickle", ".pt", ".pth", ".joblib", ".npy", ".npz")


@dataclass
class CheckedBundle:
    """What the checks found: the parsed manifest and runs, and every reason to refuse."""

    bundle_sha256: str
    manifest: dict[str, Any] = field(default_factory=dict)
    records: list[dict[str, Any]] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        """True when no check found anything wrong."""
        return not self.reasons


def looks_like_pickle(name: str, data: bytes) -> bool:
    """A pickle by its name or its bytes (protocol 2+ starts with 0x80 and the protocol)."""
    return name.lower().endswith(PICKLE_SUFFIXES) or (
        len(data) >= 2 and data[0] == 0x80 and 2 <= data[1] <= 5
    )


def check_bundle(files: dict[str, bytes]) -> CheckedBundle:
    """Run every check over a bundle's members."""
    result = CheckedBundle(bundle_sha256=sha256(files.get(MANIFEST, b"")))
    for name in sorted(files):
        if looks_like_pickle(name, files[name]):
            result.reasons.append(f"{name} is a pickle: a bundle holds data only (JSON, CSV)")
        elif name not in (MANIFEST, SUMMARY) and not _is_run_path(name):
            result.reasons.append(
                f"unexpected file {name}: a bundle holds only {MANIFEST}, {SUMMARY} and "
                f"{RUNS_DIR}<run_key>.json"
            )
    manifest = _load_json(files, MANIFEST, result.reasons)
    if manifest is None:
        return result
    result.reasons.extend(schema.errors(manifest, MANIFEST))
    if result.reasons:
        return result  # without a well-formed manifest nothing else can be judged
    result.manifest = manifest
    _check_hashes(files, manifest, result.reasons)
    listed = {entry["path"] for entry in manifest["files"]}
    for name in sorted(n for n in files if n in listed and _is_run_path(n)):
        if looks_like_pickle(name, files[name]):
            continue
        record = _load_json(files, name, result.reasons)
        if record is None:
            continue
        problems = schema.errors(record, name, "run")
        result.reasons.extend(problems)
        if not problems:
            result.records.append(record)
            result.reasons.extend(_check_run(record, name, manifest))
    if len(result.records) != manifest["runs"]:
        result.reasons.append(
            f"the manifest counts {manifest['runs']} runs, the bundle holds {len(result.records)}"
        )
    result.reasons.extend(_check_suite(result.records, manifest))
    if SUMMARY in files:
        result.reasons.extend(_check_summary(files[SUMMARY], result.records))
    return result


def _is_run_path(name: str) -> bool:
    return name.startswith(RUNS_DIR) and name.endswith(".json") and name.count("/") == 1


def _load_json(files: dict[str, bytes], name: str, reasons: list[str]) -> Any:
    if name not in files:
        reasons.append(f"no {name} in the bundle: export it again with `pomdpbench export`")
        return None
    try:
        return json.loads(files[name].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        reasons.append(f"{name} is not valid JSON ({' '.join(str(exc).split())})")
        return None


def _check_hashes(files: dict[str, bytes], manifest: dict[str, Any], reasons: list[str]) -> None:
    listed = {entry["path"]: entry for entry in manifest["files"]}
    for path, entry in sorted(listed.items()):
        if path not in files:
            reasons.append(f"{path} is listed in the manifest but missing from the bundle")
        elif sha256(files[path]) != entry["sha256"]:
            reasons.append(f"the SHA-256 of {path} does not match the manifest: it was changed")
        elif len(files[path]) != entry["bytes"]:
            reasons.append(
                f"{path} has {len(files[path])} bytes, the manifest says {entry['bytes']}"
            )
    for path in sorted(set(files) - set(listed) - {MANIFEST}):
        reasons.append(f"extra file {path} is not listed in the manifest")


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def _check_run(record: dict[str, Any], name: str, manifest: dict[str, Any]) -> list[str]:
    where = f"run {record['task']} seed {record['seed']}"
    reasons = [
        f"{where}: {key} is {record[key]!r}, the manifest says {manifest[key]!r}"
        for key in ("agent", "agent_version", "suite", "tier")
        if record[key] != manifest[key]
    ]
    if name != f"{RUNS_DIR}{record['run_key']}.json":
        reasons.append(f"{where}: stored as {name}, not under its run key {record['run_key']}")
    identity = record_job(record)
    if identity.run_key != record["run_key"] or identity.config_hash != record["config_hash"]:
        reasons.append(
            f"{where}: its run key is not the hash of its identity (agent, config, task, tier, "
            "budget, schedule, seed): the run was edited"
        )
    if record["protocol_version"] != PROTOCOL_VERSION:
        reasons.append(
            f"{where}: harness protocol {record['protocol_version']}, this pomdpbench's is "
            f"{PROTOCOL_VERSION}: runs of another protocol are not comparable"
        )
    try:
        task = get_task(record["task"])
    except UnknownIdError:
        return [*reasons, f"{where}: unknown task version {record['task']} (not registered here)"]
    reasons.extend(_check_task(record, task, where))
    reasons.extend(_check_protocol(record, task, where))
    reasons.extend(_check_curve(record, task, where))
    return reasons


def _check_task(record: dict[str, Any], task: TaskSpec, where: str) -> list[str]:
    reasons = []
    if record["task_version"] != task.version or record["task_spec"].get("version") != task.version:
        reasons.append(f"{where}: task version {record['task_version']}, registered {task.version}")
    if task.suite != record["suite"]:
        reasons.append(
            f"{where}: task {task.id} belongs to suite {task.suite}, not {record['suite']}"
        )
    here = json.loads(json.dumps(task.to_json()))
    changed = [k for k in TASK_DEFINITION if record["task_spec"].get(k) != here.get(k)]
    if changed:
        reasons.append(
            f"{where}: its definition of {task.id} differs from the registered one "
            f"({', '.join(changed)}): a changed task needs a new version"
        )
    return reasons


def _check_protocol(record: dict[str, Any], task: TaskSpec, where: str) -> list[str]:
    tier, budget = record["tier"], record["budget_steps"]
    if tier in TIERS:
        protocol = task.protocol(Tier(tier))
        expected = (protocol.budget, protocol.eval_every, protocol.eval_episodes)
    else:  # custom: --steps N, with the schedule `pomdpbench run` derives from N
        full = task.protocol(Tier.FULL)
        expected = (budget, max(1, min(full.eval_every, budget // 10)), full.eval_episodes)
    found = (budget, record["eval_every"], record["eval_episodes"])
    reasons = [
        f"{where}: {label} {value:,}, the suite's {tier} protocol has {want:,}"
        for label, value, want in zip(
            ("budget", "eval_every", "eval_episodes"), found, expected, strict=True
        )
        if value != want
    ]
    if record["env_steps"] != budget:
        reasons.append(f"{where}: trained {record['env_steps']:,} of {budget:,} steps")
    return reasons


def _check_curve(record: dict[str, Any], task: TaskSpec, where: str) -> list[str]:
    points = record["evaluations"]
    steps = [p["env_step"] for p in points]
    reasons = []
    if steps != list(schedule(record["budget_steps"], record["eval_every"])):
        reasons.append(f"{where}: its evaluation steps are not the protocol's schedule")
    if any(
        p["episodes"] != record["eval_episodes"] or len(p["returns"]) != p["episodes"]
        for p in points
    ):
        reasons.append(f"{where}: an evaluation has not {record['eval_episodes']} episodes")
    if record["metric"] != task.metric:
        reasons.append(f"{where}: metric {record['metric']}, the task's is {task.metric}")
    value = "success_rate" if task.metric == "success" else "mean_return"
    curve = [(p["env_step"], float(p[value])) for p in points if p[value] is not None]
    final = final_score(curve, record["budget_steps"], task.final_fraction)
    auc = area_under_curve(curve, record["budget_steps"])
    if not _close(final, record["final_score"]) or not _close(auc, record["auc"]):
        reasons.append(
            f"{where}: its final score {record['final_score']!r} (or area {record['auc']!r}) is "
            f"not what its evaluations give ({final!r}, {auc!r}): a score was changed"
        )
    return reasons


def _check_suite(records: list[dict[str, Any]], manifest: dict[str, Any]) -> list[str]:
    try:
        suite = get_suite(manifest["suite"])
    except UnknownIdError as exc:
        return [str(exc)]
    tier = manifest["tier"]
    seeds = suite.seeds[Tier.SMOKE if tier == Tier.CUSTOM else Tier(tier)]
    seen: dict[tuple[str, int], int] = {}
    for record in records:
        pair = (record["task"], record["seed"])
        seen[pair] = seen.get(pair, 0) + 1
    reasons = [f"{task} seed {seed} appears {n} times" for (task, seed), n in seen.items() if n > 1]
    budgets = {r["budget_steps"] for r in records}
    if tier == "custom" and len(budgets) > 1:
        reasons.append(f"the runs have different budgets ({sorted(budgets)}): export one --steps")
    missing = sorted(
        (task, seed) for task in suite.tasks for seed in seeds if (task, seed) not in seen
    )
    claimed = sorted((m["task"], m["seed"]) for m in manifest["missing"])
    if manifest["complete"] and missing:
        shown = ", ".join(f"{task} seed {seed}" for task, seed in missing[:4])
        reasons.append(
            f"the manifest says complete but the suite's {tier} runs lack {shown}"
            f"{' ...' if len(missing) > 4 else ''} ({len(missing)} missing)"
        )
    elif claimed != missing or manifest["complete"] != (not missing):
        reasons.append(
            f"the manifest's list of missing runs ({len(claimed)}) is not what the bundle lacks "
            f"({len(missing)}): export it again"
        )
    return reasons


def _check_summary(data: bytes, records: list[dict[str, Any]]) -> list[str]:
    try:
        rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"))))
    except (UnicodeDecodeError, csv.Error) as exc:
        return [f"{SUMMARY} is not a readable CSV ({exc})"]
    by_key = {row.get("run_key"): row for row in rows}
    reasons = []
    if len(by_key) != len(rows) or set(by_key) != {r["run_key"] for r in records}:
        reasons.append(f"{SUMMARY} does not list exactly the bundle's runs")
    for record in records:
        row = by_key.get(record["run_key"])
        if row is None:
            continue
        for column in ("final_score", "auc"):
            try:
                same = _close(float(row[column]), record[column])
            except (KeyError, TypeError, ValueError):
                same = False
            if not same:
                reasons.append(
                    f"{SUMMARY}: {column} of {record['task']} seed {record['seed']} differs from "
                    "its run record"
                )
        if any(row.get(c) is None for c in SUMMARY_COLUMNS):
            reasons.append(f"{SUMMARY}: a row lacks one of {', '.join(SUMMARY_COLUMNS)}")
            break
    return reasons
