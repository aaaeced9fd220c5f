"""A throwaway PostgreSQL server for the tests, started and stopped by the tests themselves.

``initdb`` into a fresh temporary folder, ``pg_ctl start`` on a free port of 127.0.0.1 (its unix
socket in that folder, trust authentication for one superuser), and ``pg_ctl stop`` when the
test session ends, whether the tests passed or not. A watchdog process (``pg_watchdog.py``)
stops the server and deletes its folder when the test process dies without cleaning up
(``kill -9``): the daemonized server would otherwise outlive it. PostgreSQL refuses to run as
root, so under root (CI, containers) the server runs as Debian's ``postgres`` user. Without
the server binaries (Debian's ``postgresql`` package; ``.ci/run`` installs it) or the driver
the tests that need a server are skipped, saying which is missing.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pg_watchdog import stop_server

SUPERUSER = "pomdpbench"
WATCHDOG = Path(__file__).resolve().parent / "pg_watchdog.py"
_names = itertools.count()


def find_bindir() -> Path | None:
    """The newest ``/usr/lib/postgresql/<N>/bin`` (Debian's layout), else ``initdb`` on PATH."""

    def major(folder: str) -> int:
        part = Path(folder).parent.name
        return int(part) if part.isdigit() else 0

    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=major, reverse=True)
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(str(Path(on_path).resolve().parent))
    for folder in candidates:
        if all((Path(folder) / tool).exists() for tool in ("initdb", "pg_ctl", "postgres")):
            return Path(folder)
    return None


def _server_account() -> dict[str, Any]:
    """``subprocess`` arguments that run the server as a user it accepts (not root)."""
    if os.geteuid() != 0:
        return {}
    try:
        account = pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip(
            "running as root and there is no `postgres` user to run the server as: "
            "apt-get install postgresql creates it"
        )
    return {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class PostgresServer:
    """A running server: its port, and fresh databases on demand."""

    bindir: Path
    folder: Path
    port: int
    account: dict[str, Any]
    watchdog: subprocess.Popen[bytes] | None = None

    def url(self, database: str, driver: str = "psycopg") -> str:
        """The SQLAlchemy URL of ``database`` on this server."""
        return f"postgresql+{driver}://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def admin(self) -> Any:
        """An autocommit psycopg connection to the ``postgres`` database."""
        import psycopg

        return psycopg.connect(
            host="127.0.0.1", port=self.port, user=SUPERUSER, dbname="postgres", autocommit=True
        )

    def new_database(self) -> str:
        """Create an empty database and return its URL."""
        name = f"test_{os.getpid()}_{next(_names)}"
        with self.admin() as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        """Stop the server (immediately: the data is thrown away) and delete its folder."""
        if self.watchdog is not None:  # this process cleans up: the watchdog is not needed
            self.watchdog.kill()
            self.watchdog.wait()
            self.watchdog = None
        stop_server(self.folder, str(self.bindir / "pg_ctl"), self.account)


def _run(command: list[str], account: dict[str, Any], cwd: Path) -> None:
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
        env={"PATH": os.environ.get("PATH", ""), "LC_ALL": "C"},
        **account,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:2])} failed: {done.stderr.strip()[-800:]}")


def _start_watchdog(bindir: Path, folder: Path, account: dict[str, Any]) -> subprocess.Popen[bytes]:
    """A process that stops the server in ``folder`` once this process has died (pg_watchdog.py)."""
    ids = [str(account["user"]), str(account["group"])] if account else []
    return subprocess.Popen(
        [
            sys.executable,
            str(WATCHDOG),
            str(os.getpid()),
            str(folder),
            str(bindir / "pg_ctl"),
            *ids,
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # a kill of this process group leaves it running to clean up
    )


def require_server() -> tuple[Path, dict[str, Any]]:
    """The server's bindir and account; skips the test when binaries or driver are missing."""
    pytest.importorskip("psycopg", reason="psycopg is not installed: pip install -e '.[postgres]'")
    bindir = find_bindir()
    if bindir is None:
        pytest.skip(
            "PostgreSQL server binaries (initdb, pg_ctl) not found under "
            "/usr/lib/postgresql/*/bin or on PATH: apt-get install postgresql "
            "(.ci/run installs it)"
        )
    return bindir, _server_account()


def start_server() -> PostgresServer:
    """initdb and start a server; skips the test when binaries or driver are missing."""
    bindir, account = require_server()
    folder = Path(tempfile.mkdtemp(prefix="pomdpbench-pg-"))
    if account:
        os.chown(folder, account["user"], account["group"])
    data = folder / "data"
    server = PostgresServer(bindir, folder, 0, account)
    try:
        server.watchdog = _start_watchdog(bindir, folder, account)
        _run(
            [
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
            account,
            folder,
        )
        for attempt in range(3):  # a free port may be taken between the probe and the start
            server.port = _free_port()
            options = (
                f"-p {server.port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c max_connections=80 "
                "-c shared_buffers=32MB"
            )
            try:
                _run(
                    [
                        str(bindir / "pg_ctl"),
                        "-D",
                        str(data),
                        "-l",
                        str(folder / "server.log"),
                        "-w",
                        "-t",
                        "60",
                        "-o",
                        options,
                        "start",
                    ],
                    account,
                    folder,
                )
                return server
            except RuntimeError:
                if attempt == 2:
                    log = (folder / "server.log").read_text(errors="replace")[-800:]
                    raise RuntimeError(f"pg_ctl start failed three times: {log}") from None
    except BaseException:
        server.stop()
        raise
    raise AssertionError("unreachable")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One server for the whole session, stopped at its end even if tests failed."""
    server = start_server()
    atexit.register(server.stop)  # also if the session is torn down abnormally
    try:
        yield server
    finally:
        with contextlib.suppress(Exception):
            server.stop()


@pytest.fixture
def pg_url(postgres_server: PostgresServer) -> str:
    """A fresh, empty database on the session's server."""
    return postgres_server.new_database()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, workdir: Path) -> str:
    """The same test on a SQLite file and on a fresh database of the PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{workdir / 'results.db'}"
    return str(request.getfixturevalue("pg_url"))
