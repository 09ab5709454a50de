"""The spread and imbalance plots stay readable on long runs: time bins past TIME_BINS."""

from __future__ import annotations

import numpy as np

from lobsim.analysis import figures
from lobsim.analysis.figures import TIME_BINS, time_binned

S = 10**9


def test_time_binned_gives_the_time_weighted_mean_and_range_of_a_step_function():
    t = np.array([0, 4, 6, 10]) * S
    v = np.array([1.0, 3.0, np.nan, 2.0])  # NaN: a side of the book empty, not counted
    x, mean, lo, hi = time_binned(t, v, 20 * S, bins=4)
    assert list(x) == [2.5, 7.5, 12.5, 17.5]
    assert np.allclose(mean, [(1 * 4 + 3 * 1) / 5, 3.0, 2.0, 2.0])
    assert list(lo) == [1.0, 3.0, 2.0, 2.0] and list(hi) == [3.0, 3.0, 2.0, 2.0]


def test_a_bin_with_no_finite_value_is_nan():
    x, mean, lo, hi = time_binned(np.array([0, 5 * S]), np.array([np.nan, 1.0]), 10 * S, bins=2)
    assert np.isnan(mean[0]) and np.isnan(lo[0]) and mean[1] == 1.0


class LongRun:
    """What the two figures read of a run: many book events."""

    def __init__(self, events: int) -> None:
        rng = np.random.default_rng(1)
        self.t = np.sort(rng.integers(0, 3600 * S, events))
        self.bid = 100.0 - rng.integers(0, 3, events)
        self.ask = 101.0 + rng.integers(0, 3, events)
        self.bid_qty = rng.integers(1, 9, events).astype(float)
        self.ask_qty = rng.integers(1, 9, events).astype(float)
        self.duration_ns = 3600 * S
        self.tick_size = 0.01


def drawn_points(fig) -> int:
    return max(len(line.get_xdata()) for ax in fig.axes for line in ax.get_lines())


def test_long_runs_are_drawn_per_time_bin_and_short_ones_per_event():
    long = LongRun(50 * TIME_BINS)
    assert drawn_points(figures.fig_spread(long)) == TIME_BINS
    assert drawn_points(figures.fig_imbalance(long)) == TIME_BINS
    short = LongRun(TIME_BINS)
    assert drawn_points(figures.fig_spread(short)) >= TIME_BINS
