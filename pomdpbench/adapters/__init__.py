"""Adapters that run agents of libraries owning their own training loop under the harness."""
