"""Intervals for means over episodes, seeds or runs: the one Student-t helper of lobsim.

An interval is never reported on fewer than two values: a single value has no spread to
estimate, and a zero-width interval would read as certainty. Callers print ``n/a``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

#: Two-sided 95% Student t quantiles for 1..30 degrees of freedom (3 decimals).
_T95 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
        2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
        2.060, 2.056, 2.052, 2.048, 2.045, 2.042)
_Z975 = 1.959963984540054


def t95(df: int) -> float:
    """The two-sided 95% Student t quantile for ``df`` >= 1 degrees of freedom.

    Tabulated to 30; beyond, the Cornish-Fisher expansion in 1/df, which agrees with the
    exact quantile to 3 decimals there (2.040 at 31, 2.021 at 40, 1.980 at 120)."""
    if df < 1:
        raise ValueError(f"t95 needs at least 1 degree of freedom, got {df}")
    if df <= len(_T95):
        return _T95[df - 1]
    z = _Z975
    return (z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)
            + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * df**3))


def mean_ci95(values: Iterable[float]) -> tuple[float, float | None]:
    """(mean, half-width of its 95% Student-t interval) of the finite ``values``.

    The mean is NaN when no value is finite; the half-width is None below two values."""
    x = np.asarray(list(values), dtype=np.float64)
    x = x[np.isfinite(x)]
    if len(x) == 0:
        return math.nan, None
    if len(x) == 1:
        return float(x[0]), None
    return float(x.mean()), t95(len(x) - 1) * float(x.std(ddof=1)) / math.sqrt(len(x))


def ci95(values: Iterable[float]) -> list[float] | None:
    """[low, high] of the 95% Student-t interval of the mean; None below two values."""
    mean, half = mean_ci95(values)
    return None if half is None else [mean - half, mean + half]
