"""``pomdpbench diagnose action-variation`` (RESeL Fig. 3): the measurement and the command.

Fast tests on tiny RESeL agents check what the numbers mean (zero rates change nothing, the
agent under test is left as it was, the curve has one value per rollout step) and the
command's outputs and one-line errors. The slow test checks the paper's finding itself on a
policy trained here.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pomdpbench.diagnostics.action_variation import action_variation, check_probe
from pomdpbench.errors import ConfigError
from tests.test_resel_agent import make_agent, run_steps

TINY_CLI = [
    "--set",
    "pre_encoder_size=8",
    "--set",
    "encoder_hidden=[16]",
    "--set",
    "embedding_size=8",
    "--set",
    "mamba_state=4",
    "--set",
    "head_hidden=[16,16]",
    "--set",
    "learning_starts=60",
]


@pytest.mark.parametrize("agent_id", ["resel", "resel-gru"])
def test_variation_is_zero_at_zero_rates_and_the_agent_is_left_untouched(agent_id: str) -> None:
    agent = make_agent(agent_id, "Pendulum-V-v0")
    run_steps(agent, "Pendulum-V-v0", 300)
    inputs = agent.variation_inputs()
    before, valid = agent.policy_outputs(inputs)
    result = action_variation(agent, [(0.0, 0.0), (1e-2, 1e-2), (0.0, 1e-2)])
    assert set(result) == {(0.0, 0.0), (1e-2, 1e-2), (0.0, 1e-2)}
    assert len(result[(0.0, 0.0)]) == valid.shape[1]  # one value per rollout step
    assert np.all(result[(0.0, 0.0)] == 0.0)
    assert result[(1e-2, 1e-2)].mean() > 0.0
    # Only the encoder fixed: the heads still move the actions, but less than both together.
    assert 0.0 < result[(0.0, 1e-2)].mean() < result[(1e-2, 1e-2)].mean()
    after, _ = agent.policy_outputs(inputs)
    np.testing.assert_array_equal(after, before)  # every pair ran on a copy


def test_an_agent_without_the_interface_is_named_in_one_line() -> None:
    from pomdpbench.agents.offpolicy_zoo import SACMLP

    with pytest.raises(ConfigError, match="'sac-mlp' does not expose the action-variation"):
        check_probe(SACMLP, "sac-mlp")


def test_the_command_writes_the_curve_as_csv_and_png(cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "variation"
    result = cli(
        "diagnose",
        "action-variation",
        "--agent",
        "resel",
        "--task",
        "TMazePassive-10-v0",
        "--steps",
        "150",
        *TINY_CLI,
        "--out",
        str(out),
    )
    assert result.status == 0, result.err
    rows = list(csv.reader((out / "action_variation.csv").open()))
    assert rows[0] == [
        "rollout_step",
        "LR_CE=0.0003 LR_other=0.0003",
        "LR_CE=1e-05 LR_other=0.0003",
    ]
    assert len(rows) > 10 and all(float(v) >= 0.0 for row in rows[1:] for v in row[1:] if v)
    assert (out / "action_variation.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--agent", "sac-mlp"], "does not expose"),
        (["--agent", "resel", "--pair", "1e-5"], "write two rates"),
    ],
)
def test_the_command_fails_in_one_line(
    cli: Any, tmp_path: Path, args: list[str], message: str
) -> None:
    result = cli(
        "diagnose",
        "action-variation",
        "--task",
        "TMazePassive-10-v0",
        "--steps",
        "10",
        *args,
        "--out",
        str(tmp_path),
    )
    assert result.status == 2 and message in result.err and len(result.err.splitlines()) == 1


@pytest.mark.slow
def test_resels_rate_keeps_the_variation_flat_and_below_equal_rates(
    cli: Any, tmp_path: Path
) -> None:
    """RESeL Fig. 3 on a policy trained here (Pendulum-V, sanity settings, 3000 steps).

    The paper: with LR_CE = LR_other = 3e-4 the variation at rollout step 20 is about 4x that
    at step 0; with LR_CE = 1e-5 it stays flat. Asserted: RESeL's rate keeps it flat (steps
    18-22 <= 1.5x steps 0-2) and below the equal-rate variation. The amplification itself
    (>= 3x) did **not** show here (measured: equal rates 0.110 at steps 0-2, 0.098 at 18-22;
    LR_CE = 1e-5: 0.044 and 0.044; docs/resel.md), so it is an expected failure until it does.
    """
    out = tmp_path / "variation"
    result = cli(
        "diagnose",
        "action-variation",
        "--agent",
        "resel",
        "--task",
        "Pendulum-V-v0",
        "--steps",
        "3000",
        "--out",
        str(out),
    )
    assert result.status == 0, result.err
    rows = list(csv.reader((out / "action_variation.csv").open()))
    equal, resel = (np.array([float(row[i]) for row in rows[1:]]) for i in (1, 2))
    assert resel[18:23].mean() <= 1.5 * resel[:3].mean(), result.out
    assert equal[18:23].mean() > resel[18:23].mean(), result.out
    if equal[18:23].mean() < 3.0 * equal[:3].mean():
        pytest.xfail(f"no amplification along the rollout with equal rates: {result.out}")
