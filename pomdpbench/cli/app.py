"""The ``pomdpbench`` command: one entry point, one module per subcommand.

argparse rather than Click/Typer because the documented interface takes space-separated
lists (``--task A B``, ``--seeds 0 1 2``), which Click options cannot parse. Every error the
user can fix prints one line, ``error: <what> ...<fix>``, and exits with status 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from pomdpbench.errors import PomdpbenchError


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line, like pomdpbench's own errors."""

    def error(self, message: str) -> NoReturn:
        """Print ``error: <message> (see <prog> --help)`` and exit 2."""
        sys.stderr.write(f"error: {message} (see `{self.prog} --help`)\n")
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    """The full command-line parser."""
    from pomdpbench import __version__
    from pomdpbench.cli import (
        check_cmd,
        db_cmd,
        diagnose_cmd,
        export_cmd,
        import_cmd,
        leaderboard_cmd,
        list_cmd,
        reference_cmd,
        render_cmd,
        report_cmd,
        reported_cmd,
        results_cmd,
        run_cmd,
        submissions_cmd,
        submit_cmd,
        verify_cmd,
    )

    parser = _Parser(
        prog="pomdpbench",
        description="Benchmark RL agents on partially observable tasks.",
    )
    parser.add_argument("--version", action="version", version=f"pomdpbench {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True
    commands_in_order = (
        list_cmd,
        run_cmd,
        results_cmd,
        report_cmd,
        leaderboard_cmd,
        reported_cmd,
        reference_cmd,
        render_cmd,
        diagnose_cmd,
        db_cmd,
        export_cmd,
        submit_cmd,
        submissions_cmd,
        verify_cmd,
        import_cmd,
        check_cmd,
    )
    for module in commands_in_order:
        module.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return its exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status: int = args.handler(args)
    except PomdpbenchError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130
    except BrokenPipeError:  # e.g. `pomdpbench results | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return status


def entry() -> None:
    """Console-script entry point."""
    raise SystemExit(main())
