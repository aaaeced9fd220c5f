"""Options and output helpers shared by the subcommands."""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any


def add_db_option(parser: argparse.ArgumentParser) -> None:
    """``--db URL`` with the documented default and environment variable."""
    parser.add_argument(
        "--db",
        metavar="URL",
        help="results database (SQLAlchemy URL); default $POMDPBENCH_DB or "
        "sqlite:///pomdpbench.db in the working directory",
    )


def print_json(data: Any) -> None:
    """JSON on stdout, NaN written as null so every JSON parser reads it."""
    sys.stdout.write(json.dumps(_finite(data), indent=2, default=str) + "\n")


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def print_table(title: str | None, columns: list[str], rows: list[list[Any]]) -> None:
    """A rich table on stdout (plain text when piped)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, show_lines=False, header_style="bold")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*("" if cell is None else str(cell) for cell in row))
    Console(soft_wrap=False, width=200 if not sys.stdout.isatty() else None).print(table)


def fmt(value: float | None, digits: int = 1) -> str:
    """A number for a table cell ("-" when missing)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    return f"{value:,.{digits}f}"
