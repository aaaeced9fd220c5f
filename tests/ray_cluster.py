"""A real multi-node Ray cluster on this machine for the Ray backend's tests.

A head (no CPUs: it only coordinates) and two worker nodes with one CPU each, every one a
``ray start --block`` process of its own session, so that stopping it (SIGTERM, then SIGKILL
of its process group) stops its node, and nothing is left behind even when a test fails.

Every node takes the loopback address 127.0.0.2: Ray turns an explicit 127.0.0.1 or
``localhost`` into the address facing the network (``resolve_ip_for_localhost``), and the
tests must stay on the loopback. The cluster has its own auth token, so no token of another
Ray on the machine is used or needed.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from pomdpbench.sweep.reaper import descendants

LOOPBACK = "127.0.0.2"
RAY = str(Path(sys.executable).with_name("ray"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def alive(pids: set[int]) -> set[int]:
    """The pids that still run (zombies count as gone)."""
    running = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state != "Z":
            running.add(pid)
    return running


def cmdline(pid: int) -> str:
    try:
        return (
            Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        )
    except OSError:
        return ""


@dataclass
class RayCluster:
    """A running cluster: its address, the environment to reach it, its node processes."""

    address: str
    env: dict[str, str]
    nodes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    leftover: set[int] = field(default_factory=set)
    """Processes still alive after :func:`stop` (even SIGKILL did not end them)."""

    def processes(self) -> set[int]:
        """Every process of the cluster (node commands and what they started)."""
        pids = {node.pid for node in self.nodes}
        for node in self.nodes:
            pids |= descendants(node.pid)
        return alive(pids)

    def task_workers(self, name: str) -> list[int]:
        """Worker processes now running a task whose name starts with ``name``."""
        return sorted(p for p in self.processes() if cmdline(p).startswith(f"ray::{name}"))


def _start_node(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    ports = (
        "--dashboard-agent-listen-port",
        "--dashboard-agent-grpc-port",
        "--metrics-export-port",
        "--runtime-env-agent-port",
    )
    command = [
        RAY,
        "start",
        "--block",
        "--node-ip-address",
        LOOPBACK,
        "--disable-usage-stats",
        "--object-store-memory",
        str(100 * 2**20),
        "--min-worker-port",
        "0",
        "--max-worker-port",
        "0",
        *args,
    ]
    for flag in ports:
        command += [flag, str(free_port())]
    with log.open("wb") as out:
        return subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def _wait_for_cpus(address: str, env: dict[str, str], cpus: int, timeout: float) -> None:
    probe = (
        "import ray, sys, time\n"
        f"ray.init(address={address!r}, logging_level='ERROR', log_to_driver=False)\n"
        f"deadline = time.monotonic() + {timeout}\n"
        f"while ray.cluster_resources().get('CPU', 0) < {cpus}:\n"
        "    if time.monotonic() > deadline: sys.exit(1)\n"
        "    time.sleep(0.5)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        env=env,
        capture_output=True,
        timeout=timeout + 120,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the Ray cluster did not come up: {done.stderr.decode()[-2000:]}")


def stop(cluster: RayCluster) -> set[int]:
    """Stop every node; return the processes still alive afterwards (should be none)."""
    before = cluster.processes()
    for node in cluster.nodes:
        if node.poll() is None:
            os.killpg(node.pid, signal.SIGTERM)
    deadline = time.monotonic() + 60
    while alive(before) and time.monotonic() < deadline:
        time.sleep(0.5)
    for pid in alive(before):  # ours: started by this cluster's node commands
        os.kill(pid, signal.SIGKILL)
    for node in cluster.nodes:
        node.wait(10)
    time.sleep(1)
    return alive(before)


@contextmanager
def ray_cluster(logs: Path, worker_nodes: int = 2) -> Iterator[RayCluster]:
    """Start the head and ``worker_nodes`` one-CPU nodes; stop them all on the way out."""
    logs.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)}
    env.pop("RAY_ADDRESS", None)
    port = free_port()
    cluster = RayCluster(address=f"{LOOPBACK}:{port}", env=env)
    try:
        head = ["--head", "--port", str(port), "--num-cpus", "0", "--include-dashboard", "false"]
        cluster.nodes.append(_start_node(head, env, logs / "head.log"))
        _wait_for_cpus(cluster.address, env, 0, 120)
        for index in range(worker_nodes):
            args = ["--address", cluster.address, "--num-cpus", "1"]
            cluster.nodes.append(_start_node(args, env, logs / f"worker-{index}.log"))
            _wait_for_cpus(cluster.address, env, index + 1, 180)  # one at a time: less load
        yield cluster
    finally:
        cluster.leftover = stop(cluster)
