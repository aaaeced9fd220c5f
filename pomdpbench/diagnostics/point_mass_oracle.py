"""Scripted oracles for the point-mass tasks: the ``target`` reference scores of ``memory``.

S2PG's point-mass results exist only as figures (App. E.1, Fig. 7-8, not legible in the text
we have), so the ``target`` score of each memory task is what an agent that *observes the task
parameters* earns: these controllers read the privileged state (true goal or door positions)
and steer straight at the goal, or through the middle of each door. They are near-optimal
(the point moves at a fixed 1.8 units per step, so the best it can do at the goal is to
oscillate around it).

Measure (same episode seeds as ``pomdpbench reference``)::

    python -m pomdpbench.diagnostics.point_mass_oracle --episodes 100 --seed 0

It lives with the diagnostics (tools that run an agent through the harness's evaluation to
measure something), not with the environments it plays; ``pomdpbench.envs.point_mass_oracle``
stays as a forwarding module for the command recorded in older task specs.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from pomdpbench.agents.protocol import AgentInput, Transition
from pomdpbench.envs.point_mass import DOOR_GOAL, DOOR_WIDTH, WALL_HEIGHTS
from pomdpbench.harness.actions import ActionEncoder
from pomdpbench.harness.evaluation import evaluate
from pomdpbench.registry import get_task, make_env

_ALIGNED = 3.0  # close enough to a door's centre line to go straight through it
_BELOW, _ABOVE = 8.0, 6.0  # waypoints before and after a wall, distance from its height
_UP = -0.5  # the action of heading pi / 2


def action_towards(position: np.ndarray, target: np.ndarray | tuple[float, float]) -> float:
    """The action whose heading points from ``position`` to ``target``."""
    dx, dy = np.asarray(target, dtype=np.float64) - position
    phi = float(np.arctan2(dy, dx)) % (2.0 * np.pi)
    return phi / np.pi - 1.0


def goal_oracle(state: np.ndarray) -> float:
    """Head for the true goal ``state[2:4]``."""
    return action_towards(state[:2], state[2:4])


def doors_oracle(state: np.ndarray) -> float:
    """Go below each door's centre, straight up through it, then to the goal."""
    position = state[:2].astype(np.float64)
    x, y = position
    for height, door in zip(WALL_HEIGHTS, state[2:4], strict=True):
        if y < height + _ABOVE:
            centre = float(door) + DOOR_WIDTH / 2.0
            if abs(x - centre) <= _ALIGNED and y >= height - _BELOW - 2.0:
                return _UP
            return action_towards(position, (centre, height - _BELOW))
    return action_towards(position, DOOR_GOAL)


ORACLES: dict[str, Callable[[np.ndarray], float]] = {
    "PointMassGoal-v0": goal_oracle,
    "PointMassDoors-v0": doors_oracle,
}


class ScriptedOracle:
    """An agent (the harness protocol) that plays a controller on the privileged state."""

    wants_privileged = True

    def __init__(self, controller: Callable[[np.ndarray], float]) -> None:
        self.controller = controller

    def initial_state(self) -> None:
        """Memoryless."""
        return None

    def act(self, inp: AgentInput, state: None, deterministic: bool) -> tuple[Any, None]:
        """The controller's action for the true task parameters."""
        if inp.privileged is None:
            raise ValueError("the scripted oracle needs the privileged state")
        return np.array([self.controller(inp.privileged)], dtype=np.float32), None

    def observe(self, transition: Transition) -> None:
        """Nothing to learn."""

    def update(self) -> dict[str, float]:
        """Nothing to learn."""
        return {}

    def save(self, directory: Path) -> None:
        """Nothing to save."""

    def load(self, directory: Path) -> None:
        """Nothing to load."""


def measure_oracle(task_id: str, episodes: int, seed: int) -> dict[str, float]:
    """Mean return and success of the scripted oracle on the task's evaluation env."""
    task = get_task(task_id)
    env = make_env(task.id, **task.eval_kwargs)
    result = evaluate(
        ScriptedOracle(ORACLES[task.id]),
        env,
        env_step=0,
        episodes=episodes,
        seed=seed,
        eval_index=0,
        deterministic=True,
        encoder=ActionEncoder(env.action_space),
        privileged=True,
    )
    env.close()
    return {"return": result.mean_return, "success": result.success_rate or 0.0}


def main(argv: list[str] | None = None) -> None:
    """Print the oracle's mean return and success per point-mass task."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    for task_id in ORACLES:
        figures = measure_oracle(task_id, args.episodes, args.seed)
        print(f"{task_id}: return {figures['return']:.1f}, success {figures['success']:.2f}")


if __name__ == "__main__":  # importing pomdpbench (above) registered the tasks
    main()
