"""Key-to-Door as a Gymnasium environment (Memory-RL's ``Mem-SR-<N>-v0``, RESeL Fig. 10).

The observation is what the original agents saw: the 5 x 5 egocentric RGB window, transposed to
channels-first and flattened to 75 values in [0, 1] (``tvt_wrapper.py:140-144, 164``). Actions
are Discrete(4) (north, south, west, east) or, with ``continuous_actions=True``, a Box of 4
scores whose argmax is played, RESeL's ``Mem-SR-<N>-cont-act-v0`` variant for agents that only
emit continuous actions (``tvt_wrapper.py:117-121, 149-150``).

The episode ends after exactly 15 + N + 10 steps with ``terminated=True`` (the game is over,
as Memory-RL treats credit tasks: ``term = done``); ``info["success"]`` on that step says whether
the door was opened. ``info["state"]`` (privileged state) is
``[phase / 2, frame / phase length, row / (rows - 1), col / (cols - 1), has_key]``.

``render_mode="rgb_array"`` draws the whole map of the current phase with the agent's window
outlined, the agent's 5 x 5 view beside it, and a time bar underneath.
"""

from __future__ import annotations

from typing import Any, SupportsFloat

import gymnasium
import numpy as np
from gymnasium import spaces

from pomdpbench.envs.key_to_door import maps
from pomdpbench.envs.key_to_door.game import KeyToDoorGame

_LUT = np.zeros((256, 3), dtype=np.uint8)
for _char, _rgb in maps.COLOURS.items():
    _LUT[ord(_char)] = _rgb
_OUTLINE = np.array((220, 40, 40), dtype=np.uint8)
_PANEL = np.array((40, 40, 40), dtype=np.uint8)


def to_rgb(chars: np.ndarray) -> np.ndarray:
    """Character codes (H, W) to an RGB image (H, W, 3) in the original colours."""
    return _LUT[chars]


class KeyToDoorEnv(gymnasium.Env[np.ndarray, Any]):
    """Key-to-Door with a distractor phase of ``distractor_steps`` steps."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 8}

    def __init__(
        self,
        distractor_steps: int = 60,
        continuous_actions: bool = False,
        render_mode: str | None = None,
        cell_pixels: int = 24,
    ) -> None:
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        self.game = KeyToDoorGame(distractor_steps)
        self.continuous_actions = continuous_actions
        self.render_mode = render_mode
        self.cell_pixels = cell_pixels
        size = maps.VIEW_SIZE * maps.VIEW_SIZE * 3
        self.observation_space = spaces.Box(0.0, 1.0, shape=(size,), dtype=np.float32)
        self.action_space: spaces.Space[Any]
        if continuous_actions:
            self.action_space = spaces.Box(-1.0, 1.0, shape=(4,), dtype=np.float32)
        else:
            self.action_space = spaces.Discrete(4)

    def _observe(self) -> np.ndarray:
        rgb = to_rgb(self.game.view())  # (5, 5, 3), as pycolab's ObservationToArray
        return rgb.transpose(2, 0, 1).reshape(-1).astype(np.float32) / np.float32(255.0)

    def _state(self) -> np.ndarray:
        game = self.game
        rows, cols = game.board.shape
        return np.array(
            [
                game.phase / 2.0,
                game.frame / game.phase_lengths[game.phase],
                game.player[0] / (rows - 1),
                game.player[1] / (cols - 1),
                float(game.has_key),
            ],
            dtype=np.float32,
        )

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start an episode with a random key cell, player cell and (later) apple cells."""
        super().reset(seed=seed)
        self.game.reset(self.np_random)
        return self._observe(), {"state": self._state()}

    def step(self, action: Any) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        """Play one frame; the episode terminates after 15 + N + 10 steps."""
        if self.continuous_actions:
            move = int(np.argmax(np.reshape(action, -1)))
        else:
            move = int(action)
            if not 0 <= move < 4:
                raise ValueError(f"Key-to-Door actions are 0-3, got {action!r}")
        reward = self.game.step(move)
        info: dict[str, Any] = {"state": self._state()}
        terminated = self.game.game_over
        if terminated:
            info["success"] = self.game.door_opened
        return self._observe(), reward, terminated, False, info

    def render(self) -> np.ndarray | None:
        """The map with the agent's window outlined, the agent's view, and a time bar."""
        if self.render_mode != "rgb_array":
            return None
        px = self.cell_pixels
        board = np.kron(to_rgb(self.game.board), np.ones((px, px, 1), dtype=np.uint8))
        self._outline(board)
        view = np.kron(to_rgb(self.game.view()), np.ones((px, px, 1), dtype=np.uint8))
        height = max(board.shape[0], view.shape[0])
        gap = px // 2
        canvas = np.empty((height + gap + px // 3, board.shape[1] + gap + view.shape[1], 3))
        canvas[:] = _PANEL
        canvas[: board.shape[0], : board.shape[1]] = board
        canvas[: view.shape[0], board.shape[1] + gap :] = view
        elapsed = self._elapsed() / self.game.episode_length
        canvas[height + gap :, : int(round(elapsed * canvas.shape[1]))] = maps.COLOURS[maps.KEY]
        return canvas.astype(np.uint8)

    def _elapsed(self) -> int:
        game = self.game
        done = sum(game.phase_lengths[: game.phase]) + game.frame
        return game.episode_length if game.game_over else done

    def _outline(self, board: np.ndarray) -> None:
        """Draw the 5 x 5 window around the player onto the scaled map (clipped to it)."""
        px, half = self.cell_pixels, maps.VIEW_SIZE // 2
        row, col = self.game.player
        top, left = max(0, (row - half) * px), max(0, (col - half) * px)
        bottom = min(board.shape[0], (row + half + 1) * px)
        right = min(board.shape[1], (col + half + 1) * px)
        width = max(1, px // 8)
        board[top : top + width, left:right] = _OUTLINE
        board[bottom - width : bottom, left:right] = _OUTLINE
        board[top:bottom, left : left + width] = _OUTLINE
        board[top:bottom, right - width : right] = _OUTLINE
