"""The pomdpbench command-line interface."""
