"""Suite definitions as data: one TOML file per suite.

This folder is installed as the package ``pomdpbench._tasks`` (see pyproject.toml) so that
installed copies of pomdpbench find the same files; it holds no code.
"""
