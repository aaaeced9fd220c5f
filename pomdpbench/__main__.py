"""``python -m pomdpbench`` runs the command-line interface."""

from pomdpbench.cli.app import entry

entry()
