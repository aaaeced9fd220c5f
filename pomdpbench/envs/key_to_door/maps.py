"""The maps, colours, phase lengths and rewards of Key-to-Door, as data.

Every constant here comes from the pycolab game that Memory-RL ported from DeepMind's TVT and
that RESeL ships unchanged (paths in FanmingL/Recurrent-Offpolicy-RL, identical in
twni2016/Memory-RL ``envs/key_to_door/``):

* ``envs/memory_envs/key_to_door/key_to_door.py``: ``EXPLORE_GRID`` (lines 41-49),
  ``REWARD_GRID_SR`` (51-59), ``MAX_FRAMES_PER_PHASE_SR`` (71: explore 15, reward 10), the
  indicator colour (37-39) and its position ``override_position=(0, 5)`` (190);
* ``envs/memory_envs/key_to_door/common.py``: ``FIXED_COLOURS`` (56-63),
  ``APPLE_DISTRACTOR_GRID`` (65-73), ``DEFAULT_APPLE_RESPAWN_TIME = 20`` (74), the 5 x 5
  ``ScrollingCropper`` with margins (2, 2) padded with the background (116-119), actions
  north/south/west/east = 0/1/2/3 (40-43);
* ``envs/memory_envs/configs/keytodoor.py``: ``apple_reward=1.0``, ``final_reward=5.0``,
  ``respawn_every=20`` (22-26) and the distractor length N (16);
* ``envs/memory_envs/key_to_door/tvt_wrapper.py``: 10 apples (``num_apples=10``, line 91).

Map characters: ``#`` wall, `` `` floor, ``+`` player start cells, ``k`` key cells, ``a`` apple
cells, ``d`` the door. One key cell and one player cell of the explore map are kept at random,
and ``APPLE_COUNT`` of the apple cells.
"""

from __future__ import annotations

EXPLORE_STEPS = 15
"""Frames of the explore phase (key_to_door.py:71)."""
REWARD_STEPS = 10
"""Frames of the final (door) phase (key_to_door.py:71)."""
APPLE_COUNT = 10
"""Apples kept of the 22 apple cells (tvt_wrapper.py:91, ``num_apples=10``)."""
APPLE_REWARD = 1.0
"""Reward of one apple (configs/keytodoor.py:24)."""
APPLE_RESPAWN = 20
"""An apple eaten at frame f reappears at frame f + 21: pycolab's ``AppleDrape`` respawns when
``frame > last_pickup + respawn_every`` (common.py:293-295; respawn_every from keytodoor.py:26)."""
DOOR_REWARD = 5.0
"""Reward for reaching the door while holding the key (configs/keytodoor.py:25)."""
INDICATOR_CELL = (0, 5)
"""Where the one-frame key-pickup indicator appears (key_to_door.py:190)."""
VIEW_SIZE = 5
"""Side of the egocentric window (common.py:117-118)."""

WALL, FLOOR, PLAYER, KEY, APPLE, DOOR, INDICATOR = "#", " ", "+", "k", "a", "d", "i"

EXPLORE_MAP = (
    "  #######  ",
    "  #kkkkk#  ",
    "  #kkkkk#  ",
    "  ##   ##  ",
    "  #+++++#  ",
    "  #+++++#  ",
    "  #######  ",
)
DISTRACTOR_MAP = (
    "###########",
    "#a a a a a#",
    "# a a a a #",
    "#a a a a a#",
    "# a a a a #",
    "#a a + a a#",
    "###########",
)
REWARD_MAP = (
    "           ",
    "   ##d##   ",
    "   #   #   ",
    "   # + #   ",
    "   #   #   ",
    "   #####   ",
    "           ",
)

# Colours on pycolab's 0-1000 scale (common.py:56-63; the indicator from key_to_door.py:38).
# The original converts them to uint8 with ``value * 255 / 1000`` truncated (env.py:80-85).
_COLOURS_1000 = {
    PLAYER: (898, 584, 430),
    WALL: (100, 100, 100),
    FLOOR: (800, 800, 800),
    KEY: (627, 321, 176),
    DOOR: (529, 808, 922),
    APPLE: (550, 700, 0),
    INDICATOR: (1000, 1000, 1000),
}
COLOURS: dict[str, tuple[int, int, int]] = {
    char: (int(r * 255 / 1000), int(g * 255 / 1000), int(b * 255 / 1000))
    for char, (r, g, b) in _COLOURS_1000.items()
}
"""RGB (0-255) of each map character, exactly as the original's observations show them."""
