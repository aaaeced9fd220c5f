"""The compiled CPU scan and convolution (``encoders/compiled_scan.py``, ``compiled_conv.py``,
``mamba_kernels.c``): same numerics, resets honoured, and a clean fall back to pure PyTorch
when they cannot run.

Tests that need the kernels skip, with the reason, where no C compiler is found. Each of those
first makes the pure-PyTorch scan and convolution raise, so a pass cannot come from a silent
fall back.
"""

from __future__ import annotations

import fnmatch
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from pomdpbench.agents.resel.encoders import compiled_conv, compiled_scan, kernel_build
from pomdpbench.agents.resel.encoders import scan as torch_scan
from pomdpbench.agents.resel.encoders.compiled_conv import torch_causal_conv
from pomdpbench.agents.resel.encoders.compiled_scan import kernel_for, selective_scan
from pomdpbench.agents.resel.encoders.scan import reference_selective_scan
from tests.test_resel_encoders import assert_a_reset_isolates, assert_scans_agree, scan_inputs

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

LOGGER = compiled_scan.LOG.name


def _pure_path_must_not_run(*args: object) -> torch.Tensor:
    raise AssertionError("a pure-PyTorch path ran where the compiled one should")


@pytest.fixture
def compiled(monkeypatch: pytest.MonkeyPatch) -> None:
    """The compiled kernels, or a skip saying why they cannot be built here."""
    monkeypatch.delenv(compiled_scan.ENV, raising=False)
    library, reason = kernel_build.load_kernel()
    if library is None:
        pytest.skip(f"no compiled scan: {reason}")
    monkeypatch.setattr(torch_scan, "selective_scan", _pure_path_must_not_run)
    monkeypatch.setattr(compiled_conv, "torch_causal_conv", _pure_path_must_not_run)


@pytest.fixture
def fresh_build(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """An empty kernel cache under ``tmp_path``, and no remembered library or logged reason."""
    monkeypatch.setenv("POMDPBENCH_CACHE", str(tmp_path))
    monkeypatch.delenv(compiled_scan.ENV, raising=False)
    kernel_build.load_kernel.cache_clear()
    compiled_scan._note.cache_clear()
    yield
    kernel_build.load_kernel.cache_clear()
    compiled_scan._note.cache_clear()


@pytest.mark.usefixtures("compiled")
@pytest.mark.parametrize(("batch", "length"), [(3, 23), (1, 9), (2, 1), (4, 31)])
def test_compiled_scan_matches_the_step_loop_and_its_gradients(batch: int, length: int) -> None:
    """Values and every gradient (u, dt, A, B, C, D, z) in float64, with resets inside rows
    and at their ends, odd lengths, one row and several."""
    inputs, keep = scan_inputs(torch.float64, batch=batch, length=length, d_inner=6, n_state=5)
    assert_scans_agree(selective_scan, reference_selective_scan, inputs, keep)


@pytest.mark.usefixtures("compiled")
def test_compiled_scan_passes_finite_differences() -> None:
    inputs, keep = scan_inputs(torch.float64, batch=2, length=11, d_inner=3, n_state=4)
    assert torch.autograd.gradcheck(lambda *args: selective_scan(*args, keep), inputs)


@pytest.mark.usefixtures("compiled")
def test_compiled_scan_matches_the_pure_scan_in_float32(monkeypatch: pytest.MonkeyPatch) -> None:
    """float32 against the pure-PyTorch scan at a wider state (its vectorized loops, their
    remainders: 24 channels, 20 states) and longer rows."""
    inputs, keep = scan_inputs(torch.float32, batch=3, length=75, d_inner=24, n_state=20)
    new = selective_scan(*inputs, keep)
    monkeypatch.undo()
    old = torch_scan.selective_scan(*inputs, keep)
    torch.testing.assert_close(new, old, rtol=1e-5, atol=1e-5)
    weights = torch.randn_like(new)
    new_grads = torch.autograd.grad((new * weights).sum(), inputs)
    old_grads = torch.autograd.grad((old * weights).sum(), inputs)
    for g_new, g_old in zip(new_grads, old_grads, strict=True):
        torch.testing.assert_close(g_new, g_old, rtol=1e-4, atol=1e-4)


@pytest.mark.usefixtures("compiled")
def test_a_reset_zeroes_the_state_and_stops_every_gradient() -> None:
    """Two trajectories stacked in one row: the second's outputs are those of it alone, and no
    gradient reaches the first's inputs (exactly zero, not small)."""
    assert_a_reset_isolates(selective_scan, length=17)


@pytest.mark.usefixtures("compiled")
def test_a_huge_step_underflows_the_decay_to_zero() -> None:
    """``delta * A`` far below the exponent range (the CUDA path's flush, 1e4): decay 0, no NaN."""
    inputs, keep = scan_inputs(torch.float32, batch=2, length=9)
    u, dt, A, B, C, D, z = inputs
    dt = dt.detach().clone()
    dt[:, 4] = 1e4
    out = selective_scan(u, dt, A, B, C, D, z, keep)
    reference = reference_selective_scan(u, dt, A, B, C, D, z, keep)
    assert torch.isfinite(out).all()
    torch.testing.assert_close(out, reference, rtol=1e-5, atol=1e-5)


@pytest.mark.usefixtures("compiled")
def test_the_mamba_core_runs_the_compiled_scan_and_convolution() -> None:
    """The encoder's own path reaches the kernels (the pure scan and convolution raise)."""
    from tests.test_resel_encoders import test_no_gradient_crosses_trajectories

    test_no_gradient_crosses_trajectories("mamba")


@pytest.mark.usefixtures("compiled")
@pytest.mark.parametrize(("length", "width"), [(13, 4), (2, 4), (7, 1)])
def test_compiled_convolution_matches_the_shifted_multiply_adds(length: int, width: int) -> None:
    """Values and gradients (input, weights, bias) in float64, a row shorter than the filter
    included; finite differences once."""
    torch.manual_seed(1)
    x = torch.randn(3, length, 5, dtype=torch.float64, requires_grad=True)
    weight = torch.randn(5, width, dtype=torch.float64, requires_grad=True)
    bias = torch.randn(5, dtype=torch.float64, requires_grad=True)
    fast = compiled_conv.causal_conv(x, weight, bias)
    slow = torch_causal_conv(x, weight, bias)  # the original, imported before the fixture ran
    torch.testing.assert_close(fast, slow, rtol=1e-12, atol=1e-12)
    with torch.no_grad():
        torch.testing.assert_close(compiled_conv.causal_conv(x, weight, bias), slow)
    weights = torch.randn_like(fast)
    fast_grads = torch.autograd.grad((fast * weights).sum(), (x, weight, bias))
    slow_grads = torch.autograd.grad((slow * weights).sum(), (x, weight, bias))
    for g_fast, g_slow in zip(fast_grads, slow_grads, strict=True):
        torch.testing.assert_close(g_fast, g_slow, rtol=1e-12, atol=1e-12)
    if length == 13:
        assert torch.autograd.gradcheck(compiled_conv.causal_conv, (x, weight, bias))


def _fell_back(caplog: pytest.LogCaptureFixture, *, expect: str) -> None:
    """One logged line naming the reason, and no traceback in it."""
    lines = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    assert len(lines) == 1, lines
    assert expect in lines[0] and "\n" not in lines[0]
    assert all(r.exc_info is None for r in caplog.records)


@pytest.mark.usefixtures("fresh_build")
@pytest.mark.parametrize(
    ("value", "expect"),
    [("torch", "POMDPBENCH_SCAN=torch is set"), ("fast", "is not 'auto' or 'torch'")],
)
def test_the_environment_chooses_the_pure_scan(
    value: str, expect: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """``torch`` asks for the pure scan; a value it does not know falls back and says so."""
    monkeypatch.setenv(compiled_scan.ENV, value)
    inputs, keep = scan_inputs(torch.float64, batch=2, length=5)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        out = selective_scan(*inputs, keep)
        selective_scan(*inputs, keep)  # logged once, not per call
    torch.testing.assert_close(out, torch_scan.selective_scan(*inputs, keep), rtol=0, atol=0)
    _fell_back(caplog, expect=expect)


@pytest.mark.usefixtures("fresh_build")
def test_without_a_compiler_the_pure_scan_runs(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("CC", "no-such-compiler")
    monkeypatch.setenv("PATH", "/nonexistent")
    inputs, keep = scan_inputs(torch.float64, batch=2, length=5)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        out = selective_scan(*inputs, keep)
    torch.testing.assert_close(out, reference_selective_scan(*inputs, keep))
    _fell_back(caplog, expect="no C compiler found")


@pytest.mark.usefixtures("fresh_build")
def test_a_failed_build_falls_back_with_the_compilers_first_error(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    if kernel_build.compiler() is None:
        pytest.skip("no C compiler to fail with")
    broken = tmp_path / "mamba_kernels.c"
    broken.write_text("int scan_forward_float32(void) { return missing_name; }\n")
    monkeypatch.setattr(kernel_build, "SOURCE", broken)
    inputs, keep = scan_inputs(torch.float64, batch=2, length=5)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        out = selective_scan(*inputs, keep)
    torch.testing.assert_close(out, reference_selective_scan(*inputs, keep))
    _fell_back(caplog, expect="missing_name")
    assert not list((tmp_path / "kernels").glob("*")), "a failed build leaves no file behind"


@pytest.mark.usefixtures("fresh_build")
def test_an_unwritable_cache_falls_back_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    if kernel_build.compiler() is None:
        pytest.skip("no C compiler found")
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("POMDPBENCH_CACHE", str(blocker))
    inputs, keep = scan_inputs(torch.float64, batch=2, length=5)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        out = selective_scan(*inputs, keep)
    torch.testing.assert_close(out, reference_selective_scan(*inputs, keep))
    _fell_back(caplog, expect="set POMDPBENCH_CACHE to a writable folder")


@pytest.mark.usefixtures("fresh_build")
def test_other_devices_and_dtypes_are_left_to_the_pure_scan(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        assert kernel_for(torch.zeros(1, device="meta")) is None
    _fell_back(caplog, expect="on meta")
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        assert kernel_for(torch.zeros(1, dtype=torch.bfloat16)) is None
    _fell_back(caplog, expect="bfloat16")


@pytest.mark.usefixtures("fresh_build")
def test_the_cache_is_keyed_by_source_and_reused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cc = kernel_build.compiler()
    if cc is None:
        pytest.skip("no C compiler found")
    library, _ = kernel_build.load_kernel()
    assert library is not None
    built = kernel_build.library_path(cc)
    assert built.parent == tmp_path / "kernels" and built.exists()
    stamp = built.stat().st_mtime_ns
    kernel_build.load_kernel.cache_clear()
    assert kernel_build.load_kernel()[0] is not None
    assert built.stat().st_mtime_ns == stamp, "a cached kernel is not rebuilt"
    edited = tmp_path / "mamba_kernels.c"
    edited.write_text(kernel_build.SOURCE.read_text() + "\n/* edited */\n")
    monkeypatch.setattr(kernel_build, "SOURCE", edited)
    assert kernel_build.library_path(cc) != built
    monkeypatch.setattr(kernel_build, "FLAGS", (*kernel_build.FLAGS, "-g"))
    assert kernel_build.library_path(cc) != built


def test_the_kernel_source_ships_in_the_package() -> None:
    """A non-editable install must carry ``mamba_kernels.c`` (pyproject's package data)."""
    pyproject = Path(__file__).parents[1] / "pyproject.toml"
    data = tomllib.loads(pyproject.read_text())["tool"]["setuptools"]["package-data"]
    patterns = data["pomdpbench.agents.resel.encoders"]
    assert any(fnmatch.fnmatch(kernel_build.SOURCE.name, p) for p in patterns)
