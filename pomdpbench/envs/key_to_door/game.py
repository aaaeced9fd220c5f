"""The rules of Key-to-Door, frame by frame, without pycolab.

pycolab (the engine of the original) does not import on Python >= 3.10, so this module replays
its semantics on a character grid. The original is a pycolab ``Story`` of three games
(FanmingL/Recurrent-Offpolicy-RL ``envs/memory_envs/key_to_door/key_to_door.py`` and
``common.py``; pycolab 1.2 ``engine.py``, ``storytelling.py``, ``cropping.py``); the points that
decide the numbers:

* **Frames.** A phase starts with an update without an action (pycolab's ``its_showtime``, frame
  0); every agent step is the next frame. A phase ends on the frame whose number reaches its
  length (``TimerSprite``), and the next phase's frame 0 is shown as the observation of that
  same step, so an episode lasts exactly 15 + N + 10 agent steps.
* **Update order within a frame** (the ``update_schedule``): the player moves first, checking
  walls on the board as drawn at the end of the previous frame; then the key / indicator
  (explore), the apples (distractor) or the door (reward) react to the new position.
* **Key.** Touching the key removes it and sets ``has_key``, which is carried into the later
  phases (``Story`` copies the plot). A white indicator replaces the wall cell (0, 5) for the one
  frame of the pickup.
* **Apples.** Eating gives 1; an apple eaten at frame f reappears at frame f + 21.
* **Door.** Impassable unless the player holds the key; stepping on it with the key gives 5 once
  (the key is then spent). The door stays passable afterwards.
* **Drawing order** (``z_order``, back to front): explore key, indicator, player; distractor
  apples, player; reward player, door (so the door hides the player standing on it).
* **View.** A 5 x 5 window always centred on the player (a ``ScrollingCropper`` with margins 2
  re-centres after every one-cell move), padded with floor outside the map.
"""

from __future__ import annotations

import numpy as np

from pomdpbench.envs.key_to_door import maps

EXPLORE, DISTRACTOR, REWARD = 0, 1, 2
PHASE_NAMES = ("explore", "distractor", "reward")
MOVES = ((-1, 0), (1, 0), (0, -1), (0, 1))
"""Row/column change of actions 0-3: north, south, west, east (common.py:40-43)."""

_IMPASSABLE = frozenset(ord(c) for c in (maps.WALL, maps.INDICATOR, maps.DOOR))
_NO_DOOR = _IMPASSABLE - {ord(maps.DOOR)}
_PAD = maps.VIEW_SIZE // 2


def _parse(rows: tuple[str, ...]) -> tuple[np.ndarray, dict[str, list[tuple[int, int]]]]:
    """A map as a backdrop of walls and floor, plus the cells of every other character."""
    grid = np.array([[ord(c) for c in row] for row in rows], dtype=np.uint8)
    cells: dict[str, list[tuple[int, int]]] = {}
    for char in {chr(c) for c in np.unique(grid)} - {maps.WALL, maps.FLOOR}:
        cells[char] = [(int(r), int(c)) for r, c in np.argwhere(grid == ord(char))]
        grid[grid == ord(char)] = ord(maps.FLOOR)
    return grid, cells


class KeyToDoorGame:
    """The state of one episode and the rules that advance it by one frame per action."""

    def __init__(self, distractor_steps: int) -> None:
        if distractor_steps < 1:
            raise ValueError("distractor_steps must be at least 1")
        self.phase_lengths = (maps.EXPLORE_STEPS, distractor_steps, maps.REWARD_STEPS)
        self.episode_length = sum(self.phase_lengths)
        self._rng = np.random.default_rng()
        self.phase = EXPLORE
        self.frame = 0
        self.game_over = False
        self.has_key = False
        self.key_touched = False
        self.final_phase_reward = 0.0
        self.player = (0, 0)
        self._backdrop = np.zeros((1, 1), dtype=np.uint8)
        self._board = self._backdrop
        self._key: tuple[int, int] | None = None
        self._indicator_frame: int | None = None
        self._indicator_visible = False
        self._apples = np.zeros((1, 1), dtype=bool)
        self._last_pickup = np.zeros((1, 1))
        self._door = (0, 0)
        self._door_passable = False
        self._initial_reward = 0.0

    # ------------------------------------------------------------------ episode flow

    def reset(self, rng: np.random.Generator) -> None:
        """Start an episode: a random key cell and player cell of the explore map."""
        self._rng = rng
        self.game_over = False
        self.has_key = False
        self.key_touched = False
        self.final_phase_reward = 0.0
        self._start_phase(EXPLORE)

    def step(self, action: int) -> float:
        """Play one frame with ``action`` (0-3); return its reward."""
        if self.game_over:
            raise RuntimeError("the episode is over: call reset()")
        self.frame += 1
        reward = self._update(action)
        if self.frame >= self.phase_lengths[self.phase]:
            if self.phase == REWARD:
                self.game_over = True
            else:
                self._start_phase(self.phase + 1)
                reward += self._initial_reward
        return reward

    @property
    def door_opened(self) -> bool:
        """The original's success: the final phase paid a reward (tvt_wrapper.py:160)."""
        return self.final_phase_reward > 0.0

    def _start_phase(self, phase: int) -> None:
        self.phase, self.frame = phase, 0
        source = (maps.EXPLORE_MAP, maps.DISTRACTOR_MAP, maps.REWARD_MAP)[phase]
        self._backdrop, cells = _parse(source)
        if phase == EXPLORE:
            self._key = self._pick(cells[maps.KEY])
            self.player = self._pick(cells[maps.PLAYER])
            self._indicator_frame, self._indicator_visible = None, False
        elif phase == DISTRACTOR:
            self.player = cells[maps.PLAYER][0]
            self._apples = np.zeros(self._backdrop.shape, dtype=bool)
            chosen = self._rng.choice(len(cells[maps.APPLE]), maps.APPLE_COUNT, replace=False)
            for index in chosen:
                self._apples[cells[maps.APPLE][index]] = True
            # pycolab's AppleDrape: +inf where an apple starts, -1 where none ever grows.
            self._last_pickup = np.where(self._apples, np.inf, -1.0)
        else:
            self.player = cells[maps.PLAYER][0]
            self._door = cells[maps.DOOR][0]
            self._door_passable = False
        self._board = self._draw()
        self._initial_reward = self._update(None)  # pycolab's its_showtime frame

    def _pick(self, cells: list[tuple[int, int]]) -> tuple[int, int]:
        return cells[int(self._rng.integers(len(cells)))]

    # ------------------------------------------------------------------ one frame

    def _update(self, action: int | None) -> float:
        """Update every entity in the original's order, then redraw the board."""
        if self.phase == REWARD and self.has_key:
            self._door_passable = True
        if action is not None:
            self._move(action)
        reward = 0.0
        if self.phase == EXPLORE:
            on_key = self.player == self._key
            if on_key and not self.key_touched:
                self.has_key = self.key_touched = True
            if self._indicator_frame is not None:
                self._indicator_visible = False
            elif on_key:
                self._indicator_visible, self._indicator_frame = True, self.frame
        elif self.phase == DISTRACTOR:
            if self._apples[self.player]:
                self._apples[self.player] = False
                self._last_pickup[self.player] = self.frame
                reward += maps.APPLE_REWARD
            regrown = (self.frame > self._last_pickup + maps.APPLE_RESPAWN) & (
                self._last_pickup >= 0
            )
            self._apples[regrown] = True
        else:
            if self.player == self._door and self.has_key:
                reward += maps.DOOR_REWARD
                self.has_key = False
            self.final_phase_reward += reward
        self._board = self._draw()
        return reward

    def _move(self, action: int) -> None:
        d_row, d_col = MOVES[action]
        row, col = self.player[0] + d_row, self.player[1] + d_col
        rows, cols = self._board.shape
        if not (0 <= row < rows and 0 <= col < cols):
            return
        blocked = _NO_DOOR if self._door_passable else _IMPASSABLE
        if int(self._board[row, col]) not in blocked:
            self.player = (row, col)

    def _draw(self) -> np.ndarray:
        board = self._backdrop.copy()
        if self.phase == EXPLORE:
            if not self.key_touched and self._key is not None:
                board[self._key] = ord(maps.KEY)
            if self._indicator_visible:
                board[maps.INDICATOR_CELL] = ord(maps.INDICATOR)
            board[self.player] = ord(maps.PLAYER)
        elif self.phase == DISTRACTOR:
            board[self._apples] = ord(maps.APPLE)
            board[self.player] = ord(maps.PLAYER)
        else:
            board[self.player] = ord(maps.PLAYER)
            board[self._door] = ord(maps.DOOR)
        return board

    # ------------------------------------------------------------------ what is seen

    @property
    def board(self) -> np.ndarray:
        """The whole map of the current phase as character codes (uint8), sprites drawn."""
        return self._board

    def view(self) -> np.ndarray:
        """The 5 x 5 egocentric window (character codes) centred on the player."""
        padded = np.pad(self._board, _PAD, constant_values=ord(maps.FLOOR))
        row, col = self.player
        return padded[row : row + maps.VIEW_SIZE, col : col + maps.VIEW_SIZE]
