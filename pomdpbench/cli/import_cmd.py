"""``pomdpbench import``: merge a colleague's results store or a bundle into this one."""

from __future__ import annotations

import argparse
import zipfile
from pathlib import Path
from typing import Any

from pomdpbench.cli.common import add_db_option
from pomdpbench.errors import PomdpbenchError


def add_parser(commands: Any) -> None:
    """Register the ``import`` subcommand."""
    parser = commands.add_parser(
        "import",
        help="merge another results database or a bundle into this one",
        description="Add the finished runs of another pomdpbench database (a SQLite file or "
        "any SQLAlchemy URL) or of a bundle as if run here. Idempotent: a run whose key "
        "(its identity hash) is already stored is skipped. A bundle is checked as `submit` "
        "checks it, and refused whole if any check fails.",
    )
    parser.add_argument("source", metavar="OTHER.db|BUNDLE.zip|URL", help="what to merge in")
    add_db_option(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Read the source's runs, then add the new ones in one transaction."""
    from pomdpbench.store import Store
    from pomdpbench.store.database import database_url, describe, open_engine
    from pomdpbench.store.submissions import local_records, merge_records

    source = args.source
    path = Path(source)
    target = database_url(args.db)
    if "://" not in source and (path.suffix == ".zip" or zipfile.is_zipfile(path)):
        records, left_out = _bundle_records(path), 0
    else:
        url = source if "://" in source else f"sqlite:///{source}"
        if _same_database(url, target):
            raise PomdpbenchError(f"{source} is the database being imported into: name another")
        engine = open_engine(url, create=False)
        every = local_records(engine, suite_protocol_only=False)
        engine.dispose()
        records = [r for r in every if r["status"] == "finished"]
        left_out = len(every) - len(records)
    store = Store.open(args.db)
    added, skipped = merge_records(store.engine, store.url, records)
    parts = [f"imported {added} runs", f"{skipped} already here"]
    if left_out:
        parts.append(f"{left_out} unfinished not imported")
    print(f"{', '.join(parts)}: from {source} into {describe(store.url)}")
    return 0


def _bundle_records(path: Path) -> list[dict[str, Any]]:
    from pomdpbench.cli.submit_cmd import refusal
    from pomdpbench.submission.bundle import read_zip
    from pomdpbench.submission.checks import check_bundle

    checked = check_bundle(read_zip(path))
    if not checked.accepted:
        raise PomdpbenchError(refusal(path, checked.reasons))
    return checked.records


def _same_database(url: str, target: str) -> bool:
    if url == target:
        return True
    prefix = "sqlite:///"
    if url.startswith(prefix) and target.startswith(prefix):
        return (
            Path(url.removeprefix(prefix)).resolve() == Path(target.removeprefix(prefix)).resolve()
        )
    return False
