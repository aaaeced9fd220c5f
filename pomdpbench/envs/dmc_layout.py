"""Where each quantity sits in the flattened observation of the DeepMind Control tasks used here.

dm_control returns an ordered dict of named arrays per step; the flattened observation is those
arrays raveled and concatenated in the task's own order (``get_observation`` of each
``dm_control/suite/<domain>.py``), which is what ``dmc2gym``'s ``_flatten_obs`` gives and so
what RESeL's ``envs/yang_domains`` tasks (FanmingL/Recurrent-Offpolicy-RL) saw. The groups
below name slices of that flat vector so that a suite file says which parts a policy sees, as
the MuJoCo suites do (:mod:`pomdpbench.envs.mujoco_layout`).

Most groups are whole dm_control keys (``dmc2gym``'s ``keys_to_exclude`` works on keys).
Quadruped's ``egocentric_state`` mixes positions and velocities (``np.hstack`` of the hinge
``qpos``, the hinge ``qvel`` and the actuator activations ``act``, dm_control
``suite/quadruped.py`` ``Physics.egocentric_state``), so it is split into three groups, and its
``imu`` into the accelerometer and the gyro (``imu_accel``, ``imu_gyro`` sensors of
``quadruped.xml``). Sizes were read from dm-control 1.0.50's ``observation_spec()``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pomdpbench.errors import ConfigError

Slice = tuple[int, int]

OBSERVATION_GROUPS: Mapping[str, Mapping[str, Slice]] = {
    # cartpole.py: position = (cart x, cos, sin) of the bounded pole angle; velocity = qvel.
    "cartpole-balance": {"position": (0, 3), "velocity": (3, 5)},
    "cartpole-swingup": {"position": (0, 3), "velocity": (3, 5)},
    # acrobot.py: orientations = (cos, sin) of both links' angles; velocity = qvel.
    "acrobot-swingup": {"orientations": (0, 4), "velocity": (4, 6)},
    # walker.py: orientations = xz entries of every body's frame, height = torso z, velocity = qvel.
    "walker-walk": {"orientations": (0, 14), "height": (14, 15), "velocity": (15, 24)},
    "walker-run": {"orientations": (0, 14), "height": (14, 15), "velocity": (15, 24)},
    # cheetah.py: position = qpos[1:] (the x coordinate is left out), velocity = qvel.
    "cheetah-run": {"position": (0, 8), "velocity": (8, 17)},
    # quadruped.py _common_observations: egocentric_state (16 + 16 + 12), torso_velocity (3),
    # torso_upright (1), imu (3 + 3), force_torque (4 toe force sensors, then 4 toe torque
    # sensors, 3 entries each: 24).
    "quadruped-walk": {
        "joint_positions": (0, 16),
        "joint_velocities": (16, 32),
        "actuator_activations": (32, 44),
        "torso_velocity": (44, 47),
        "torso_upright": (47, 48),
        "imu_accelerometer": (48, 51),
        "imu_gyro": (51, 54),
        "force_torque": (54, 78),
    },
}
"""Per ``<domain>-<task>``, each observation group's ``[start, stop)`` in the flat observation."""


def groups_of(domain_task: str) -> Mapping[str, Slice]:
    """The observation groups of ``domain_task`` (e.g. ``"walker-walk"``).

    Raises:
        ConfigError: if the task has no known layout.
    """
    try:
        return OBSERVATION_GROUPS[domain_task]
    except KeyError:
        known = ", ".join(OBSERVATION_GROUPS)
        raise ConfigError(
            f"no observation layout for dm_control task {domain_task!r}: use one of {known}"
        ) from None


def flat_size(domain_task: str) -> int:
    """Length of the whole flattened observation of ``domain_task``."""
    return max(stop for _, stop in groups_of(domain_task).values())


def observation_indices(domain_task: str, groups: Iterable[str]) -> list[int]:
    """Indices of the flat observation that make up ``groups``, in the flat order.

    Raises:
        ConfigError: on a group name the layout does not have, or no group at all.
    """
    layout = groups_of(domain_task)
    wanted = list(groups)
    unknown = [name for name in wanted if name not in layout]
    if unknown or not wanted:
        names = ", ".join(layout)
        raise ConfigError(f"observe {wanted} for {domain_task}: choose groups among {names}")
    return [i for name in layout if name in wanted for i in range(*layout[name])]
