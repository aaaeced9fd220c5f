"""Action variation after one gradient step (RESeL Sec. 5.1, Fig. 3).

RESeL's argument for a context-encoder-specific learning rate: one gradient step changes a
recurrent policy's output more and more along a rollout, because the change of the hidden
state compounds (Proposition 1), so at equal learning rates the change at rollout step 20 is
several times the change at step 0; with the encoder's rate at 1e-5 it stays flat. The paper
measures it on a trained policy: the mean absolute change of the policy's action, per rollout
step, between before and after one update, on the same input sequences.

Here any agent that implements :class:`ActionVariationProbe` can be measured: it hands out
input sequences from its own replay data, its policy's outputs on them, and takes one policy
update with given rates. :func:`action_variation` runs each ``(LR_CE, LR_other)`` pair on a
copy of the agent (the same batch and the same sampling noise for every pair), so the pairs
are compared from the same trained state.
"""

from __future__ import annotations

import copy
import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch

from pomdpbench.errors import ConfigError

PAPER_PAIRS: tuple[tuple[float, float], ...] = ((3e-4, 3e-4), (1e-5, 3e-4))
"""``(LR_CE, LR_other)`` of RESeL Fig. 3's recurrent curves: equal rates (brown circles) and
RESeL's encoder rate (purple diamonds), both with the policy rate 3e-4 of Sec. 5.1."""


@runtime_checkable
class ActionVariationProbe(Protocol):
    """What an agent exposes to be measured (optional; RESeL's three encoders implement it)."""

    def variation_inputs(self) -> Any:
        """A fixed batch of input sequences (whole trajectories from the agent's replay)."""
        ...

    def policy_outputs(self, inputs: Any) -> tuple[np.ndarray, np.ndarray]:
        """Deterministic actions ``(sequences, steps, dims)`` and the mask of real steps.

        For discrete actions, the action probabilities. Step ``t`` is the ``t``-th step of each
        trajectory; the mask is ``(sequences, steps)``.
        """
        ...

    def policy_gradient_step(self, encoder_lr: float, other_lr: float) -> None:
        """One policy update on a batch of the agent's replay, with the given rates.

        The policy's context encoder at ``encoder_lr``, the rest of the policy at ``other_lr``
        (the agent's own optimizer and its moment estimates).
        """
        ...


def check_probe(agent: Any, agent_id: str) -> ActionVariationProbe:
    """``agent`` as a probe, or a one-line error saying that it is not one."""
    if not isinstance(agent, ActionVariationProbe):
        raise ConfigError(
            f"agent {agent_id!r} does not expose the action-variation interface "
            "(variation_inputs, policy_outputs, policy_gradient_step; "
            "pomdpbench.diagnostics.action_variation.ActionVariationProbe): "
            "choose an agent that does, e.g. resel, resel-gru or resel-transformer"
        )
    return agent


def action_variation(
    agent: ActionVariationProbe, pairs: Sequence[tuple[float, float]], seed: int = 0
) -> dict[tuple[float, float], np.ndarray]:
    """Mean absolute action change per rollout step after one update, for each rate pair.

    Returns, per ``(LR_CE, LR_other)``, an array over rollout steps (steps that no sequence
    reaches are dropped): the change averaged over action dimensions and sequences.
    """
    inputs = agent.variation_inputs()
    before, valid = agent.policy_outputs(inputs)
    reached = valid.any(0)
    counts = valid.sum(0)[reached]
    result: dict[tuple[float, float], np.ndarray] = {}
    for encoder_lr, other_lr in pairs:
        probe = copy.deepcopy(agent)
        torch.manual_seed(seed)  # the same policy noise in every pair's update
        probe.policy_gradient_step(encoder_lr, other_lr)
        after, _ = probe.policy_outputs(inputs)
        change = np.abs(after - before).mean(-1) * valid
        result[(encoder_lr, other_lr)] = change.sum(0)[reached] / counts
    return result


def write_outputs(
    result: dict[tuple[float, float], np.ndarray], out_dir: Path, title: str
) -> tuple[Path, Path]:
    """``action_variation.csv`` (one row per rollout step) and ``action_variation.png``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    names = [f"LR_CE={ce:g} LR_other={other:g}" for ce, other in result]
    curves = list(result.values())
    steps = max(len(curve) for curve in curves)
    csv_path = out_dir / "action_variation.csv"
    with csv_path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["rollout_step", *names])
        for t in range(steps):
            writer.writerow([t, *(f"{c[t]:.6g}" if t < len(c) else "" for c in curves)])
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6, 4))
    for name, curve in zip(names, curves, strict=True):
        axis.plot(np.arange(len(curve)), curve, label=name)
    axis.set_xlabel("rollout step")
    axis.set_ylabel("mean |action change| after one update")
    axis.set_title(title)
    axis.legend()
    figure.tight_layout()
    png_path = out_dir / "action_variation.png"
    figure.savefig(png_path, dpi=120)
    plt.close(figure)
    return csv_path, png_path
