"""Build ``mamba_kernels.c`` with the system C compiler on first use, and load it with ctypes.

The C source ships inside the package (pyproject's package data), so an installed copy builds
the same kernel. The shared library goes to a per-user cache directory
(``$POMDPBENCH_CACHE`` or ``$XDG_CACHE_HOME/pomdpbench`` or ``~/.cache/pomdpbench``, under
``kernels/``), named by a hash of the source, the compiler and its version, the flags and the
CPU: ``-march=native`` code must not run on another CPU that shares the home directory, and an
edited source or another compiler builds anew. A build writes a temporary file and renames it,
so processes building at once (a sweep's workers) never load half a file.

Nothing here raises: :func:`load_kernel` returns the library or the one-line reason it could
not (no compiler, a failed build, a library that does not load), and the caller falls back to
the pure-PyTorch scan.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
from functools import cache
from pathlib import Path

SOURCE = Path(__file__).with_name("mamba_kernels.c")
FLAGS = ("-O3", "-march=native", "-fopenmp-simd", "-std=c11", "-shared", "-fPIC")
"""No ``-ffast-math``: the kernel vectorizes without it (its reductions are ``omp simd``) and
keeps IEEE rounding, so float64 results match the step loop to 1e-12."""
BUILD_SECONDS = 120
KERNELS = (
    ("scan_forward", 4, 10),
    ("gate_backward", 2, 10),
    ("scan_backward", 4, 15),
    ("conv_forward", 4, 4),
    ("conv_backward", 4, 6),
)
"""The C functions, each with its count of size arguments (int64) and array pointers."""


def compiler() -> str | None:
    """``$CC``, else ``cc``, else ``gcc``, where it exists on ``PATH``."""
    for name in (os.environ.get("CC"), "cc", "gcc"):
        if name:
            found = shutil.which(name)
            if found:
                return found
    return None


def cache_dir() -> Path:
    """The per-user folder for built kernels."""
    root = os.environ.get("POMDPBENCH_CACHE")
    if root:
        return Path(root) / "kernels"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "pomdpbench" / "kernels"


def cpu_identity() -> str:
    """The CPU's model and feature flags (Linux), else what :mod:`platform` knows."""
    parts = [platform.machine(), platform.processor()]
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            key = line.split(":", 1)[0].strip()
            if key in {"model name", "flags", "Features", "CPU part"}:
                parts.append(line)
            if not line.strip() and len(parts) > 2:
                break  # the first processor's block is enough
    return "\n".join(parts)


def _compiler_version(cc: str) -> str:
    try:
        result = subprocess.run(
            [cc, "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return f"unknown ({exc})"
    return result.stdout


def library_path(cc: str) -> Path:
    """Where the kernel built by ``cc`` for this CPU lives."""
    key = hashlib.sha256()
    for part in (SOURCE.read_bytes(), cc.encode(), _compiler_version(cc).encode()):
        key.update(part)
        key.update(b"\0")
    key.update(" ".join(FLAGS).encode() + b"\0" + cpu_identity().encode())
    return cache_dir() / f"scan-{key.hexdigest()[:20]}.so"


def build(cc: str, target: Path) -> str | None:
    """Compile :data:`SOURCE` into ``target``; None, or why it failed (one line)."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=target.stem, suffix=".tmp")
        os.close(handle)
    except OSError as exc:
        return f"cannot write the kernel cache ({exc}): set POMDPBENCH_CACHE to a writable folder"
    command = [cc, *FLAGS, "-o", temporary, str(SOURCE)]
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=BUILD_SECONDS, check=False
        )
        if result.returncode != 0:
            lines = (result.stderr.strip() or result.stdout.strip()).splitlines()
            errors = [line for line in lines if "error" in line.lower()] or lines
            first = errors[0].strip() if errors else f"exit status {result.returncode}"
            return f"{cc} {' '.join(FLAGS)} could not build {SOURCE.name}: {first}"
        os.replace(temporary, target)
        return None
    except (OSError, subprocess.SubprocessError) as exc:
        return f"running {cc} failed: {exc}"
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


@cache
def load_kernel() -> tuple[ctypes.CDLL | None, str]:
    """The compiled library (built if needed), or None and the reason (one line)."""
    if not SOURCE.exists():
        return None, f"{SOURCE.name} is not installed next to {Path(__file__).name}"
    cc = compiler()
    if cc is None:
        return None, "no C compiler found (set CC or install gcc)"
    try:
        target = library_path(cc)
        if not target.exists():
            failure = build(cc, target)
            if failure is not None:
                return None, failure
        library = ctypes.CDLL(str(target))
    except OSError as exc:
        return None, f"loading the compiled scan failed: {exc}"
    for dtype in ("float32", "float64"):
        for name, sizes, arrays in KERNELS:
            function = getattr(library, f"{name}_{dtype}")
            function.argtypes = [ctypes.c_int64] * sizes + [ctypes.c_void_p] * arrays
            function.restype = ctypes.c_int
    return library, f"compiled kernels {target}"
