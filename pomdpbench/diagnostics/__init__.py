"""Training diagnostics measured on trained agents (``pomdpbench diagnose``)."""
