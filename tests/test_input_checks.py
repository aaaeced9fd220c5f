"""Bad input is refused before any run starts, in one line (reproductions 4, 5 and 7 of issue 11)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pomdpbench.agents.config import at_least, build_config, fraction, in_range, positive
from pomdpbench.errors import ConfigError


def one_line_error(result: Any, *fragments: str) -> str:
    assert result.status == 2, (result.out, result.err)
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


@dataclass(frozen=True)
class Example:
    lr: float = field(default=1e-3, metadata=positive())
    gamma: float = field(default=0.99, metadata=fraction())
    sizes: tuple[int, ...] = field(default=(8, 8), metadata=at_least(1))
    clip: float = field(default=0.5, metadata=in_range(0, 1, high_open=True))
    free: float = -3.0


@dataclass(frozen=True)
class Derived(Example):
    lr: float = 0.5  # a new default keeps the base class's range


def test_ranges_declared_as_field_metadata() -> None:
    assert build_config(Example, {"lr": 2, "sizes": [4]}, "x") == Example(lr=2.0, sizes=(4,))
    cases = [
        ({"lr": 0.0}, "lr=0.0 of agent 'x' is out of range: it must be > 0"),
        ({"gamma": 1.5}, "gamma=1.5 of agent 'x' is out of range: it must be in [0, 1]"),
        (
            {"sizes": [8, 0]},
            "sizes=(8, 0) (element 0) of agent 'x' is out of range: it must be >= 1",
        ),
        ({"clip": 1.0}, "must be in [0, 1)"),
        ({"lr": float("nan")}, "lr=nan"),
    ]
    for values, message in cases:
        with pytest.raises(
            ConfigError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")
        ):
            build_config(Example, values, "x")
    assert build_config(Example, {"free": -1e9}, "x").free == -1e9  # no range declared
    with pytest.raises(ConfigError, match="lr=-1.0"):
        build_config(Derived, {"lr": -1.0}, "x")


@pytest.mark.parametrize(
    ("setting", "fragments"),
    [
        ("batch_size=-1", ("batch_size=-1", "'sac-mlp'", "must be >= 1")),
        ("actor_lr=-1", ("actor_lr=-1.0", "must be >= 0")),  # 0 freezes a network
        ("buffer_size=0", ("buffer_size=0", "must be >= 1")),
        ("gamma=1.5", ("gamma=1.5", "in [0, 1]")),
        ("hidden_sizes=[64, 0]", ("hidden_sizes=(64, 0)", "element 0")),
    ],
)
def test_out_of_range_settings_are_refused_before_anything_runs(
    cli: Any, workdir: Path, setting: str, fragments: tuple[str, ...]
) -> None:
    result = cli(
        "run",
        "--agent",
        "sac-mlp",
        "--task",
        "Pendulum-V-v0",
        "--steps",
        "50",
        "--set",
        setting,
        "--db",
        f"sqlite:///{workdir / 'r.db'}",
    )
    one_line_error(result, *fragments, "out of range")
    assert not (workdir / "r.db").exists()  # nothing ran, nothing was written


def test_resel_declares_its_ranges(cli: Any, workdir: Path) -> None:
    result = cli(
        "run",
        "--agent",
        "resel",
        "--task",
        "HopperBLT-P-v0",
        "--set",
        "policy_encoder_lr=0",
        "--db",
        f"sqlite:///{workdir / 'r.db'}",
    )
    one_line_error(result, "policy_encoder_lr=0.0", "'resel'", "must be > 0")


@pytest.mark.parametrize(
    ("module", "source", "fragments"),
    [
        (
            "syntax_agent",
            "def broken(:\n",
            ("has a syntax error at", "syntax_agent.py:1", "fix the file"),
        ),
        (
            "raising_agent",
            "raise RuntimeError('no GPU here')\n",
            ("raised RuntimeError: no GPU here",),
        ),
    ],
)
def test_a_plugin_module_that_fails_to_import_is_one_line(
    cli: Any, workdir: Path, module: str, source: str, fragments: tuple[str, ...]
) -> None:
    (workdir / f"{module}.py").write_text(source)
    result = cli(
        "run",
        "--agent",
        f"{module}:Agent",
        "--task",
        "Pendulum-V-v0",
        "--steps",
        "10",
        "--db",
        f"sqlite:///{workdir / 'r.db'}",
    )
    one_line_error(result, module, *fragments)


def test_sweep_exit_status_names_the_runs_that_did_not_finish(cli: Any, db_url: str) -> None:
    result = cli(
        "run",
        "--agent",
        "helper_agents:Recorder",
        "--task",
        "CartPole-V-v0",
        "--steps",
        "30",
        "--seeds",
        "0",
        "1",
        "--set",
        "fail_at=5",
        "--db",
        db_url,
    )
    assert result.status == 1  # was 0 only when nothing failed; interrupted runs exited 0 too
    assert "2 of 2 runs did not finish (2 failed)" in result.err
    ok = cli("run", "--agent", "random", "--task", "CartPole-V-v0", "--steps", "30", "--db", db_url)
    assert ok.status == 0, ok.err
    again = cli(
        "run", "--agent", "random", "--task", "CartPole-V-v0", "--steps", "30", "--db", db_url
    )
    assert again.status == 0 and "1 skipped (already finished)" in again.err


def test_a_protocol_override_is_shown_and_never_pooled(cli: Any, db_url: str) -> None:
    from pomdpbench.store import queries as query
    from pomdpbench.store.database import open_engine

    base = ("run", "--agent", "random", "--task", "CartPole-V-v0", "--budget", "smoke")
    assert cli(*base, "--db", db_url).status == 0
    assert cli(*base, "--eval-episodes", "1", "--db", db_url).status == 0
    runs = json.loads(cli("results", "--json", "--db", db_url).out)
    assert sorted((r["tier"], r["protocol_override"] or "") for r in runs) == [
        ("smoke", ""),
        ("smoke", "eval_episodes=1"),
    ]
    table = cli("results", "--db", db_url).out
    assert "eval_episodes=1" in table and "suite" in table
    pooled = query.suite_runs(open_engine(db_url, create=False), "sanity", "smoke")
    assert len(pooled) == 1  # the leaderboard and report see the suite's protocol only
