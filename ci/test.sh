#!/usr/bin/env bash
# The README's test command: lint, format check, type check, then the fast test tier.
# The slow tier (learning tests, kill-and-resume of real processes) runs with
#   .venv/bin/python -m pytest -m slow
set -euo pipefail
cd "$(dirname "$0")/.."
py=.venv/bin/python
[ -x "$py" ] || py=python3
"$py" -m ruff check .
"$py" -m ruff format --check .
"$py" -m mypy
"$py" -m pytest -q "$@"
