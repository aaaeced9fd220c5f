"""Read suite definitions from TOML files into specs.

One file per suite (``tasks/<suite>.toml``). A file has a ``[suite]`` table, an optional
``[defaults]`` table merged under every task, and one ``[[task]]`` table per task. The full
tier's ``budget``/``eval_every``/``eval_episodes`` sit directly in the task; ``short`` defaults
to a tenth of the full budget; ``smoke`` comes from ``[defaults.smoke]`` or the task. See
docs/tasks.md for the complete schema.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pomdpbench.errors import ConfigError
from pomdpbench.record.vocabulary import Tier
from pomdpbench.registry.specs import TIERS, ReferenceScore, SuiteSpec, TaskSpec, TierProtocol

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

_TASK_KEYS = {
    "id",
    "entry_point",
    "kwargs",
    "eval_kwargs",
    "max_episode_steps",
    "metric",
    "observation_size",
    "action_space",
    "simulator",
    "simulator_package",
    "description",
    "source",
    "references",
    "deviations",
    "privileged",
    "deterministic_eval",
    "final_fraction",
    "score_at",
    "metadata",
    "budget",
    "eval_every",
    "eval_episodes",
    "short",
    "smoke",
}
_SUITE_KEYS = {"id", "description", "metric", "source", "notes", "seeds"}
_TIER_KEYS = {"budget", "eval_every", "eval_episodes"}


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file, turning syntax errors into one-line :class:`ConfigError`."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: malformed TOML ({exc}): fix the file") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None


def load_suite_file(path: Path) -> tuple[SuiteSpec, list[TaskSpec]]:
    """Read one suite file into its suite spec and task specs (nothing is registered)."""
    data = read_toml(path)
    where = str(path)
    suite_table = _table(data, "suite", where)
    _check_keys(suite_table, _SUITE_KEYS, f"{where} [suite]")
    defaults = dict(data.get("defaults", {}))
    raw_tasks = data.get("task", [])
    if not isinstance(raw_tasks, list) or not raw_tasks:
        raise ConfigError(f"{where}: a suite needs at least one [[task]] table")
    suite_id = _required(suite_table, "id", where)
    metric = suite_table.get("metric", "return")
    tasks = [
        _task_spec(_merge(defaults, raw), suite_id, metric, f"{where} task {raw.get('id', i)!r}")
        for i, raw in enumerate(raw_tasks)
    ]
    seeds_table = suite_table.get("seeds", {})
    seeds = {tier: tuple(int(s) for s in seeds_table.get(tier, (0,))) for tier in TIERS}
    suite = SuiteSpec(
        id=suite_id,
        description=suite_table.get("description", ""),
        metric=metric,
        tasks=tuple(task.id for task in tasks),
        seeds=seeds,
        source=suite_table.get("source", ""),
        notes=suite_table.get("notes", ""),
    )
    return suite, tasks


def _merge(defaults: Mapping[str, Any], task: Mapping[str, Any]) -> dict[str, Any]:
    """A task's keys over the defaults, merging tables (references, kwargs, smoke) by key.

    So a task that sets ``references.random`` keeps a default ``references.target``.
    """
    merged = dict(defaults)
    for key, value in task.items():
        base = merged.get(key)
        if isinstance(base, Mapping) and isinstance(value, Mapping):
            merged[key] = {**base, **value}
        else:
            merged[key] = value
    return merged


def _task_spec(raw: Mapping[str, Any], suite: str, metric: str, where: str) -> TaskSpec:
    _check_keys(raw, _TASK_KEYS, where)
    full = TierProtocol(
        budget=int(_required(raw, "budget", where)),
        eval_every=int(_required(raw, "eval_every", where)),
        eval_episodes=int(_required(raw, "eval_episodes", where)),
    )
    tiers = {
        Tier.FULL: full,
        Tier.SHORT: _tier(raw.get("short"), _short_default(full), f"{where} short"),
        Tier.SMOKE: _tier(raw.get("smoke"), None, f"{where} smoke"),
    }
    references = {
        name: ReferenceScore(score=float(ref["score"]), source=str(ref["source"]))
        for name, ref in raw.get("references", {}).items()
    }
    try:
        return TaskSpec(
            id=_required(raw, "id", where),
            suite=suite,
            entry_point=_required(raw, "entry_point", where),
            max_episode_steps=int(_required(raw, "max_episode_steps", where)),
            metric=raw.get("metric", metric),
            observation_size=int(_required(raw, "observation_size", where)),
            action_space=_required(raw, "action_space", where),
            tiers=tiers,
            simulator=_required(raw, "simulator", where),
            simulator_package=_required(raw, "simulator_package", where),
            description=raw.get("description", ""),
            source=raw.get("source", ""),
            kwargs=dict(raw.get("kwargs", {})),
            eval_kwargs=dict(raw.get("eval_kwargs", {})),
            references=references,
            deviations=tuple(raw.get("deviations", ())),
            privileged=raw.get("privileged"),
            deterministic_eval=bool(raw.get("deterministic_eval", True)),
            final_fraction=float(raw.get("final_fraction", 0.05)),
            score_at=tuple(int(s) for s in raw.get("score_at", ())),
            metadata=dict(raw.get("metadata", {})),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _short_default(full: TierProtocol) -> TierProtocol:
    """A tenth of the full budget, keeping at least ten evaluations."""
    budget = max(1, full.budget // 10)
    return TierProtocol(
        budget=budget,
        eval_every=max(1, min(full.eval_every, budget // 10)),
        eval_episodes=full.eval_episodes,
    )


def _tier(raw: Any, default: TierProtocol | None, where: str) -> TierProtocol:
    if raw is None:
        if default is None:
            raise ConfigError(f"{where}: missing budget, eval_every and eval_episodes")
        return default
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: expected a table with {', '.join(sorted(_TIER_KEYS))}")
    _check_keys(raw, _TIER_KEYS, where)
    base = {} if default is None else default.__dict__
    merged = {**base, **raw}
    try:
        return TierProtocol(**{key: int(merged[key]) for key in _TIER_KEYS})
    except KeyError as exc:
        raise ConfigError(f"{where}: missing {exc.args[0]}") from None
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _table(data: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = data.get(key)
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: missing [{key}] table")
    return value


def _required(data: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in data:
        raise ConfigError(f"{where}: missing required key {key!r}")
    return data[key]


def _check_keys(data: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}"
        )
