"""Where each quantity sits in the observation of Gymnasium's MuJoCo ``-v4`` locomotion tasks.

The physics suites (``gravity``, ``robust``, ``mdp``) name the parts of the observation a policy
sees by group, as S2PG does with its ``obs_to_hide`` tuples (robfiras/s2pg
``s2pg/environments/gym_mujoco_pomdp/{half_cheetah,hopper,walker2d,ant,humanoid}_v3.py``,
``_get_obs`` and ``get_mask``); the group names are S2PG's. The slices below are the layouts
of Gymnasium 1.x ``{half_cheetah,hopper,walker2d,ant,humanoid}_v4.py`` ``_get_obs``, which
are the layouts of gym's mujoco-py ``-v2``/``-v3`` environments the papers ran:

* HalfCheetah, Walker2d: ``qpos[1:]`` (8) then ``qvel`` (9); Hopper: ``qpos[1:]`` (5) then
  ``qvel`` (6). Hopper and Walker2d clip the velocities to [-10, 10].
* Ant: ``qpos[2:]`` (13), ``qvel`` (14), then with ``use_contact_forces=True`` the clipped
  ``cfrc_ext`` of its 14 bodies (84). The tasks here build Ant without them (see below).
* Humanoid: ``qpos[2:]`` (22), ``qvel`` (23), ``cinert`` (140), ``cvel`` (84),
  ``qfrc_actuator`` (23), ``cfrc_ext`` (84): 376 entries.

Contact forces: under mujoco-py 2.x (MuJoCo 2.x), which both papers used, ``cfrc_ext`` is never
computed and these entries are always zero (openai/gym#1541, #1711; reference notes
notes-s2pg-code.md section 3). Gymnasium's ``MujocoEnv`` calls ``mj_rnePostConstraint`` after
every step, so here they are real forces. To keep what the papers' policies and critics saw,
the tasks leave them out: Ant is built with ``use_contact_forces=False`` (27 entries, and no
contact cost in the reward, which was zero in the papers too) and Humanoid observes every group
but ``external_contact_forces`` (292 entries; Humanoid-v4's reward has no contact cost).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pomdpbench.errors import ConfigError

Slice = tuple[int, int]

OBSERVATION_GROUPS: Mapping[str, Mapping[str, Slice]] = {
    "HalfCheetah-v4": {"positions": (0, 8), "velocities": (8, 17)},
    "Hopper-v4": {"positions": (0, 5), "velocities": (5, 11)},
    "Walker2d-v4": {"positions": (0, 8), "velocities": (8, 17)},
    "Ant-v4": {"positions": (0, 13), "velocities": (13, 27), "contact_forces": (27, 111)},
    "Humanoid-v4": {
        "positions": (0, 22),
        "velocities": (22, 45),
        "com_inertia": (45, 185),
        "com_velocity": (185, 269),
        "actuator_forces": (269, 292),
        "external_contact_forces": (292, 376),
    },
}
"""Per base id, each observation group's ``[start, stop)`` in the base observation."""

CONTACT_GROUPS = frozenset({"contact_forces", "external_contact_forces"})
"""Groups that were all zero in the papers' simulator and are never observed here."""


def groups_of(base_id: str) -> Mapping[str, Slice]:
    """The observation groups of ``base_id``.

    Raises:
        ConfigError: if the base environment has no known layout.
    """
    try:
        return OBSERVATION_GROUPS[base_id]
    except KeyError:
        known = ", ".join(OBSERVATION_GROUPS)
        raise ConfigError(f"no observation layout for {base_id!r}: use one of {known}") from None


def default_groups(base_id: str) -> tuple[str, ...]:
    """Every group of ``base_id`` except the contact forces (the papers' full observation)."""
    return tuple(name for name in groups_of(base_id) if name not in CONTACT_GROUPS)


def observation_indices(base_id: str, groups: Iterable[str]) -> list[int]:
    """Indices of the base observation that make up ``groups``, in the base order.

    Raises:
        ConfigError: on a group name the layout does not have.
    """
    layout = groups_of(base_id)
    wanted = list(groups)
    unknown = [name for name in wanted if name not in layout]
    if unknown or not wanted:
        names = ", ".join(layout)
        raise ConfigError(f"observe {wanted} for {base_id}: choose groups among {names}")
    return [i for name in layout if name in wanted for i in range(*layout[name])]
