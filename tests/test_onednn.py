"""oneDNN's products (pomdpbench/agents/onednn.py) against torch's own, forward and backward.

Each check compares float32 results through oneDNN with the same computation in float64
(which never takes oneDNN): the two float32 paths differ in rounding only, so both must sit
within float32 accuracy of the exact values. The shapes are the learners' (256 wide, batch
256), where :func:`onednn.fits` takes oneDNN.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest
import torch
from torch import nn

from pomdpbench.agents import onednn
from pomdpbench.agents.ensemble_min import min_over_members
from pomdpbench.agents.nets import EnsembleLinear, Linear, ensemble_member, ensemble_mlp, mlp

needs_onednn = pytest.mark.skipif(not onednn.ENABLED, reason="no oneDNN on this CPU build")
TOLERANCE = dict(rtol=1e-4, atol=1e-4)


def leaves(*shapes: tuple[int, ...], seed: int = 0) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return [torch.randn(*s, generator=generator).requires_grad_() for s in shapes]


def in_float64(tensors: list[torch.Tensor]) -> list[torch.Tensor]:
    return [t.detach().double().requires_grad_() for t in tensors]


def forward_and_grads(fn: object, tensors: list[torch.Tensor]) -> list[torch.Tensor]:
    out = fn(*tensors)  # type: ignore[operator]
    grad_out = torch.linspace(-1, 1, out.numel(), dtype=out.dtype).view_as(out)
    grads = torch.autograd.grad(out, tensors, grad_out)
    return [out.detach(), *grads]


def assert_close_to_exact(fn: object, tensors: list[torch.Tensor], reference: object) -> None:
    got = forward_and_grads(fn, tensors)
    exact = forward_and_grads(reference, in_float64(tensors))
    for g, e in zip(got, exact, strict=True):
        assert g.dtype == torch.float32
        torch.testing.assert_close(g.double(), e, **TOLERANCE)


def test_the_shape_rule_takes_only_large_float32_cpu_products() -> None:
    big, narrow = torch.zeros(256, 256), torch.zeros(256, 3)
    assert onednn.fits(big, big) is onednn.ENABLED
    assert not onednn.fits(narrow, torch.zeros(3, 256))  # a first layer on 3 observations
    assert not onednn.fits(torch.zeros(1, 256), big)  # acting: one row
    assert not onednn.fits(torch.zeros(32, 64), torch.zeros(64, 64))  # under 2^21 products
    assert not onednn.fits(big.double(), big.double())


@needs_onednn
@pytest.mark.parametrize("shared", [True, False])
def test_ensemble_products_match_the_exact_product_and_its_gradients(shared: bool) -> None:
    x_shape = (256, 256) if shared else (2, 256, 256)
    tensors = leaves(x_shape, (2, 256, 256), (2, 1, 256))

    def reference(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.baddbmm(b, x.expand(2, -1, -1) if shared else x, w)

    assert_close_to_exact(onednn.ensemble_products, tensors, reference)


def assert_module_close_to_exact(
    net: nn.Module, exact: nn.Module, fn: object, x: torch.Tensor
) -> None:
    """``fn(net, x)`` in float32 against ``fn(exact, x)`` in float64, values and gradients."""
    exact.load_state_dict(net.state_dict())  # the same weights, converted to float64
    x64 = x.detach().double().requires_grad_()
    for module, inp in ((net, x), (exact, x64)):
        out = fn(module, inp)  # type: ignore[operator]
        grad_out = torch.linspace(-1, 1, out.numel(), dtype=out.dtype).view_as(out)
        wrt = [inp, *(p for p in module.parameters() if p.requires_grad)]
        results = [out.detach(), *torch.autograd.grad(out, wrt, grad_out)]
        if module is net:
            got = results
    for g, e in zip(got, results, strict=True):
        assert g.dtype == torch.float32
        torch.testing.assert_close(g.double(), e, **TOLERANCE)


@needs_onednn
@pytest.mark.parametrize("bias", [True, False])
def test_the_linear_layer_matches_the_exact_one_and_keeps_nn_linear_state_dict(bias: bool) -> None:
    torch.manual_seed(0)
    layer = Linear(256, 320, bias=bias)
    assert layer.state_dict().keys() == nn.Linear(256, 320, bias=bias).state_dict().keys()
    (x,) = leaves((4, 64, 256))  # leading dimensions are kept
    exact = nn.Linear(256, 320, bias=bias).double()
    assert_module_close_to_exact(layer, exact, lambda m, x: m(x), x)
    layer(x).sum().backward()
    assert layer.weight.grad is not None and layer.weight.grad.is_contiguous()


@needs_onednn
def test_the_linear_layer_takes_onednn_and_one_row_does_not() -> None:
    layer = Linear(256, 256)
    with torch.profiler.profile() as prof:
        layer(torch.randn(256, 256)).sum().backward()  # forward and the weight gradient
        layer(torch.randn(1, 256))
    calls = {e.key: e.count for e in prof.key_averages()}
    assert calls.get("mkldnn::_linear_pointwise") == 2
    assert calls.get("aten::addmm") == 1  # the one-row call


@needs_onednn
@pytest.mark.parametrize("form", ["one member", "frozen minimum", "all members"])
def test_ensemble_forms_match_the_exact_ones(form: str) -> None:
    torch.manual_seed(1)
    net, exact = ensemble_mlp(2, 260, [256, 256], 1), ensemble_mlp(2, 260, [256, 256], 1)
    (x,) = leaves((256, 260), seed=2)
    if form == "frozen minimum":
        for p in (*net.parameters(), *exact.parameters()):
            p.requires_grad_(False)
        assert_module_close_to_exact(net, exact.double(), min_over_members, x)
    elif form == "one member":
        assert_module_close_to_exact(net, exact.double(), lambda m, x: ensemble_member(m, 1, x), x)
    else:
        assert_module_close_to_exact(net, exact.double(), lambda m, x: m(x), x)


@needs_onednn
def test_training_through_onednn_repeats_bit_for_bit() -> None:
    """Same seed, same weights after several Adam steps: the curve-determinism the learners keep."""

    def train() -> list[torch.Tensor]:
        torch.manual_seed(3)
        actor, critic = mlp(8, [256, 256], 2), ensemble_mlp(2, 10, [256, 256], 1)
        opt = torch.optim.Adam([*actor.parameters(), *critic.parameters()], lr=1e-3)
        for _ in range(5):
            x = torch.randn(256, 8)
            loss = critic(torch.cat([x, actor(x)], -1)).pow(2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        return [p.detach().clone() for p in (*actor.parameters(), *critic.parameters())]

    first, second = train(), train()
    assert all(torch.equal(a, b) for a, b in zip(first, second, strict=True))


def test_the_environment_switch_turns_it_off() -> None:
    code = "from pomdpbench.agents import onednn; print(onednn.ENABLED)"
    env = {**os.environ, "POMDPBENCH_ONEDNN": "0"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr


@needs_onednn
def test_switched_off_every_product_goes_through_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(onednn, "ENABLED", False)
    layer = EnsembleLinear(2, 256, 256)
    with torch.profiler.profile() as prof:
        layer(torch.randn(256, 256)).sum().backward()
    assert "mkldnn::_linear_pointwise" not in {e.key for e in prof.key_averages()}


@needs_onednn
@pytest.mark.parametrize("broken", ["raises", "wrong numbers"])
def test_a_kernel_that_fails_its_probe_is_never_used(
    broken: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def kernel(x: torch.Tensor, w: torch.Tensor, *args: object) -> torch.Tensor:
        if broken == "raises":
            raise RuntimeError("could not create a primitive")
        return x @ w.t() + 1

    monkeypatch.setattr(torch.ops.mkldnn, "_linear_pointwise", kernel)
    assert onednn._available() is False


def test_runs_record_the_products_path_and_verify_replays_only_on_the_same_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A run made with oneDNN switched off rounds differently: not the same platform."""
    from pomdpbench.store.provenance import device_name, package_versions
    from pomdpbench.submission.verify import same_platform

    here = device_name("cpu")
    record = {
        "device": here,
        "python_version": platform.python_version(),
        "packages": package_versions(),
    }
    assert same_platform(record)
    assert here.endswith("; oneDNN products)" if onednn.ENABLED else "; torch products)")
    monkeypatch.setattr(onednn, "ENABLED", not onednn.ENABLED)
    assert device_name("cpu") != here
    assert not same_platform(record)


def test_without_torch_loaded_the_environment_switch_decides_what_is_recorded() -> None:
    """A sweep's parent records the device before any network is built (torch not imported)."""
    code = (
        "import sys; from pomdpbench.store.provenance import device_name; "
        "print(device_name('cpu'), 'torch' in sys.modules)"
    )
    env = {**os.environ, "POMDPBENCH_ONEDNN": "0"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip().endswith("; torch products) False"), out.stdout + out.stderr


@needs_onednn
@pytest.mark.parametrize("layout", ["column slice", "transposed"])
def test_strided_inputs_give_the_exact_products(layout: str) -> None:
    """Inputs the networks hand over as views (a slice of a concatenation, a transpose)."""
    generator = torch.Generator().manual_seed(4)
    base = torch.randn(256, 600, generator=generator)
    x = base[:, 100:356] if layout == "column slice" else base[:, :256].t().contiguous().t()
    weight, bias = torch.randn(320, 256, generator=generator), torch.randn(320, generator=generator)
    assert not x.is_contiguous() and onednn.fits(x, weight.t())
    exact = nn.functional.linear(x.double(), weight.double(), bias.double())
    torch.testing.assert_close(onednn.linear(x, weight, bias).double(), exact, **TOLERANCE)
    members = torch.stack([x, x.flip(0)])  # (2, 256, 256) with the same strides
    w2, b2 = torch.randn(2, 256, 320, generator=generator), torch.randn(2, 1, 320)
    exact = torch.baddbmm(b2.double(), members.double(), w2.double())
    got = onednn.ensemble_products(members.transpose(1, 2).contiguous().transpose(1, 2), w2, b2)
    torch.testing.assert_close(got.double(), exact, **TOLERANCE)
