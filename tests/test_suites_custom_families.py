"""The suites credit, credit-cont, meta and memory: their tasks and smoke runs.

The registry contract of their tasks (spaces, privileged state, references, deviations,
Gymnasium's checker, seeding) is tests/test_registry.py's conformance test.
"""

from __future__ import annotations

import json

import pytest

import pomdpbench
from pomdpbench.record.vocabulary import RunStatus

SUITES = ("credit", "credit-cont", "meta", "memory")


def test_suites_have_the_issues_tasks():
    ids = {suite: [t.id for t in pomdpbench.list_tasks(suite)] for suite in SUITES}
    assert ids["credit"] == [f"KeyToDoor-{n}-v0" for n in (60, 120, 250, 500)]
    assert ids["credit-cont"] == [f"KeyToDoor-{n}-cont-v0" for n in (60, 120, 250, 500)]
    assert ids["meta"] == ["AntDir-v0", "CheetahDir-v0", "HalfCheetahVel-v0", "Wind-v0"]
    assert ids["memory"] == ["PointMassGoal-v0", "PointMassDoors-v0"]


@pytest.mark.parametrize("suite", ["credit", "meta", "memory"])
def test_random_smoke_run_of_the_suite_finishes_and_is_stored(cli, db_url, suite):
    result = cli("run", "--agent", "random", "--suite", suite, "--budget", "smoke", "--db", db_url)
    assert result.status == 0, result.err
    listed = cli("results", "--suite", suite, "--json", "--db", db_url)
    runs = json.loads(listed.out)
    tasks = {t.id for t in pomdpbench.list_tasks(suite)}
    assert {run["task"] for run in runs} == tasks
    assert all(run["status"] == RunStatus.FINISHED for run in runs)
    assert all(run["tier"] == "smoke" for run in runs)
