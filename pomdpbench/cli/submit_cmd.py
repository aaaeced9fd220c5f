"""``pomdpbench submit``: check a bundle and store it as a pending submission, or refuse it."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from pomdpbench.cli.common import add_db_option
from pomdpbench.errors import PomdpbenchError

SHOWN_REASONS = 6


def add_parser(commands: Any) -> None:
    """Register the ``submit`` subcommand."""
    parser = commands.add_parser(
        "submit",
        help="check a bundle and store it as a pending submission",
        description="Check a bundle (schema, hashes, task versions, the suite's protocol and "
        "seeds, completeness, internal consistency) and store it as a pending submission. A "
        "bundle that fails any check is refused with its reasons and nothing is written.",
    )
    parser.add_argument("bundle", metavar="BUNDLE.zip", help="a bundle from `pomdpbench export`")
    parser.add_argument("--submitter", metavar="NAME", help="who submits (default: the manifest's)")
    add_db_option(parser)
    parser.set_defaults(handler=run)


def refusal(path: Path, reasons: list[str]) -> str:
    """The one-line error of a refused bundle: its first reasons and how many more."""
    shown = "; ".join(reasons[:SHOWN_REASONS])
    more = f"; and {len(reasons) - SHOWN_REASONS} more" if len(reasons) > SHOWN_REASONS else ""
    return f"rejected {path}, nothing written ({len(reasons)} reason(s)): {shown}{more}"


def run(args: argparse.Namespace) -> int:
    """Check everything before opening the database, then store the submission."""
    from pomdpbench.store import Store
    from pomdpbench.store.submissions import add_submission, submission_with_hash, submitted_keys
    from pomdpbench.submission.bundle import read_zip
    from pomdpbench.submission.checks import check_bundle

    path = Path(args.bundle)
    checked = check_bundle(read_zip(path))
    if not checked.accepted:
        raise PomdpbenchError(refusal(path, checked.reasons))
    manifest = checked.manifest
    store = Store.open(args.db)
    earlier = submission_with_hash(store.engine, checked.bundle_sha256)
    if earlier is not None:
        raise PomdpbenchError(
            f"{path} was submitted already (submission {earlier}): nothing written; "
            f"`pomdpbench verify {earlier}` checks it"
        )
    taken = submitted_keys(store.engine)
    again = sorted({taken[r["run_key"]] for r in checked.records if r["run_key"] in taken})
    if again:
        raise PomdpbenchError(
            f"{path} holds runs already submitted (submission {', '.join(map(str, again))}, not "
            "rejected): nothing written; a run is submitted once"
        )
    fields = {
        "bundle_sha256": checked.bundle_sha256,
        "submitter": args.submitter or manifest["submitter"],
        "agent": manifest["agent"],
        "agent_version": manifest["agent_version"],
        "suite": manifest["suite"],
        "tier": manifest["tier"],
        "complete": manifest["complete"],
        "manifest": manifest,
    }
    number = add_submission(store.engine, store.url, fields, checked.records)
    state = (
        "complete" if manifest["complete"] else f"incomplete ({len(manifest['missing'])} missing)"
    )
    print(
        f"submission {number}: pending, {len(checked.records)} runs of {manifest['agent']} on "
        f"{manifest['suite']} ({manifest['tier']}), {state}; `pomdpbench verify {number}` "
        "re-runs a sample of them here"
    )
    return 0
