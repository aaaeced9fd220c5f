"""Key-to-Door: phases, episode lengths, key/door logic, apples, colours of the view."""

from __future__ import annotations

from collections import deque

import gymnasium
import numpy as np
import pytest

from pomdpbench.envs.key_to_door import KeyToDoorEnv, maps
from pomdpbench.envs.key_to_door.game import DISTRACTOR, EXPLORE, MOVES, REWARD, KeyToDoorGame

NORTH, SOUTH, WEST, EAST = 0, 1, 2, 3


def bfs_action(game: KeyToDoorGame, target: tuple[int, int]) -> int:
    """First move of a shortest path to ``target`` over floor cells (walls and door blocked)."""
    board = game.board
    start = game.player
    seen = {start: None}
    queue = deque([start])
    while queue:
        cell = queue.popleft()
        if cell == target:
            break
        for d_row, d_col in MOVES:
            nxt = (cell[0] + d_row, cell[1] + d_col)
            inside = 0 <= nxt[0] < board.shape[0] and 0 <= nxt[1] < board.shape[1]
            if inside and nxt not in seen and chr(board[nxt]) not in "#":
                seen[nxt] = cell
                queue.append(nxt)
    cell = target
    while seen[cell] != start:
        cell = seen[cell]
    return MOVES.index((cell[0] - start[0], cell[1] - start[1]))


def key_seeking(env: KeyToDoorEnv, rng: np.random.Generator) -> int:
    game = env.game
    if game.phase == EXPLORE and not game.key_touched:
        return bfs_action(game, game._key)
    if game.phase == REWARD:
        return NORTH
    return int(rng.integers(4))


def key_avoiding(env: KeyToDoorEnv, rng: np.random.Generator) -> int:
    game = env.game
    if game.phase == EXPLORE:
        return SOUTH  # stays in the start room, rows 4-5; the key is in rows 1-2
    if game.phase == REWARD:
        return NORTH
    return int(rng.integers(4))


def play(env: KeyToDoorEnv, seed: int, policy) -> tuple[float, dict, int, list[float]]:
    rng = np.random.default_rng(seed)
    env.reset(seed=seed)
    rewards = []
    while True:
        _, reward, terminated, truncated, info = env.step(policy(env, rng))
        rewards.append(float(reward))
        if terminated or truncated:
            return sum(rewards), info, len(rewards), rewards


def view_pixels(obs: np.ndarray) -> np.ndarray:
    """The flat observation back to a (5, 5, 3) uint8 image."""
    return np.rint(obs.reshape(3, 5, 5).transpose(1, 2, 0) * 255).astype(int)


@pytest.mark.parametrize("distractor", [60, 120, 250, 500])
def test_episode_lasts_explore_plus_distractor_plus_reward_steps(distractor):
    env = KeyToDoorEnv(distractor_steps=distractor)
    for seed in range(2):
        _, info, length, _ = play(env, seed, lambda e, r: int(r.integers(4)))
        assert length == 15 + distractor + 10
        assert "success" in info


def test_registered_ids_have_the_original_horizon():
    for distractor in (60, 120, 250, 500):
        env = gymnasium.make(f"KeyToDoor-{distractor}-v0")
        assert env.spec.max_episode_steps == 15 + distractor + 10
        env.reset(seed=0)
        steps = 0
        while True:
            steps += 1
            _, _, terminated, truncated, _ = env.step(0)
            if terminated or truncated:
                break
        assert terminated and steps == 15 + distractor + 10


def test_touching_the_key_and_walking_to_the_door_succeeds():
    env = KeyToDoorEnv(distractor_steps=60)
    for seed in range(20):
        _, info, _, rewards = play(env, seed, key_seeking)
        assert info["success"] is True
        assert rewards[-10:].count(maps.DOOR_REWARD) == 1  # the door pays once, in the last phase
        assert all(r in (0.0, maps.APPLE_REWARD) for r in rewards[:-10])


def test_avoiding_the_key_never_opens_the_door():
    env = KeyToDoorEnv(distractor_steps=60)
    for seed in range(30):
        _, info, _, rewards = play(env, seed, key_avoiding)
        assert info["success"] is False
        assert maps.DOOR_REWARD not in rewards
        assert env.game.player == (2, 5)  # pushed north into the closed door: it did not move


def test_key_pickup_sets_has_key_and_flashes_the_indicator_for_one_frame():
    env = KeyToDoorEnv(distractor_steps=60)
    _, info = env.reset(seed=3)
    assert info["state"][4] == 0.0
    rng = np.random.default_rng(0)
    flashes = []
    while env.game.phase == EXPLORE:
        _, _, _, _, info = env.step(key_seeking(env, rng))
        flashes.append(chr(env.game.board[maps.INDICATOR_CELL]) == maps.INDICATOR)
    assert info["state"][4] == 1.0  # has_key carried into the distractor phase
    assert sum(flashes) == 1


def test_apples_pay_one_and_regrow_21_frames_after_being_eaten():
    game = KeyToDoorGame(distractor_steps=100)
    game.reset(np.random.default_rng(0))
    while game.phase != DISTRACTOR:
        game.step(SOUTH)
    apple = next(tuple(int(v) for v in cell) for cell in np.argwhere(game._apples))
    while game.player != apple:
        reward = game.step(bfs_action(game, apple))
    assert reward == maps.APPLE_REWARD
    eaten_at = game.frame
    corner = (1, 1) if apple[1] > 5 else (1, 9)  # far from the apple; NORTH bumps the wall
    shown = {}
    while game.frame < eaten_at + 22:
        game.step(NORTH if game.player == corner else bfs_action(game, corner))
        assert game.player != apple
        shown[game.frame] = chr(game.board[apple]) == maps.APPLE
    assert not any(shown[f] for f in range(eaten_at + 1, eaten_at + 21))
    assert shown[eaten_at + 21]


def test_door_is_impassable_without_the_key():
    game = KeyToDoorGame(distractor_steps=5)
    game.reset(np.random.default_rng(1))
    while game.phase != REWARD:
        game.step(SOUTH)
    assert not game.key_touched
    for _ in range(5):
        game.step(NORTH)
    assert game.player == (2, 5)
    assert game.door_opened is False


def test_view_shows_key_apples_and_door_in_the_original_colours():
    # pycolab colours (0-1000) times 255/1000, truncated, as the original's observations
    assert maps.COLOURS[maps.KEY] == (159, 81, 44)
    assert maps.COLOURS[maps.APPLE] == (140, 178, 0)
    assert maps.COLOURS[maps.DOOR] == (134, 206, 235)
    assert maps.COLOURS[maps.PLAYER] == (228, 148, 109)
    assert maps.COLOURS[maps.WALL] == (25, 25, 25)
    assert maps.COLOURS[maps.FLOOR] == (204, 204, 204)
    env = KeyToDoorEnv(distractor_steps=30)
    obs, _ = env.reset(seed=5)
    rng = np.random.default_rng(0)
    game = env.game
    # explore: walk until the key is one step away, then it is next to the view's centre
    while not game.key_touched:
        d_row, d_col = game._key[0] - game.player[0], game._key[1] - game.player[1]
        if abs(d_row) + abs(d_col) == 1:
            assert tuple(view_pixels(obs)[2 + d_row, 2 + d_col]) == maps.COLOURS[maps.KEY]
            break
        obs, *_ = env.step(bfs_action(game, game._key))
    else:
        pytest.fail("the key was never next to the player")
    while game.phase != DISTRACTOR:
        obs, *_ = env.step(key_seeking(env, rng))
    pixels = view_pixels(obs)
    for d_row in range(-2, 3):
        for d_col in range(-2, 3):
            cell = (5 + d_row, 5 + d_col)
            inside = 0 <= cell[0] < 7 and 0 <= cell[1] < 11
            expected = maps.APPLE if inside and game._apples[cell] else None
            if expected:
                assert tuple(pixels[2 + d_row, 2 + d_col]) == maps.COLOURS[maps.APPLE]
    assert tuple(pixels[2, 2]) == maps.COLOURS[maps.PLAYER]
    assert game._apples.any()
    while game.phase != REWARD:
        obs, *_ = env.step(int(rng.integers(4)))
    pixels = view_pixels(obs)  # player at (3, 5), door at (1, 5): two rows up
    assert tuple(pixels[0, 2]) == maps.COLOURS[maps.DOOR]
    assert tuple(pixels[0, 1]) == maps.COLOURS[maps.WALL]
    assert tuple(pixels[2, 2]) == maps.COLOURS[maps.PLAYER]


def test_observation_is_the_view_in_channels_first_order_scaled_to_unit_interval():
    env = KeyToDoorEnv(distractor_steps=60)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (75,) and obs.dtype == np.float32
    assert env.observation_space.contains(obs)
    expected = np.array([[maps.COLOURS[chr(c)] for c in row] for row in env.game.view()])
    np.testing.assert_array_equal(view_pixels(obs), expected)


def test_continuous_variant_plays_the_argmax():
    discrete = KeyToDoorEnv(distractor_steps=60)
    continuous = KeyToDoorEnv(distractor_steps=60, continuous_actions=True)
    assert continuous.action_space.shape == (4,)
    rng = np.random.default_rng(0)
    a, _ = discrete.reset(seed=7)
    b, _ = continuous.reset(seed=7)
    for _ in range(85):
        scores = rng.uniform(-1, 1, size=4).astype(np.float32)
        a, ra, ta, _, _ = discrete.step(int(np.argmax(scores)))
        b, rb, tb, _, _ = continuous.step(scores)
        np.testing.assert_array_equal(a, b)
        assert (ra, ta) == (rb, tb)


def test_same_seed_same_episode_different_seed_different_layout():
    def trace(seed: int) -> np.ndarray:
        env = KeyToDoorEnv(distractor_steps=60)
        env.action_space.seed(0)
        obs = [env.reset(seed=seed)[0]]
        for _ in range(40):
            obs.append(env.step(env.action_space.sample())[0])
        return np.array(obs)

    np.testing.assert_array_equal(trace(11), trace(11))
    layouts = set()
    for seed in range(20):
        env = KeyToDoorEnv()
        env.reset(seed=seed)
        layouts.add((env.game._key, env.game.player))
    assert len(layouts) > 10


def test_render_shows_map_view_and_time_bar():
    env = KeyToDoorEnv(distractor_steps=60, render_mode="rgb_array", cell_pixels=8)
    env.reset(seed=0)
    frame = env.render()
    assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3
    assert frame.shape[0] >= 7 * 8 and frame.shape[1] >= (11 + 5) * 8
    colours = {tuple(p) for p in frame.reshape(-1, 3)}
    assert maps.COLOURS[maps.PLAYER] in colours and maps.COLOURS[maps.WALL] in colours
    assert KeyToDoorEnv().render() is None


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError, match="distractor_steps"):
        KeyToDoorEnv(distractor_steps=0)
    with pytest.raises(ValueError, match="render_mode"):
        KeyToDoorEnv(render_mode="human")
    env = KeyToDoorEnv()
    env.reset(seed=0)
    with pytest.raises(ValueError, match="0-3"):
        env.step(4)
