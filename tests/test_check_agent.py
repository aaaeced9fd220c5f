"""``pomdpbench check-agent``: passes on honest agents, fails with the right line on broken ones.

The broken agents (tests/helper_check_agents.py) each break one promise of the protocol; the
command must name the check that catches it and exit 1. Bad input exits 2 with one line.
"""

from __future__ import annotations

import pytest
from conftest import CliResult

from pomdpbench.cli.check_cmd import DEFAULT_TASKS

BOX, DISCRETE = DEFAULT_TASKS
FAST = ("--steps", "30")


def lines(result: CliResult, status: str) -> dict[str, str]:
    """The checks printed with ``status`` (PASS, FAIL or SKIP): name -> reason."""
    found = {}
    for line in result.out.splitlines():
        words = line.split(None, 1)
        if words and words[0] == status:
            name, reason = words[1][:21].strip(), words[1][21:].strip()
            found[name] = reason
    return found


def test_a_shipped_agent_passes_on_both_default_tasks(cli: object) -> None:
    result = cli("check-agent", "random", *FAST)  # type: ignore[operator]
    assert result.status == 0, result.out + result.err
    assert result.out.count("PASS") == 16 and "FAIL" not in result.out  # 8 checks x 2 tasks
    assert f"random on {BOX}" in result.out and f"random on {DISCRETE}" in result.out
    assert "all checks passed on 2 task(s)" in result.out


@pytest.mark.parametrize("agent", ["helper_agents:Recorder", "helper_check_agents:Tiny"])
def test_a_plugin_agent_passes(cli: object, agent: str) -> None:
    result = cli("check-agent", agent, "--task", BOX, *FAST)  # type: ignore[operator]
    assert result.status == 0, result.out + result.err
    assert len(lines(result, "PASS")) == 8


@pytest.mark.parametrize(
    ("agent", "check", "words"),
    [
        ("KeepsMemory", "episode reset", "inp.episode_start"),
        ("Unseeded", "determinism", "seed every generator from ctx.seed"),
        ("ForgetfulLoad", "round trip", "loaded from the checkpoint"),
        ("WrongShape", "spaces", "shape (3,)"),
        ("LearnsFromEvaluation", "evaluation isolation", "depends on what it saw"),
    ],
)
def test_a_broken_agent_fails_the_check_that_names_its_fault(
    cli: object, agent: str, check: str, words: str
) -> None:
    result = cli("check-agent", f"helper_check_agents:{agent}", "--task", BOX, *FAST)  # type: ignore[operator]
    assert result.status == 1, result.out + result.err
    failed = lines(result, "FAIL")
    assert check in failed and words in failed[check], result.out
    assert "check(s) failed" in result.out


def test_the_honest_base_agent_passes_what_its_broken_variants_fail(cli: object) -> None:
    """The broken agents fail because of their fault, not of the base they share."""
    result = cli("check-agent", "helper_check_agents:Tiny", "--task", DISCRETE, *FAST)  # type: ignore[operator]
    assert result.status == 0 and len(lines(result, "PASS")) == 8, result.out


def test_a_wrong_discrete_action_fails_spaces_and_skips_the_rest(cli: object) -> None:
    result = cli("check-agent", "helper_check_agents:WrongShape", "--task", DISCRETE, *FAST)  # type: ignore[operator]
    assert result.status == 1
    assert "Discrete(4) needs an integer" in lines(result, "FAIL")["spaces"]
    assert lines(result, "SKIP")["round trip"] == "not run: needs spaces to pass"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("no-such-agent",), "unknown agent 'no-such-agent'"),
        (("random", "--task", "NoSuchTask-v0"), "unknown task 'NoSuchTask-v0'"),
        (("random", "--set", "lr"), "write it as --set key=value"),
        (("random", "--set", "lr=1"), "unknown hyperparameter"),
        (("random", "--steps", "1"), "--steps must be at least 2"),
        (("td3-mlp", "--task", DISCRETE), "Discrete"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(cli: object, args: tuple[str, ...], message: str) -> None:
    result = cli("check-agent", *args)  # type: ignore[operator]
    assert result.status == 2, result.out + result.err
    assert message in result.err and len(result.err.strip().splitlines()) == 1
    assert "Traceback" not in result.err


def test_a_default_task_the_agent_refuses_is_reported_not_checked(cli: object) -> None:
    result = cli("check-agent", "td3-mlp", "--set", "hidden_sizes=[8]", *FAST)  # type: ignore[operator]
    assert f"td3-mlp on {DISCRETE}: not checked:" in result.out
    assert result.status == 0, result.out + result.err
    assert "all checks passed on 1 task(s)" in result.out
