"""One Alembic revision per results-schema version (see :mod:`pomdpbench.store.migrations`)."""
