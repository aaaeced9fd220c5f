"""The bundle's published JSON Schema, and validation against it with ``jsonschema``.

The schema ships inside the package (``submission-schema.json``, beside this module) and is
published as docs/submission-schema.json; a test keeps the two byte-identical. The top level
describes ``manifest.json``; ``$defs/run`` describes each ``runs/<run_key>.json``.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

SCHEMA_FILE = "submission-schema.json"
MAX_ERRORS = 3
"""Schema errors reported per file: the first few say what is wrong; all would drown it."""


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    """The schema as data."""
    text = resources.files("pomdpbench.submission").joinpath(SCHEMA_FILE).read_text()
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@lru_cache(maxsize=2)
def _validator(definition: str | None) -> Any:
    from jsonschema import Draft202012Validator

    full = schema()
    if definition is None:
        return Draft202012Validator(full)
    return Draft202012Validator({"$ref": f"#/$defs/{definition}", "$defs": full["$defs"]})


def errors(data: Any, where: str, definition: str | None = None) -> list[str]:
    """One line per way ``data`` breaks the schema (the manifest, or ``$defs/<definition>``)."""
    found = sorted(_validator(definition).iter_errors(data), key=lambda e: list(e.absolute_path))
    lines = []
    for error in found[:MAX_ERRORS]:
        location = "/".join(str(part) for part in error.absolute_path) or "(top level)"
        message = " ".join(error.message.split())
        if len(message) > 160:
            message = message[:157] + "..."
        lines.append(f"{where} breaks the schema at {location}: {message}")
    if len(found) > MAX_ERRORS:
        lines.append(f"{where}: {len(found) - MAX_ERRORS} more schema violation(s)")
    return lines
