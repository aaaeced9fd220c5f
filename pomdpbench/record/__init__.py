"""The run record's vocabulary, shared by the harness that produces runs and the store.

What identifies a run (:mod:`~pomdpbench.record.job`), what a running job reports
(:mod:`~pomdpbench.record.events`) and how a stored curve becomes a score
(:mod:`~pomdpbench.record.scoring`). Nothing here imports the harness, the store, torch or
a database driver, so either side can import it without pulling in the other.
"""
