"""The learners' network blocks compute what their plain definitions compute.

``EnsembleLinear`` (with its one-output heads), ``ensemble_member`` and ``min_over_members``
are speed-motivated rewrites of simple expressions; each is checked here against that expression in float64,
values and gradients, so a faster path can never change what is learned. ``descend_together`` must equal one backward pass and step per loss, bit for bit.
"""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from pomdpbench.agents.ensemble_min import min_over_members
from pomdpbench.agents.nets import adam, ensemble_member, ensemble_members, ensemble_mlp
from pomdpbench.agents.offpolicy import descend_together


def member_reference(net: nn.Sequential, member: int, x: torch.Tensor) -> torch.Tensor:
    """Member ``member`` of an ensemble MLP written with plain matrix products."""
    layers = list(net.children())
    for layer in layers:
        if isinstance(layer, nn.ReLU):
            x = torch.relu(x)
        else:
            x = x @ layer.weight[member] + layer.bias[member, 0]
    return x


def ensemble(in_size: int, out_size: int, members: int = 2, seed: int = 0) -> nn.Sequential:
    torch.manual_seed(seed)
    return ensemble_mlp(members, in_size, (16, 8), out_size).double()


@pytest.mark.parametrize("out_size", [1, 3])
@pytest.mark.parametrize("shared_input", [True, False])
@pytest.mark.parametrize("rows", [7, 17000])  # 17000: heads past SMALL_PRODUCT, member by member
def test_ensemble_mlp_matches_each_member_written_out(
    out_size: int, shared_input: bool, rows: int
) -> None:
    net = ensemble(5, out_size, members=3)
    shape = (rows, 5) if shared_input else (3, rows, 5)
    x = torch.randn(*shape, dtype=torch.float64, requires_grad=True)
    out = net(x)
    assert out.shape == (3, rows, out_size)
    reference = torch.stack(
        [member_reference(net, m, x if shared_input else x[m]) for m in range(3)]
    )
    torch.testing.assert_close(out, reference)
    upstream = torch.randn_like(out)
    params = [x, *net.parameters()]
    got = torch.autograd.grad(out, params, upstream)
    expected = torch.autograd.grad(reference, params, upstream)
    for g, e in zip(got, expected, strict=True):
        torch.testing.assert_close(g, e)


@pytest.mark.parametrize("out_size", [1, 3])
@pytest.mark.parametrize("rows", [7, 17000])
def test_ensemble_members_are_those_members_of_the_whole_bit_for_bit(
    out_size: int, rows: int
) -> None:
    """REDQ's target runs 2 of 8 heads alone: the same bits as running all 8 and picking."""
    torch.manual_seed(0)
    net = ensemble_mlp(8, 5, (16, 8), out_size, activation=nn.ELU)
    x = torch.randn(rows, 5)
    chosen = torch.tensor([6, 1])
    with torch.no_grad():
        assert torch.equal(ensemble_members(net, chosen, x), net(x)[chosen])


def test_ensemble_member_is_that_member_alone() -> None:
    net = ensemble(4, 1)
    x = torch.randn(6, 4, dtype=torch.float64)
    torch.testing.assert_close(ensemble_member(net, 1, x), net(x)[1])


def test_min_over_members_matches_autograd_values_and_gradients() -> None:
    net = ensemble(5, 1, members=3, seed=1).requires_grad_(False)
    with torch.no_grad():  # no member lower everywhere: each wins 15-29 of the 64 rows
        net[-1].bias.zero_()
    x = torch.randn(64, 5, dtype=torch.float64, requires_grad=True)
    reference = net(x).min(0).values.squeeze(-1)
    fast = min_over_members(net, x)
    torch.testing.assert_close(fast, reference)
    upstream = torch.randn(64, dtype=torch.float64)
    (expected,) = torch.autograd.grad(reference, x, upstream)
    (got,) = torch.autograd.grad(fast, x, upstream)
    torch.testing.assert_close(got, expected)
    winners = net(x).squeeze(-1).argmin(0)
    assert set(winners.tolist()) == {0, 1, 2}  # the row split is exercised for every member
    assert torch.autograd.gradcheck(lambda t: min_over_members(net, t), (x,))


def test_min_over_members_falls_back_where_its_backward_does_not_apply() -> None:
    trainable = ensemble(5, 1)
    x = torch.randn(8, 5, dtype=torch.float64)
    min_over_members(trainable, x).sum().backward()  # not frozen: autograd, weights get grads
    assert all(p.grad is not None for p in trainable.parameters())
    tanh_net = ensemble_mlp(2, 5, (16,), 1, activation=nn.Tanh).double().requires_grad_(False)
    torch.testing.assert_close(min_over_members(tanh_net, x), tanh_net(x).min(0).values.squeeze(-1))


def test_descend_together_equals_a_backward_and_step_per_loss() -> None:
    torch.manual_seed(0)
    actor, temperature = nn.Linear(3, 1), nn.Parameter(torch.tensor(0.3))
    twin_actor, twin_temperature = copy.deepcopy(actor), copy.deepcopy(temperature)
    x = torch.randn(32, 3)

    def losses(net: nn.Module, log_alpha: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = net(x)
        entropy = -out.mean()
        return (out**2).mean() * log_alpha.detach().exp(), log_alpha * (entropy.detach() + 1.0)

    opts = adam(actor.parameters(), 1e-2), adam([temperature], 1e-2)
    twin_opts = adam(twin_actor.parameters(), 1e-2), adam([twin_temperature], 1e-2)
    for _ in range(5):
        first, second = losses(actor, temperature)
        descend_together([(first, opts[0]), (second, opts[1])])
        for loss, opt in zip(losses(twin_actor, twin_temperature), twin_opts, strict=True):
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    for a, b in zip(
        [*actor.parameters(), temperature],
        [*twin_actor.parameters(), twin_temperature],
        strict=True,
    ):
        assert torch.equal(a, b)
