"""The harness: jobs, the training loop, evaluation, scoring and checkpoints."""
