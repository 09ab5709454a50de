"""lobsim.stats: the Student-t interval, its quantiles beyond the table, and no interval on
fewer than two values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lobsim.stats import _T95, ci95, mean_ci95, t95


def test_ci95_is_the_student_t_interval():
    lo, hi = ci95([1.0, 2.0, 3.0, 4.0])  # df 3: t = 3.182, s = sqrt(5/3)
    half = 3.182 * math.sqrt(5 / 3) / 2
    assert lo == pytest.approx(2.5 - half) and hi == pytest.approx(2.5 + half)
    x = np.arange(23.0) ** 1.5  # df 22: 2.074, not a neighbour's value
    lo, hi = ci95(list(x))
    assert (hi - lo) / 2 == pytest.approx(2.074 * x.std(ddof=1) / math.sqrt(23))


def test_one_value_has_no_interval_and_non_finite_values_are_dropped():
    assert ci95([2.0]) is None and ci95([]) is None
    assert mean_ci95([2.0]) == (2.0, None)
    mean, half = mean_ci95([])
    assert math.isnan(mean) and half is None
    assert mean_ci95([1.0, math.nan, 3.0, math.inf]) == mean_ci95([1.0, 3.0])


def test_quantiles_continue_the_table_beyond_30_degrees_of_freedom():
    assert all(_T95[k] > _T95[k + 1] for k in range(len(_T95) - 1))
    assert t95(30) == _T95[-1] > t95(31) > t95(100) > t95(10_000) > 1.96
    # exact values (scipy.stats.t.ppf(0.975, df)) to 3 decimals
    for df, exact in ((31, 2.0395), (40, 2.0211), (60, 2.0003), (120, 1.9799), (1000, 1.9623)):
        assert t95(df) == pytest.approx(exact, abs=5e-4)
    with pytest.raises(ValueError):
        t95(0)
