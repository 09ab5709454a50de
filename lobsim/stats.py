"""Intervals for means over episodes, seeds or runs: the one Student-t helper of lobsim.

An interval is never reported on fewer than two values: a single value has no spread to
estimate, and a zero-width interval would read as certainty. Callers print ``n/a``.
:func:`episodes_to_separate` is the matching power calculation: how many paired episodes
two such intervals need so as not to overlap (:func:`separation_power`, its inverse: how
often they separate at a given count); :func:`shrink_to_pool` corrects the mean of a
run picked as the best of several for the luck that picked it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from statistics import NormalDist

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


def episodes_to_separate(edge: float, sd_a: float, sd_b: float, sd_diff: float,
                         power: float = 0.8, max_n: int = 1_000_000) -> int:
    """The fewest episodes N (>= 2) at which two controllers run on the same N seeds, the
    first ahead by ``edge`` on average, show separate 95% intervals with probability
    ``power``: N such that ``edge - z(power) sd_diff / sqrt(N) >= t95(N - 1) (sd_a + sd_b) /
    sqrt(N)``.

    ``sd_a``, ``sd_b``: each controller's episode-to-episode standard deviation (an interval
    is ``t95 sd / sqrt(N)`` each side, so two do not overlap when the means differ by more
    than the sum); ``sd_diff``: that of the per-seed difference, which sets how far the
    observed difference of means falls short of ``edge`` (paired seeds: the same
    difference). The standard deviations are taken as known (their estimates from a
    pilot, e.g. diagnostic seeds); the answer is as good as they are. Units: any, the
    same for all four. ValueError when ``edge <= 0``, a standard deviation is negative,
    ``power`` is outside (0, 1), or no N up to ``max_n`` suffices. O(N) evaluations of t95.
    """
    if not edge > 0:
        raise ValueError(f"no number of episodes separates an edge of {edge}")
    if min(sd_a, sd_b, sd_diff) < 0 or not 0 < power < 1:
        raise ValueError(f"standard deviations must be >= 0 and power in (0, 1), "
                         f"got {sd_a}, {sd_b}, {sd_diff}, {power}")
    z = NormalDist().inv_cdf(power)
    for n in range(2, max_n + 1):
        if edge * math.sqrt(n) >= t95(n - 1) * (sd_a + sd_b) + z * sd_diff:
            return n
    raise ValueError(f"more than {max_n} episodes would be needed")


def separation_power(edge: float, sd_a: float, sd_b: float, sd_diff: float, n: int) -> float:
    """The probability that two controllers run on the same ``n`` >= 2 episodes, the first
    ahead by ``edge`` on average, show separate 95% intervals: the inverse of
    :func:`episodes_to_separate` (same model and units), ``Phi((edge sqrt(n) - t95(n - 1)
    (sd_a + sd_b)) / sd_diff)``; 0 or 1 when ``sd_diff`` is 0. O(1)."""
    if n < 2 or min(sd_a, sd_b, sd_diff) < 0:
        raise ValueError(f"need n >= 2 and standard deviations >= 0, got n {n}, {sd_a}, {sd_b}, {sd_diff}")
    margin = edge * math.sqrt(n) - t95(n - 1) * (sd_a + sd_b)
    if sd_diff == 0:
        return float(margin >= 0)
    return NormalDist().cdf(margin / sd_diff)

def shrink_to_pool(means: Iterable[float], errors: Iterable[float], index: int) -> float:
    """The mean of candidate ``index`` shrunk toward the candidates' average by the share
    of their spread that their standard errors explain (empirical Bayes, the positive part
    of James-Stein): ``m + B (means[index] - m)`` with ``m`` the plain average of
    ``means``, ``B = tau2 / (tau2 + errors[index]**2)`` and ``tau2 = max(0, var(means) -
    average(errors**2))`` (``var`` with ddof 1) the spread between candidates beyond noise.

    Use: an estimate of the true mean of the candidate that was selected as the best on
    the same data (a winner's curse correction). When the candidates differ by no more than
    their noise the answer is ``m``; when they differ by far more, it is close to the
    candidate's own mean. ``errors``: standard errors of ``means`` (not interval
    half-widths), same units. ValueError below two candidates, on lengths that differ, on
    a negative error or an index out of range. O(len(means)).
    """
    x = np.asarray(list(means), dtype=np.float64)
    se = np.asarray(list(errors), dtype=np.float64)
    if len(x) < 2 or x.shape != se.shape or not 0 <= index < len(x) or (se < 0).any():
        raise ValueError(f"need two or more means with as many standard errors >= 0 and an "
                         f"index among them, got {len(x)} means, {len(se)} errors, index {index}")
    m = float(x.mean())
    tau2 = max(0.0, float(x.var(ddof=1)) - float((se**2).mean()))
    if tau2 == 0.0:
        return m
    return m + tau2 / (tau2 + float(se[index]) ** 2) * (float(x[index]) - m)
