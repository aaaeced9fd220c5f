"""Re-run a seeded sample of a submission's runs here and compare curves (``pomdpbench verify``).

Each chosen run is rebuilt from its record: the same agent id and version, the submitted
config, task, tier, budget, schedule and seed, so its run key is the submitted one. It runs
through the ordinary sweep into a scratch database that is deleted afterwards, and its curve
is compared point by point with the submitted one.

Tolerance, in units of the task's normalization range ``|target - random|`` (a raw score
range where a task has no reference scores):

* **same platform** (the run recorded the device, Python and package versions found here):
  the harness seeds everything from the run's seed and derives evaluation seeds from the step,
  and agents run one CPU thread, so a deterministic agent replays the run bit for bit (the
  slow test measures a deviation of exactly 0; a 1,500-step ``sac-mlp`` run re-ran with 0 too).
  Every evaluation point must then agree within
  :data:`SAME_PLATFORM_TOLERANCE` = 0.02, room only for benign summation-order differences;
  a doctored curve moves far more.
* **other platform** (another CPU model or matrix-product library, both in the run's recorded
  device; another Python, torch, numpy or simulator build):
  floating-point rounding differs from the first update on, an RL run's trajectory drifts
  apart and, late in training, behaves like another seed. Over the 202 figures in
  baselines/reported_results.csv (RESeL Tables 4-6, six seeds each) the median standard error
  is 9 % of the mean, a seed-to-seed standard deviation of 22 % (quartiles 10 % and 44 %), so
  two honest runs differ by about 1.4 x 22 % = 31 % at the median. Only the final score is
  compared then, within :data:`OTHER_PLATFORM_TOLERANCE` = 0.5 (1.6 of those standard
  deviations): such a rerun catches gross fabrication only, and the evidence says which rule
  was applied.
"""

from __future__ import annotations

import platform
import random
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pomdpbench.record.vocabulary import RunStatus

SAME_PLATFORM_TOLERANCE = 0.02
OTHER_PLATFORM_TOLERANCE = 0.5


@dataclass(frozen=True)
class RunCheck:
    """The comparison of one re-run with its submitted record."""

    run_key: str
    task: str
    seed: int
    platform: str
    """``same`` or ``other``: whether the run recorded this machine's device and versions."""
    tolerance: float
    max_deviation: float | None
    """Largest |here - submitted| over the evaluation points, in normalized units."""
    final_deviation: float | None
    """|here - submitted| of the final score, in normalized units (the other-platform rule)."""
    final_submitted: float | None
    final_here: float | None
    passed: bool
    note: str = ""


def choose(records: Sequence[dict[str, Any]], count: int, seed: int) -> list[dict[str, Any]]:
    """``count`` runs drawn without replacement with ``random.Random(seed)`` (stable order)."""
    ordered = sorted(records, key=lambda r: (r["task"], r["seed"], r["run_key"]))
    return random.Random(seed).sample(ordered, min(count, len(ordered)))


def same_platform(record: dict[str, Any]) -> bool:
    """True when the run recorded this machine's device, Python and package versions."""
    from pomdpbench.store.provenance import device_name, package_versions

    recorded = {k: v for k, v in record["packages"].items() if k != "pomdpbench"}
    here = package_versions(tuple(recorded))
    return (
        record["device"] == device_name("cpu")
        and record["python_version"] == platform.python_version()
        and all(here.get(name) == value for name, value in recorded.items())
    )


def scale_of(task_id: str, values: Sequence[float]) -> float:
    """The normalization range of the task, or the curve's magnitude without references."""
    from pomdpbench.registry import get_task

    refs = get_task(task_id).references
    if "random" in refs and "target" in refs and refs["target"].score != refs["random"].score:
        return abs(refs["target"].score - refs["random"].score)
    return max([1.0, *(abs(v) for v in values)])


def compare(
    record: dict[str, Any],
    here: list[tuple[int, float]],
    final_here: float | None,
    tolerance: float | None,
) -> RunCheck:
    """Compare a re-run's curve ``(step, value)`` with the submitted record's."""
    value = "success_rate" if record["metric"] == "success" else "mean_return"
    submitted = {p["env_step"]: p[value] for p in record["evaluations"]}
    same = same_platform(record)
    limit = (
        tolerance
        if tolerance is not None
        else (SAME_PLATFORM_TOLERANCE if same else OTHER_PLATFORM_TOLERANCE)
    )
    common = dict(
        run_key=record["run_key"],
        task=record["task"],
        seed=record["seed"],
        platform="same" if same else "other",
        tolerance=limit,
        final_submitted=record["final_score"],
        final_here=final_here,
    )
    if [s for s, _ in here] != sorted(submitted):
        return RunCheck(
            **common,
            max_deviation=None,
            final_deviation=None,
            passed=False,
            note="the re-run evaluated at other steps",
        )
    scale = scale_of(record["task"], [v for v in submitted.values() if v is not None])
    deviation = max(abs(v - float(submitted[s] or 0.0)) / scale for s, v in here)
    final = None if final_here is None else abs(final_here - float(record["final_score"])) / scale
    measured = deviation if same else final
    passed = measured is not None and measured <= limit
    return RunCheck(**common, max_deviation=deviation, final_deviation=final, passed=passed)


def rerun(records: Sequence[dict[str, Any]]) -> dict[str, tuple[list[tuple[int, float]], Any]]:
    """Run each record again here; run key -> (curve, its summary), in a scratch database.

    Raises:
        PomdpbenchError: the agent is not installed here, or is at another version.
    """
    from pomdpbench.agents.registry import get_agent_spec
    from pomdpbench.errors import ConfigError
    from pomdpbench.store import Store
    from pomdpbench.submission.bundle import record_job
    from pomdpbench.sweep import run_sweep
    from pomdpbench.sweep.display import SweepDisplay

    jobs = []
    for record in records:
        spec = get_agent_spec(record["agent"])
        if spec.version != record["agent_version"]:
            raise ConfigError(
                f"the submission ran {record['agent']} version {record['agent_version']}, this "
                f"installation has version {spec.version}: install that version to verify"
            )
        jobs.append(record_job(record, spec.entry_point))
    found: dict[str, tuple[list[tuple[int, float]], Any]] = {}
    with tempfile.TemporaryDirectory(prefix="pomdpbench-verify-") as scratch:
        store = Store.open(f"sqlite:///{Path(scratch) / 'verify.db'}")
        run_sweep(jobs, store, SweepDisplay(), workers=1)
        for job, record in zip(jobs, records, strict=True):
            summary = store.find(job.run_key)
            use_success = record["metric"] == "success"
            curve = [
                (step, float(success) if use_success and success is not None else mean)
                for step, mean, success in store.curve(job.run_key)
                if not (use_success and success is None)
            ]
            found[record["run_key"]] = (curve, summary)
        store.engine.dispose()
    return found


def verify(
    submission: dict[str, Any], count: int, seed: int, tolerance: float | None = None
) -> tuple[str, list[str], dict[str, Any]]:
    """Status (``verified``/``rejected``), reasons and evidence of re-running a sample."""
    chosen = choose(submission["runs"], count, seed)
    results = rerun(chosen)
    checks = []
    for record in chosen:
        curve, summary = results[record["run_key"]]
        if summary is None or summary.status != RunStatus.FINISHED:
            status = "missing" if summary is None else summary.status
            checks.append(
                RunCheck(
                    record["run_key"],
                    record["task"],
                    record["seed"],
                    "-",
                    0.0,
                    None,
                    None,
                    record["final_score"],
                    None,
                    False,
                    f"the re-run did not finish ({status})",
                )
            )
            continue
        checks.append(compare(record, curve, summary.final_score, tolerance))
    reasons = [f"{c.task} seed {c.seed}: {c.note or _differs(c)}" for c in checks if not c.passed]
    from pomdpbench.store.provenance import device_name, package_versions

    evidence = {
        "verified_at": datetime.now(timezone.utc).isoformat(),
        "runs_chosen": len(chosen),
        "runs_in_submission": len(submission["runs"]),
        "seed": seed,
        "device": device_name("cpu"),
        "python_version": platform.python_version(),
        "packages": package_versions(),
        "checks": [asdict(c) for c in checks],
    }
    return ("rejected" if reasons else "verified"), reasons, evidence


def _differs(check: RunCheck) -> str:
    if check.platform == "same":
        what, value = "an evaluation point", check.max_deviation
    else:
        what, value = "the final score", check.final_deviation
    shown = "-" if value is None else f"{value:.3g}"
    return (
        f"{what} differs from the submitted one by {shown} of the task's normalized range "
        f"(tolerance {check.tolerance}, {check.platform} platform)"
    )
