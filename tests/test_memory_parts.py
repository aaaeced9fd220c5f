"""The memory parts alone: joint tanh-Gaussian, windows, S2PG sequences, the z refresh."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch.distributions import Normal, TanhTransform, TransformedDistribution

from pomdpbench.agents.memory.sequence_replay import SequenceReplay
from pomdpbench.agents.memory.tanh_gaussian import (
    sample_joint,
    sample_tanh_gaussian,
    squashed_log_prob,
    tanh_log_prob,
)
from pomdpbench.agents.memory.window import WindowStacker, windows_from_sequences


def reference_log_prob(
    value: torch.Tensor, mean: torch.Tensor, log_std: torch.Tensor
) -> torch.Tensor:
    dist = TransformedDistribution(Normal(mean, log_std.exp()), [TanhTransform(cache_size=1)])
    return dist.log_prob(value).sum(-1)


def test_joint_tanh_gaussian_gives_each_part_its_own_tanh_corrected_log_prob() -> None:
    torch.manual_seed(0)
    mean_a, log_std_a = torch.randn(5, 2), torch.randn(5, 2) * 0.3
    mean_z, log_std_z = torch.randn(5, 3) * 0.5, torch.randn(5, 3) * 0.3 - 1.0
    (a, log_a), (z, log_z) = sample_joint([(mean_a, log_std_a), (mean_z, log_std_z)])
    assert a.shape == (5, 2) and z.shape == (5, 3)
    assert torch.all(a.abs() < 1) and torch.all(z.abs() < 1)
    torch.testing.assert_close(
        log_a, reference_log_prob(a, mean_a, log_std_a), atol=1e-4, rtol=1e-4
    )
    torch.testing.assert_close(
        log_z, reference_log_prob(z, mean_z, log_std_z), atol=1e-4, rtol=1e-4
    )
    # the joint density of the concatenation is the sum of the parts
    joint = reference_log_prob(
        torch.cat([a, z], -1),
        torch.cat([mean_a, mean_z], -1),
        torch.cat([log_std_a, log_std_z], -1),
    )
    torch.testing.assert_close(log_a + log_z, joint, atol=1e-4, rtol=1e-4)


def test_the_sampler_gives_the_general_forms_value_and_gradients() -> None:
    """The sampler writes the Gaussian term with its noise (eps^2 for ((u - mean) / std)^2):
    the same log-probability and the same gradients as the general form on the same draw."""
    torch.manual_seed(0)
    mean = torch.randn(64, 3, dtype=torch.float64, requires_grad=True)
    log_std = (0.3 * torch.randn(64, 3, dtype=torch.float64)).requires_grad_(True)
    torch.manual_seed(1)
    value, log_prob = sample_tanh_gaussian(mean, log_std)
    torch.manual_seed(1)
    pre_tanh = mean + log_std.exp() * torch.randn_like(mean)
    expected = tanh_log_prob(pre_tanh, mean, log_std)
    torch.testing.assert_close(value, torch.tanh(pre_tanh))
    torch.testing.assert_close(log_prob, expected)
    upstream = torch.randn(64, dtype=torch.float64), torch.randn(64, 3, dtype=torch.float64)
    got = torch.autograd.grad((log_prob, value), (mean, log_std), upstream)
    want = torch.autograd.grad((expected, torch.tanh(pre_tanh)), (mean, log_std), upstream)
    for g, w in zip(got, want, strict=True):
        torch.testing.assert_close(g, w)


def test_tanh_correction_by_hand() -> None:
    # u = 0.5 under N(0, 1): log N(0.5) - log(1 - tanh(0.5)^2)
    u, mean, log_std = torch.tensor([[0.5]]), torch.zeros(1, 1), torch.zeros(1, 1)
    expected = -0.125 - 0.5 * math.log(2 * math.pi) - math.log(1 - math.tanh(0.5) ** 2)
    assert tanh_log_prob(u, mean, log_std).item() == pytest.approx(expected, rel=1e-5)
    # a stored squashed value gives back the same log-probability
    assert squashed_log_prob(torch.tanh(u), mean, log_std).item() == pytest.approx(
        expected, rel=1e-4
    )


def test_window_is_zero_filled_at_an_episode_start_and_shifts_oldest_first() -> None:
    stacker = WindowStacker(3, 2)
    window = stacker.initial()
    assert window.tolist() == [0.0] * 6
    window = stacker.push(window, np.array([1.0, 2.0]))
    assert window.tolist() == [0, 0, 0, 0, 1, 2]
    previous = window
    for k in (3.0, 5.0, 7.0):
        window = stacker.push(window, np.array([k, k + 1]))
    assert window.tolist() == [3, 4, 5, 6, 7, 8]
    assert previous.tolist() == [0, 0, 0, 0, 1, 2], "push must not modify the given window"


def fill(buffer: SequenceReplay, episode_lengths: list[int]) -> None:
    """Episodes of the given lengths; observation k of the whole stream is [k]."""
    k = 0
    for length in episode_lengths:
        for t in range(length):
            last = t == length - 1
            buffer.add(
                np.array([k]),
                0.0,
                1.0,
                np.array([k + 1]),
                False,
                last,
                t == 0,
                state=np.full(1, float(k)),
                next_state=np.full(1, k + 1.0),
            )
            k += 1


def test_windows_rebuilt_from_the_buffer_match_what_the_agent_acted_on() -> None:
    buffer = SequenceReplay(50, 1, 1, 1, 0, 1, seed=0)
    fill(buffer, [2, 6])
    stacker, acted = WindowStacker(4, 1), []
    for length, first in ((2, 0), (6, 2)):
        window = stacker.initial()
        for k in range(first, first + length):
            window = stacker.push(window, np.array([k], np.float32))
            acted.append(window)
    steps = np.arange(8)
    seq = buffer.sequences_ending_at(steps, 4)
    rebuilt = windows_from_sequences(
        torch.from_numpy(buffer.obs[seq.rows]), torch.from_numpy(seq.lengths)
    )
    np.testing.assert_array_equal(rebuilt.numpy(), np.stack(acted))


def test_sequences_start_at_the_episode_start_and_are_right_padded() -> None:
    buffer = SequenceReplay(50, 1, 1, 1, 0, 1, seed=0)
    fill(buffer, [3, 10])  # steps 0-2, then 3-12
    seq = buffer.sequences_ending_at(np.array([1, 4, 12]), 5)
    assert seq.lengths.tolist() == [2, 2, 5]
    assert buffer.obs[seq.rows][..., 0].tolist() == [
        [0, 1, 1, 1, 1],  # episode 1 from its start; padding repeats the last row
        [3, 4, 4, 4, 4],  # never reaches into the previous episode
        [8, 9, 10, 11, 12],  # max(i - L + 1, start)
    ]
    assert seq.mask.tolist() == [[1, 1, 0, 0, 0], [1, 1, 0, 0, 0], [1] * 5]
    # a GRU starts from the internal state stored for the first step
    assert buffer.state[seq.rows[:, 0], 0].tolist() == [0, 3, 8]


def test_sequences_never_reach_past_the_oldest_step_after_wrapping() -> None:
    buffer = SequenceReplay(6, 1, 1, 1, 0, 1, seed=0)
    fill(buffer, [10])  # one long episode; rows now hold steps 4..9
    seq = buffer.sequences_ending_at(np.array([5]), 4)
    assert seq.lengths.tolist() == [2]
    assert buffer.obs[seq.rows][0, :2, 0].tolist() == [4, 5]


def test_z_refresh_writes_the_next_transition_but_never_across_an_episode_end() -> None:
    buffer = SequenceReplay(20, 1, 1, 1, 0, 2, seed=0)
    fill(buffer, [3, 3])  # steps 0-2 | 3-5
    # an episode cut without a final flag (a resumed run): step 7 starts anew
    buffer.add(
        np.array([6]),
        0.0,
        0.0,
        np.array([7]),
        False,
        False,
        True,
        state=np.zeros(2),
        next_state=np.zeros(2),
    )
    buffer.add(
        np.array([7]),
        0.0,
        0.0,
        np.array([8]),
        False,
        False,
        True,
        state=np.zeros(2),
        next_state=np.zeros(2),
    )
    state_before = buffer.state.copy()
    fresh = np.array([[10.0, 10.0], [20.0, 20.0], [30.0, 30.0], [40.0, 40.0]])
    buffer.refresh_next_state(np.array([0, 2, 6, 7]), fresh, tau=0.5)
    assert buffer.next_state[0].tolist() == [5.5, 5.5]  # 0.5 * 10 + 0.5 * 1
    assert buffer.state[1].tolist() == [5.5, 5.5]  # the next transition starts from it
    assert buffer.next_state[2].tolist() == [11.5, 11.5]
    np.testing.assert_array_equal(buffer.state[3], state_before[3])  # step 2 ended its episode
    np.testing.assert_array_equal(buffer.state[7], state_before[7])  # step 7 started a new one
    assert buffer.next_state[7].tolist() == [20.0, 20.0]  # the last stored step: only its own
    untouched = [i for i in range(8) if i not in (0, 1, 2, 6, 7)]
    np.testing.assert_array_equal(buffer.next_state[untouched][:, 0], np.array(untouched) + 1.0)


def test_buffer_round_trips_with_its_sampler(tmp_path) -> None:
    buffer = SequenceReplay(8, 1, 1, 1, 0, 1, seed=3)
    fill(buffer, [5, 6])
    buffer.save(tmp_path / "b.npz")
    copy = SequenceReplay(8, 1, 1, 1, 0, 1, seed=99)
    copy.load(tmp_path / "b.npz")
    a, b = buffer.sample_sequences(16, 4), copy.sample_sequences(16, 4)
    np.testing.assert_array_equal(a.rows, b.rows)
    np.testing.assert_array_equal(buffer.first, copy.first)
