"""Where the data folders of the repository are found at run time.

``tasks/``, ``baselines/`` and ``leaderboard/`` live at the top of the repository so that
people read and edit them as data; pyproject.toml installs them as ``pomdpbench._tasks``,
``pomdpbench._baselines`` and ``pomdpbench._leaderboard``. In an editable install those names
resolve to the source folders, so an edit takes effect without reinstalling.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def _package_dir(package: str) -> Path:
    return Path(str(resources.files(package)))


def tasks_dir() -> Path:
    """The folder holding one TOML file per suite."""
    return _package_dir("pomdpbench._tasks")


def baselines_dir() -> Path:
    """The folder holding shipped agents' configs and the reported-results CSV."""
    return _package_dir("pomdpbench._baselines")


def leaderboard_dir() -> Path:
    """The folder holding the Streamlit leaderboard app (``app.py``)."""
    return _package_dir("pomdpbench._leaderboard")
