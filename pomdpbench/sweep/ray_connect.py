"""Connecting a sweep to Ray: the optional import, the settings, and the session.

Without an address, pomdpbench starts a private Ray instance on this machine, sized by
``--workers``, bound to the loopback, and shuts it down (with a watchdog for ``kill -9``:
:mod:`pomdpbench.sweep.reaper`) when the sweep ends. With one, it joins the cluster and
leaves it as it was. Every setting is checked before anything runs, each failure in one line.
"""

from __future__ import annotations

import contextlib
import math
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pomdpbench.errors import ConfigError
from pomdpbench.sweep.reaper import Reaper, descendants

INSTALL_HINT = "pip install 'pomdpbench[ray]'"
MAX_RETRIES = 3
"""Attempts Ray makes after the first when a task's worker or node dies (Ray's default)."""
LOOPBACK_SWITCH = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"
"""Ray's switch (``ray._private.ray_constants``) for single-node instances on the loopback."""


def require_ray() -> Any:
    """The ``ray`` module, or a one-line error naming the install command."""
    try:
        import ray
    except ImportError:
        raise ConfigError(
            f"--backend ray needs Ray, which is not installed: {INSTALL_HINT}"
        ) from None
    return ray


@dataclass(frozen=True)
class RayOptions:
    """Where the tasks run and what each asks for."""

    address: str | None = None
    """``ray://host:port``, ``host:port`` or ``auto``; None starts a private local instance."""
    cpus_per_run: float = 1.0
    gpus_per_run: float = 0.0
    local_runs: int | None = None
    """Size a private instance for this many runs at once (default: all of this machine)."""
    max_retries: int = MAX_RETRIES


def check_request(value: float, flag: str) -> None:
    """A Ray resource request: non-negative, and whole when above 1 (Ray's rule)."""
    if not math.isfinite(value) or value < 0:
        raise ConfigError(f"{flag} must be a non-negative number, got {value}")
    if value > 1 and value != int(value):
        raise ConfigError(f"{flag} above 1 must be a whole number (Ray's rule), got {value}")


def check_reachable(address: str, timeout_s: float = 5.0) -> None:
    """Fail in one line if nothing listens at ``host:port`` (Ray itself retries for minutes).

    ``auto`` is left to Ray, which finds the address in ``RAY_ADDRESS`` or its own files.
    """
    if address == "auto":
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError(
            f"--address {address!r} is not host:port, ray://host:port or auto: e.g. "
            "--address ray://head-node:10001"
        )
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s).close()
    except OSError as exc:
        raise ConfigError(
            f"nothing answers at {address} ({exc.strerror or exc}): start the cluster with "
            f"`ray start --head --port {port}` there, or fix --address"
        ) from None


@contextlib.contextmanager
def ray_session(options: RayOptions) -> Iterator[None]:
    """Connect to the cluster (or start a private instance) for the duration of the block."""
    ray = require_ray()
    quiet: dict[str, Any] = {"log_to_driver": False, "logging_level": "WARNING"}
    reaper = Reaper(exclude=descendants(os.getpid())) if options.address is None else None
    try:
        if reaper is not None:
            reaper.start()
        if options.address is None:
            # A private instance serves this machine only: Ray then takes the loopback address
            # as the node's address instead of the one facing the network (Ray turns an
            # explicit 127.0.0.1 into the latter; this switch is how it keeps the former).
            os.environ.setdefault(LOOPBACK_SWITCH, "0")
            size = options.local_runs
            cpus = None if size is None else max(1, math.ceil(size * options.cpus_per_run))
            gpus = (
                None
                if size is None or not options.gpus_per_run
                else math.ceil(size * options.gpus_per_run)
            )
            ray.init(
                address="local", num_cpus=cpus, num_gpus=gpus, include_dashboard=False, **quiet
            )
        else:
            ray.init(address=options.address, **quiet)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        if reaper is not None:
            reaper.stop()
        where = options.address or "a new local instance"
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ConfigError(
            f"cannot connect to the Ray cluster at {where} ({first}): start one with "
            "`ray start --head`, or leave out --address to run on this machine"
        ) from None
    if reaper is not None:
        reaper.send()  # the instance's processes, before the first run
    try:
        yield
    finally:
        ray.shutdown()  # a private instance stops here; on a cluster, this job's tasks end
        if reaper is not None:
            reaper.stop()  # and whatever of it is still running (agents that linger)
