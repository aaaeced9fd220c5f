"""RESeL's trajectory buffer: what a stacked batch holds and where."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from pomdpbench.agents.resel.buffer import TrajectoryBuffer, pack_rows

OBS, ACT = 3, 2


def fill(buffer: TrajectoryBuffer, lengths: list[int], terminated_last: bool = True) -> None:
    """Trajectories whose obs encode (trajectory, step) so positions can be checked."""
    for n, length in enumerate(lengths):
        for t in range(length):
            obs = np.array([n, t, 1.0], dtype=np.float32)
            nxt = np.array([n, t + 1, 1.0], dtype=np.float32)
            last = t == length - 1
            buffer.add(
                obs,
                np.array([n, -t], dtype=np.float32),
                float(10 * n + t),
                nxt,
                terminated=last and terminated_last and n % 2 == 0,
                truncated=last and not (terminated_last and n % 2 == 0),
                episode_start=t == 0,
            )


def test_pack_rows_fills_rows_up_to_the_longest_trajectory() -> None:
    # Longest first, first fit: 4 + gap + 3 + gap + 1 = 10 fills the third row exactly.
    assert pack_rows([10, 3, 4, 1, 10], gap=1) == [[0], [4], [2, 1, 3]]
    assert pack_rows([10, 3, 4, 2, 10], gap=1) == [[0], [4], [2, 1], [3]]
    assert pack_rows([5, 5], gap=0) == [[0], [1]]


@pytest.mark.parametrize("packs", [True, False])
def test_stacked_batch_places_tokens_and_transitions(packs: bool) -> None:
    buffer = TrajectoryBuffer(1000, OBS, ACT, seed=0)
    lengths = [6, 2, 3, 1, 5]
    fill(buffer, lengths)
    batch = buffer.stack(list(buffer.trajectories), packs=packs, gap=2, device=torch.device("cpu"))
    obs, last_obs, last_action, last_reward = batch.tokens
    reset, valid = batch.layout
    assert int(valid.sum()) == sum(n + 1 for n in lengths)  # T + 1 tokens per trajectory
    assert int(reset.sum()) == len(lengths)
    assert batch.step.shape[0] == sum(lengths)
    if packs:
        assert reset.shape[0] < len(lengths)
    flat_obs = obs.reshape(-1, OBS)
    flat_last_obs = last_obs.reshape(-1, OBS)
    flat_last_action = last_action.reshape(-1, ACT)
    flat_last_reward = last_reward.reshape(-1)
    flat_reset = reset.reshape(-1)
    for m, position in enumerate(batch.step.tolist()):
        n, t = flat_obs[position, :2].tolist()
        assert flat_obs[position + 1, :2].tolist() == [n, t + 1]  # the next token is o_{t+1}
        assert batch.action[m].tolist() == [n, -t]
        assert batch.reward[m].item() == 10 * n + t
        last = t == lengths[int(n)] - 1
        assert batch.done[m].item() == float(last and int(n) % 2 == 0)  # truncations bootstrap
        if t == 0:
            assert flat_reset[position]
            assert not flat_last_obs[position].any() and not flat_last_action[position].any()
        else:
            assert not flat_reset[position]
            assert flat_last_obs[position, :2].tolist() == [n, t - 1]
            assert flat_last_action[position].tolist() == [n, -(t - 1)]
            assert flat_last_reward[position].item() == 10 * n + t - 1


def test_gap_separates_packed_trajectories() -> None:
    buffer = TrajectoryBuffer(1000, OBS, ACT, seed=0)
    fill(buffer, [8, 2, 2])
    batch = buffer.stack(list(buffer.trajectories), packs=True, gap=3, device=torch.device("cpu"))
    reset, valid = batch.layout
    for row_reset, row_valid in zip(reset, valid, strict=True):
        starts = torch.nonzero(row_reset).flatten().tolist()
        for start in starts[1:]:
            assert not row_valid[start - 3 : start].any()


def test_sampling_takes_whole_trajectories_until_the_batch_size() -> None:
    buffer = TrajectoryBuffer(1000, OBS, ACT, seed=0)
    fill(buffer, [5] * 20)
    chosen = buffer.sample_indices(12)
    assert len(chosen) == 3 and len(set(chosen)) == 3  # 5 + 5 < 12 <= 15
    assert len(buffer.sample_indices(10_000)) == 20  # all of them, no repeats


def test_an_episode_start_closes_an_open_trajectory_as_a_truncation() -> None:
    buffer = TrajectoryBuffer(1000, OBS, ACT, seed=0)
    step = np.zeros(OBS, dtype=np.float32)
    for t in range(3):
        buffer.add(step, np.zeros(ACT, np.float32), 1.0, step, False, False, t == 0)
    assert len(buffer) == 0  # still open
    buffer.add(step, np.zeros(ACT, np.float32), 1.0, step, True, False, True)
    assert [len(t.reward) for t in buffer.trajectories] == [3, 1]
    assert [t.terminated for t in buffer.trajectories] == [False, True]


def test_capacity_evicts_the_oldest_whole_trajectories() -> None:
    buffer = TrajectoryBuffer(10, OBS, ACT, seed=0)
    fill(buffer, [4, 4, 4])
    assert buffer.transitions == 8 and len(buffer) == 2
    assert buffer.trajectories[0].obs[0, 0] == 1.0  # trajectory 0 is gone


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    buffer = TrajectoryBuffer(1000, OBS, ACT, seed=3)
    fill(buffer, [4, 2, 5])
    buffer.add(
        np.ones(OBS, np.float32),
        np.ones(ACT, np.float32),
        2.0,
        np.ones(OBS, np.float32),
        False,
        False,
        True,
    )  # an open trajectory
    buffer.save(tmp_path / "b.npz")
    copy = TrajectoryBuffer(1000, OBS, ACT, seed=0)
    copy.load(tmp_path / "b.npz")
    assert copy.transitions == buffer.transitions == 11
    for a, b in zip(buffer.trajectories, copy.trajectories, strict=True):
        np.testing.assert_array_equal(a.obs, b.obs)
        np.testing.assert_array_equal(a.action, b.action)
        np.testing.assert_array_equal(a.reward, b.reward)
        assert a.terminated == b.terminated
    assert buffer.sample_indices(6) == copy.sample_indices(6)  # same generator state
    for n in (buffer, copy):
        n.add(
            np.ones(OBS, np.float32),
            np.ones(ACT, np.float32),
            2.0,
            np.ones(OBS, np.float32),
            True,
            False,
            False,
        )
    assert len(copy.trajectories[-1].reward) == 2  # the open trajectory survived the round trip
