"""Aggregate statistics with rliable: point estimates and stratified-bootstrap intervals.

Everything follows Agarwal et al. (NeurIPS 2021, "Deep RL at the Edge of the Statistical
Precipice") through google-research/rliable 1.2.0: IQM, median, mean and optimality gap of
normalized scores with 95 % percentile intervals from the stratified bootstrap (runs are
resampled within each task), performance profiles (run-score distributions), the average
probability of improvement, and sample-efficiency curves (IQM at each evaluation point).

Two things differ from calling rliable with its defaults, both on purpose:

* **Seeding.** rliable's bootstraps draw from numpy's *global* generator, so its
  ``random_state`` argument does not make intervals reproducible
  (reference/notes-leaderboards.md §1). Every call here seeds the global generator with a
  value derived from (seed, entry label) and restores the previous state afterwards, so an
  entry's interval is the same whichever other entries are on the page.
* **Speed.** 2,000 bootstrap replications by default (rliable's default for profiles; its
  50,000 for intervals take seconds per agent, too slow for an interactive page), and two
  aggregate functions computed without scipy's per-call overhead: :func:`iqm` is
  ``scipy.stats.trim_mean(scores, 0.25, axis=None)`` (rliable/metrics.py ``aggregate_iqm``)
  and :func:`improvement_probability` is rliable's Mann-Whitney form ``U / (n_x * n_y)``
  averaged over tasks (``probability_of_improvement``). tests/test_stats_aggregate.py checks
  both, and every interval, against direct rliable calls on the same arrays.
"""

from __future__ import annotations

import warnings
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from rliable import library as rly
from rliable import metrics

METRIC_NAMES: tuple[str, ...] = ("IQM", "Median", "Mean", "Optimality gap")
DEFAULT_REPS = 2000
DEFAULT_SEED = 0
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Interval:
    """A point estimate with the bounds of its 95 % interval."""

    point: float
    lower: float
    upper: float


def iqm(scores: np.ndarray) -> float:
    """Interquartile mean over all runs and tasks (scipy's trim_mean with 25 % cut).

    Runs once per bootstrap replication, so it avoids the generic wrappers: the sum divided
    by the count is what ``np.mean`` computes for float64.
    """
    flat = np.asarray(scores, dtype=np.float64).reshape(-1)
    n = flat.size
    cut = int(0.25 * n)
    part = np.partition(flat, (cut, n - cut - 1))
    return float(np.add.reduce(part[cut : n - cut])) / (n - 2 * cut)


METRIC_FUNCTIONS: dict[str, Callable[[np.ndarray], float]] = {
    "IQM": iqm,
    "Median": metrics.aggregate_median,
    "Mean": metrics.aggregate_mean,
    "Optimality gap": metrics.aggregate_optimality_gap,
}


def aggregates(scores: np.ndarray, names: Sequence[str] = METRIC_NAMES) -> np.ndarray:
    """The named aggregates of a (runs x tasks) matrix (default all four, in METRIC_NAMES order)."""
    return np.array([METRIC_FUNCTIONS[name](scores) for name in names])


def improvement_probability(scores_x: np.ndarray, scores_y: np.ndarray) -> float:
    """P(X > Y) averaged over tasks, ties counting half; matrices (runs x tasks) per agent."""
    x = np.asarray(scores_x, dtype=np.float64)
    y = np.asarray(scores_y, dtype=np.float64)
    greater = x[:, None, :] > y[None, :, :]
    equal = x[:, None, :] == y[None, :, :]
    per_task = np.mean(greater + 0.5 * equal, axis=(0, 1))
    return float(np.mean(per_task))


def derive_seed(seed: int, label: str) -> int:
    """A 32-bit seed for one entry, stable across processes (unlike ``hash``)."""
    return zlib.crc32(f"{seed}/{label}".encode()) & 0xFFFFFFFF


@contextmanager
def seeded(seed: int, label: str) -> Iterator[None]:
    """Seed numpy's global generator for rliable, restoring its previous state afterwards."""
    state = np.random.get_state()
    np.random.seed(derive_seed(seed, label))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # arch on rliable's random_state
            yield
    finally:
        np.random.set_state(state)


def interval_estimates(
    matrices: Mapping[str, np.ndarray],
    reps: int = DEFAULT_REPS,
    seed: int = DEFAULT_SEED,
    names: Sequence[str] = METRIC_NAMES,
) -> dict[str, dict[str, Interval]]:
    """The named aggregates of each entry with their stratified-bootstrap intervals.

    The seed fixes the resampled indices, so a metric's interval is the same whether it is
    computed alone (the headline's IQM) or with the others (the interval plot).
    """
    out: dict[str, dict[str, Interval]] = {}
    for label, matrix in matrices.items():
        with seeded(seed, label):
            points, cis = rly.get_interval_estimates(
                {label: matrix},
                lambda s: aggregates(s, names),
                reps=reps,
                confidence_interval_size=CONFIDENCE,
            )
        out[label] = {
            name: Interval(
                float(points[label][i]), float(cis[label][0, i]), float(cis[label][1, i])
            )
            for i, name in enumerate(names)
        }
    return out


@dataclass(frozen=True)
class Band:
    """A curve with its 95 % interval at each x.

    A performance profile (x: thresholds tau, value: fraction of runs above tau) or a
    sample-efficiency curve (x: env steps or budget fraction, value: IQM).
    """

    x: np.ndarray
    value: np.ndarray
    lower: np.ndarray
    upper: np.ndarray


def profile_taus(matrices: Mapping[str, np.ndarray], points: int = 51) -> np.ndarray:
    """Thresholds from min(0, lowest score) to max(1, highest score)."""
    values = [m for m in matrices.values() if m.size]
    low = min([0.0, *[float(np.min(m)) for m in values]])
    high = max([1.0, *[float(np.max(m)) for m in values]])
    return np.linspace(low, high, points)


def performance_profiles(
    matrices: Mapping[str, np.ndarray],
    taus: np.ndarray | None = None,
    reps: int = DEFAULT_REPS,
    seed: int = DEFAULT_SEED,
) -> dict[str, Band]:
    """Run-score distributions of each entry (rliable ``create_performance_profile``)."""
    grid = profile_taus(matrices) if taus is None else np.asarray(taus, dtype=np.float64)
    out: dict[str, Band] = {}
    for label, matrix in matrices.items():
        with seeded(seed, label):
            profiles, cis = rly.create_performance_profile(
                {label: matrix}, grid, reps=reps, confidence_interval_size=CONFIDENCE
            )
        out[label] = Band(grid, profiles[label], cis[label][0], cis[label][1])
    return out


def probability_of_improvement(
    matrices: Mapping[str, np.ndarray],
    pairs: Sequence[tuple[str, str]],
    reps: int = DEFAULT_REPS,
    seed: int = DEFAULT_SEED,
) -> dict[tuple[str, str], Interval]:
    """P(X > Y) for each (X, Y) pair, with the independent stratified bootstrap.

    The two entries' matrices must have the same tasks as columns; their numbers of runs may
    differ (rliable resamples each independently).
    """
    out: dict[tuple[str, str], Interval] = {}
    for x, y in pairs:
        key = f"{x},{y}"
        with seeded(seed, key):
            points, cis = rly.get_interval_estimates(
                {key: (matrices[x], matrices[y])},
                lambda a, b: np.array([improvement_probability(a, b)]),
                reps=reps,
                confidence_interval_size=CONFIDENCE,
            )
        out[(x, y)] = Interval(float(points[key][0]), float(cis[key][0, 0]), float(cis[key][1, 0]))
    return out


def iqm_per_point(scores: np.ndarray) -> np.ndarray:
    """IQM over runs and tasks at each point of a (runs x tasks x points) array."""
    return np.array([iqm(scores[:, :, j]) for j in range(scores.shape[-1])])


def sample_efficiency(
    curves: Mapping[str, np.ndarray],
    x: np.ndarray,
    reps: int = DEFAULT_REPS,
    seed: int = DEFAULT_SEED,
) -> dict[str, Band]:
    """Sample-efficiency curves from (runs x tasks x points) arrays of normalized scores."""
    out: dict[str, Band] = {}
    for label, scores in curves.items():
        with seeded(seed, label):
            points, cis = rly.get_interval_estimates(
                {label: scores}, iqm_per_point, reps=reps, confidence_interval_size=CONFIDENCE
            )
        out[label] = Band(np.asarray(x), points[label], cis[label][0], cis[label][1])
    return out
