"""The report's figures: the depth heatmap's snapshot budget (the figures themselves are
built end to end in test_report.py)."""

import numpy as np

from lobsim.analysis.figures import _thin_snapshots


def test_depth_heatmap_keeps_at_most_its_column_budget():
    book = {"time_ns": np.repeat(np.arange(5000), 3), "price": np.tile([1, 2, 3], 5000)}
    thin = _thin_snapshots(book, 1000)
    times = np.unique(thin["time_ns"])
    assert len(times) == 1000 and times[0] == 0 and np.all(np.diff(times) == 5)
    assert len(thin["price"]) == 3000  # whole snapshots kept
    assert _thin_snapshots(book, 10_000) is book
