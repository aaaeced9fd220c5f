"""The results store: SQLAlchemy models, opening with clear errors, and the run repository."""

from __future__ import annotations

from pomdpbench.store.database import DEFAULT_URL, database_url
from pomdpbench.store.repository import RunSummary, Store

__all__ = ["DEFAULT_URL", "RunSummary", "Store", "database_url"]
