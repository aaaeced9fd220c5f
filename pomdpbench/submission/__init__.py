"""Bundles of results for a shared leaderboard: export, submit checks, verify.

``export`` writes one agent's runs of a suite as a data-only zip (JSON, CSV) with a manifest
validated by the published JSON Schema (docs/submission-schema.json); ``checks`` is everything
``pomdpbench submit`` verifies before storing a bundle; ``verify`` re-runs a seeded sample of
a submission here. The store's side (every SQL statement) is
:mod:`pomdpbench.store.submissions`. The whole path is described in docs/submissions.md.
"""
