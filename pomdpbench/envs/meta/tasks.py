"""Entry points of the ``meta`` suite: task sets, train/test splits, trial shapes.

Trial shapes (FanmingL/Recurrent-Offpolicy-RL ``envs/pomdp_config.py:5-11`` and
``envs/meta/__init__.py:17-87``): the three MuJoCo tasks run k = 2 episodes of H = 200 steps per
task; Wind runs k = 1 episode of 75 steps.

Task sets and splits. The originals draw the train/test split (and HalfCheetahVel's targets)
from each run's seed, so every run of a paper saw different tasks. This benchmark fixes them
once, so that all runs face the same tasks:

* **AntDir**, **CheetahDir**: a fresh task per trial from two values, ``n_tasks=None`` in the
  originals ("unlimited tasks"): there is no held-out set, train and test draw from the same
  two tasks (as in pomdp-baselines' and RESeL's evaluation).
* **HalfCheetahVel**: 120 target velocities from U[0, 3] (``half_cheetah_vel.py:54``;
  ``pomdp_config.py:7``: 120 tasks, 100 train, 20 eval), drawn with ``RandomState(1337)`` (the
  seed the original leaves commented out in ``sample_tasks``, line 53): the first 100 train,
  the last 20 test.
* **Wind**: the original's 60 winds (``wind.wind_tasks``; 40 train, 20 eval,
  ``pomdp_config.py:11``): the first 40 train, the last 20 test.
"""

from __future__ import annotations

import numpy as np

from pomdpbench.envs.meta.locomotion import (
    ANT_DIR_GOALS,
    CHEETAH_DIRECTIONS,
    AntDirMDP,
    CheetahDirMDP,
    CheetahVelMDP,
)
from pomdpbench.envs.meta.trial import MetaTrialEnv, TaskMDP
from pomdpbench.envs.meta.wind import WindMDP, wind_tasks
from pomdpbench.errors import ConfigError

SPLITS = ("train", "test")
LOCOMOTION_EPISODES, LOCOMOTION_HORIZON = 2, 200
WIND_EPISODES, WIND_HORIZON = 1, 75
CHEETAH_VEL_TASKS, CHEETAH_VEL_TRAIN = 120, 100
WIND_TASKS, WIND_TRAIN = 60, 40


def cheetah_vel_targets() -> np.ndarray:
    """The 120 fixed target velocities of HalfCheetahVel (first 100 train, last 20 test)."""
    return np.random.RandomState(1337).uniform(0.0, 3.0, size=CHEETAH_VEL_TASKS)


def split_tasks(tasks: np.ndarray, train_count: int, split: str) -> np.ndarray:
    """The train rows (the first ``train_count``) or the test rows (the rest) of ``tasks``."""
    if split not in SPLITS:
        raise ConfigError(f"unknown task split {split!r}: use 'train' or 'test'")
    tasks = np.asarray(tasks, dtype=np.float64).reshape(len(tasks), -1)
    return tasks[:train_count] if split == "train" else tasks[train_count:]


def _both_splits(values: tuple[float, ...], split: str) -> np.ndarray:
    if split not in SPLITS:
        raise ConfigError(f"unknown task split {split!r}: use 'train' or 'test'")
    return np.asarray(values, dtype=np.float64).reshape(-1, 1)


def _locomotion_trial(
    mdp: TaskMDP, tasks: np.ndarray, stale_observation: bool, render_mode: str | None
) -> MetaTrialEnv:
    """A MuJoCo trial: two episodes of 200 steps per task."""
    return MetaTrialEnv(
        mdp,
        tasks,
        episodes_per_task=LOCOMOTION_EPISODES,
        horizon=LOCOMOTION_HORIZON,
        stale_observation=stale_observation,
        render_mode=render_mode,
    )


def ant_dir(
    split: str = "train",
    goals: tuple[float, ...] = ANT_DIR_GOALS,
    stale_observation: bool = False,
    render_mode: str | None = None,
) -> MetaTrialEnv:
    """AntDir: run along the direction at a hidden angle (radians) drawn from ``goals``."""
    tasks = _both_splits(tuple(goals), split)
    return _locomotion_trial(AntDirMDP(render_mode), tasks, stale_observation, render_mode)


def cheetah_dir(
    split: str = "train", stale_observation: bool = False, render_mode: str | None = None
) -> MetaTrialEnv:
    """CheetahDir: run forward or backward, whichever the hidden task rewards."""
    tasks = _both_splits(CHEETAH_DIRECTIONS, split)
    return _locomotion_trial(CheetahDirMDP(render_mode), tasks, stale_observation, render_mode)


def cheetah_vel(
    split: str = "train", stale_observation: bool = False, render_mode: str | None = None
) -> MetaTrialEnv:
    """HalfCheetahVel: run at a hidden target velocity of the split."""
    tasks = split_tasks(cheetah_vel_targets(), CHEETAH_VEL_TRAIN, split)
    return _locomotion_trial(CheetahVelMDP(render_mode), tasks, stale_observation, render_mode)


def wind(split: str = "train", render_mode: str | None = None) -> MetaTrialEnv:
    """Wind: reach and hold the goal against a hidden wind of the split."""
    tasks = split_tasks(wind_tasks(WIND_TASKS), WIND_TRAIN, split)
    return MetaTrialEnv(
        WindMDP(),
        tasks,
        episodes_per_task=WIND_EPISODES,
        horizon=WIND_HORIZON,
        render_mode=render_mode,
    )
