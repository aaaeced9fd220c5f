"""``pomdpbench leaderboard``: start the Streamlit app over the results database.

The command checks the database first (a missing or foreign file is a one-line error, not a
page with a traceback), then runs ``streamlit run`` on the installed app file with
``POMDPBENCH_DB`` set, until Ctrl-C. It writes nothing into the database.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
from typing import Any

from pomdpbench.cli.common import add_db_option
from pomdpbench.errors import ConfigError
from pomdpbench.paths import leaderboard_dir

DEFAULT_PORT = 8501


def add_parser(commands: Any) -> None:
    """Register the ``leaderboard`` subcommand."""
    parser = commands.add_parser("leaderboard", help="open the Streamlit leaderboard")
    add_db_option(parser)
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port to serve on (default {DEFAULT_PORT})"
    )
    parser.add_argument(
        "--address",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1; 0.0.0.0 to share on the network)",
    )
    parser.set_defaults(handler=run)


def streamlit_command(port: int, address: str) -> list[str]:
    """The ``streamlit run`` command line for the installed app."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(leaderboard_dir() / "app.py"),
        "--server.port",
        str(port),
        "--server.address",
        address,
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
    ]


def check_port(port: int, address: str) -> None:
    """Fail early, in one line, if the port cannot be served on.

    Raises:
        ConfigError: out of range or already in use.
    """
    if not 1 <= port <= 65535:
        raise ConfigError(f"--port {port} is not a port number: pass one from 1 to 65535")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((address, port))
        except OSError:
            raise ConfigError(
                f"port {port} on {address} is in use (another leaderboard?): pass --port "
                "with a free one"
            ) from None


def run(args: argparse.Namespace) -> int:
    """Check the database and the port, then serve until interrupted."""
    from pomdpbench.store.database import database_url, describe, open_engine

    url = database_url(args.db)
    open_engine(url, create=False).dispose()
    check_port(args.port, args.address)
    print(f"leaderboard of {describe(url)} on http://{args.address}:{args.port} (Ctrl-C stops)")
    env = {**os.environ, "POMDPBENCH_DB": url}
    return serve(streamlit_command(args.port, args.address), env)


def serve(command: list[str], env: dict[str, str]) -> int:
    """Run the server until it exits; it ends with this process, whatever ends this one.

    The server gets SIGTERM from the kernel if this process dies (even by ``kill -9``), and
    a SIGTERM or Ctrl-C sent to this process is passed on, so the port is always freed.
    """
    from pomdpbench.sweep.lifetime import popen_tied_to_parent

    server = popen_tied_to_parent(command, env=env)

    def stop(signum: int, _frame: object) -> None:
        server.terminate()

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        return server.wait()
    except KeyboardInterrupt:
        server.terminate()
        try:
            return server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            return server.wait()
    finally:
        signal.signal(signal.SIGTERM, previous)
