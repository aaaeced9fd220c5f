"""``pomdpbench run --agent ppo-*`` end to end: smoke runs of the robust and memory suites finish
and are stored for every PPO agent (about 28 minutes for all fourteen on two shared cores)."""

from __future__ import annotations

from typing import Any

import pytest
from smoke_suite_helpers import assert_smoke_suite_stored

PPO_AGENTS = (
    "ppo-mlp",
    "ppo-window-5",
    "ppo-window-32",
    "ppo-bptt-5",
    "ppo-bptt-32",
    "ppo-rs",
    "ppo-gru",
)


@pytest.mark.slow
@pytest.mark.parametrize("suite", ["robust", "memory"])
@pytest.mark.parametrize("agent", PPO_AGENTS)
def test_smoke_runs_of_a_suite_finish_and_are_stored(
    agent: str, suite: str, cli: Any, db_url: str
) -> None:
    assert_smoke_suite_stored(cli, db_url, agent, suite, "--threads", "1")
