"""Errors a user can fix: each carries a one-line message that names the fix.

The CLI prints these as ``error: <message>`` and exits with status 2, never with a traceback.
Anything else that escapes is a bug in pomdpbench and keeps its traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class PomdpbenchError(Exception):
    """Base class of errors caused by input the user can correct."""


class UnknownIdError(PomdpbenchError, KeyError):
    """An agent, task, suite or tier id that is not registered."""

    def __init__(self, kind: str, name: str, known: Iterable[str], hint: str = "") -> None:
        known = sorted(str(k) for k in known)  # enum members read as their values
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
        if close:
            suggestion = "did you mean " + " or ".join(repr(c) for c in close) + "?"
        else:
            suggestion = hint or f"run `pomdpbench list {kind}s` to see the registered ones"
        super().__init__(f"unknown {kind} {name!r}: {suggestion}")
        self.kind = kind
        self.name = name

    def __str__(self) -> str:
        # KeyError would quote the message; keep it plain.
        return str(self.args[0])


class ConfigError(PomdpbenchError):
    """A malformed suite file, agent config or command-line override."""


class StoreError(PomdpbenchError):
    """The results database cannot be opened, is locked, or has another schema."""


class CheckpointError(PomdpbenchError):
    """A checkpoint that cannot be read back."""
