"""Run ownership: a lease in the database says which sweep process trains a run.

Two sweeps of the same command (a rerun while the first still runs, or two machines sharing a
PostgreSQL store) must never train one run into one checkpoint folder. Before a worker starts,
the sweep takes the run's lease (its host and pid, and a heartbeat it renews every
:data:`HEARTBEAT_S`). Another sweep finding a live lease skips the run with one line; a stale
lease (owner on this host is gone, or no heartbeat for :data:`LEASE_TTL_S`) is taken over.

Taking over is a compare-and-swap on the old owner and heartbeat, and a first lease is an
insert on the primary key, so of two sweeps racing for one run exactly one wins.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from pomdpbench.store.models import RunLease

HEARTBEAT_S = 10.0
LEASE_TTL_S = 120.0
"""A lease without a heartbeat for this long is stale (its owner hung or its host is gone)."""


@dataclass(frozen=True)
class Owner:
    """Who holds (or held) a lease."""

    host: str
    pid: int
    heartbeat_age_s: float

    def describe(self) -> str:
        """``"pid 123 on host-a (heartbeat 3 s ago)"``."""
        return f"pid {self.pid} on {self.host} (heartbeat {self.heartbeat_age_s:.0f} s ago)"


def me() -> tuple[str, int]:
    """This process's host and pid."""
    return socket.gethostname(), os.getpid()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_live(lease: RunLease, now: float) -> bool:
    """Whether the lease's owner may still be training the run."""
    if now - lease.heartbeat_at > LEASE_TTL_S:
        return False
    host, _ = me()
    return lease.owner_host != host or _pid_alive(lease.owner_pid)


def take(session: Session, run_key: str) -> tuple[bool, Owner | None]:
    """Take the lease of ``run_key``.

    Returns ``(True, the stale owner taken over or None)``, or ``(False, the live owner)``.
    """
    host, pid = me()
    now = time.time()
    lease = session.get(RunLease, run_key)
    if lease is None:
        session.add(
            RunLease(
                run_key=run_key, owner_host=host, owner_pid=pid, acquired_at=now, heartbeat_at=now
            )
        )
        session.flush()  # IntegrityError if another sweep inserted it first (the caller's case)
        return True, None
    previous = _owner(lease, now)
    ours = (lease.owner_host, lease.owner_pid) == (host, pid)
    if is_live(lease, now) and not ours:
        return False, previous
    swapped = session.execute(
        update(RunLease)
        .where(
            RunLease.run_key == run_key,
            RunLease.owner_host == lease.owner_host,
            RunLease.owner_pid == lease.owner_pid,
            RunLease.heartbeat_at == lease.heartbeat_at,
        )
        .values(owner_host=host, owner_pid=pid, acquired_at=now, heartbeat_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(swapped, "rowcount", 0) != 1:
        return False, previous
    return True, None if ours else previous


def renew(session: Session, run_keys: list[str]) -> None:
    """Refresh the heartbeat of this process's leases among ``run_keys``."""
    host, pid = me()
    session.execute(
        update(RunLease)
        .where(
            RunLease.run_key.in_(run_keys),
            RunLease.owner_host == host,
            RunLease.owner_pid == pid,
        )
        .values(heartbeat_at=time.time())
        .execution_options(synchronize_session=False)
    )


def release(session: Session, run_keys: list[str] | None = None) -> None:
    """Drop this process's leases (of ``run_keys``, or all of them)."""
    host, pid = me()
    query = delete(RunLease).where(RunLease.owner_host == host, RunLease.owner_pid == pid)
    if run_keys is not None:
        query = query.where(RunLease.run_key.in_(run_keys))
    session.execute(query.execution_options(synchronize_session=False))


def owner(session: Session, run_key: str) -> Owner | None:
    """The current holder of the lease, if any."""
    lease = session.scalar(select(RunLease).where(RunLease.run_key == run_key))
    return None if lease is None else _owner(lease, time.time())


def _owner(lease: RunLease, now: float) -> Owner:
    return Owner(lease.owner_host, lease.owner_pid, max(0.0, now - lease.heartbeat_at))
