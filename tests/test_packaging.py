"""Packaging: an installed (non-editable) copy ships every subpackage and the data folders."""

from __future__ import annotations

import sys
from pathlib import Path

from conftest import REPO

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def test_every_subpackage_is_listed_in_pyproject() -> None:
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    found = {
        ".".join(path.parent.relative_to(REPO).parts)
        for path in (REPO / "pomdpbench").rglob("__init__.py")
    }
    assert found <= listed, f"add to [tool.setuptools] packages: {sorted(found - listed)}"
    for package, folder in config["package-dir"].items():
        assert package in listed and (REPO / folder / "__init__.py").exists()


def test_data_folders_resolve_to_the_repository_in_an_editable_install() -> None:
    from pomdpbench.paths import baselines_dir, tasks_dir

    assert Path(tasks_dir()).resolve() == (REPO / "tasks").resolve()
    assert (Path(baselines_dir()) / "sac-mlp" / "sanity.toml").exists()
