"""Shared by the RESeL tests: one torch thread, so timings do not swing with machine load."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch


@pytest.fixture(autouse=True)
def one_torch_thread() -> Iterator[None]:
    """Run the test with one torch thread (two threads on a busy two-core machine were ~20x slower
    for these small networks, from OpenMP threads waiting on each other)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
