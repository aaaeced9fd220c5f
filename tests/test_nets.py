"""The learners' network blocks compute what their plain definitions compute.

``EnsembleLinear`` (with its one-output heads) and ``ensemble_member`` are speed-motivated
rewrites of simple expressions; each is checked here against that expression in float64,
values and gradients, so a faster path can never change what is learned. ``descend_together`` must equal one backward pass and step per loss, bit for bit.
"""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from pomdpbench.agents.nets import adam, ensemble_member, ensemble_mlp
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


def ensemble(in_size: int, out_size: int, members: int = 2) -> nn.Sequential:
    torch.manual_seed(0)
    return ensemble_mlp(members, in_size, (16, 8), out_size).double()


@pytest.mark.parametrize("out_size", [1, 3])
@pytest.mark.parametrize("shared_input", [True, False])
def test_ensemble_mlp_matches_each_member_written_out(out_size: int, shared_input: bool) -> None:
    net = ensemble(5, out_size, members=3)
    shape = (7, 5) if shared_input else (3, 7, 5)
    x = torch.randn(*shape, dtype=torch.float64, requires_grad=True)
    out = net(x)
    assert out.shape == (3, 7, out_size)
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


def test_ensemble_member_is_that_member_alone() -> None:
    net = ensemble(4, 1)
    x = torch.randn(6, 4, dtype=torch.float64)
    torch.testing.assert_close(ensemble_member(net, 1, x), net(x)[1])


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
