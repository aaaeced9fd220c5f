"""``pomdpbench run --agent resel`` end to end: smoke runs of whole suites finish and are stored."""

from __future__ import annotations

from typing import Any

import pytest
from smoke_suite_helpers import assert_smoke_suite_stored


@pytest.mark.slow
@pytest.mark.parametrize(
    ("agent", "suite"),
    [
        ("resel", "diagnostic"),
        ("resel", "sanity"),
        ("resel-gru", "diagnostic"),
        ("resel-transformer", "diagnostic"),
    ],
)
def test_smoke_runs_of_a_suite_finish_and_are_stored(
    agent: str, suite: str, cli: Any, db_url: str
) -> None:
    assert_smoke_suite_stored(cli, db_url, agent, suite, "--threads", "1")
