"""Shipped agents' hyperparameters (one folder per agent, one TOML per suite) and reported results.

This folder is installed as the package ``pomdpbench._baselines`` (see pyproject.toml); it holds
no code.
"""
