"""Stylized facts as verdicts on one run: does each hold, on enough data?

Each function takes measures from :mod:`lobsim.analysis.metrics` (units there) and returns
a :class:`Fact`: ``holds`` True or False with the numbers it rests on and the test in words,
or None with ``too short (n=...)`` below :data:`MIN_SAMPLE` samples. The facts (Cont 2001;
Bouchaud, Bonart, Donier & Gould 2018) and their tests are in ``lobsim.analysis.metrics``'s
docstring; ``lobsim report`` prints them. (Comparing a run's numbers with real data's is
:mod:`lobsim.analysis.realism_facts`.)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from lobsim.analysis.metrics import (autocorrelation, excess_kurtosis, horizon_label,
                                     loglog_slope, noise_band, too_short)

#: Fewest samples a stylized-fact verdict rests on; below, the fact says ``too short (n=...)``
#: (a kurtosis or an autocorrelation from a few dozen points swings too much to judge by).
MIN_SAMPLE = 30


@dataclass(frozen=True)
class Fact:
    """One stylized fact's verdict: ``holds`` is None when there is too little data
    (fewer than :data:`MIN_SAMPLE` samples)."""

    name: str
    holds: bool | None
    value: str  #: the number(s) it rests on
    test: str  #: what was tested, in words
    n: int | None = None  #: the samples (returns, trades, points) the verdict rests on

    @property
    def verdict(self) -> str:
        """``holds``, ``does not hold`` or ``too short (n=...)``: what printers show."""
        if self.holds is None:
            return "too short" if self.n is None else too_short(self.n)
        return "holds" if self.holds else "does not hold"


def _too_short(name: str, n: int, value: str, test: str) -> Fact:
    return Fact(name, None, value, test, n)


def _fmt(x: float, digits: int = 3) -> str:
    return "n/a" if not np.isfinite(x) else f"{x:.{digits}g}"


def heavy_tails(returns_by_horizon: dict[float, np.ndarray],
                null_by_horizon: dict[float, float] | None = None) -> Fact:
    """Excess kurtosis per horizon (s); holds when, at the shortest horizon with enough
    returns, it exceeds the null (0 for a Gaussian, or ``null_by_horizon``: what
    memoryless jumps of the same sizes and rate give, see :func:`~lobsim.analysis.metrics.jump_kurtosis`) by more
    than twice a Gaussian's standard error, 2 * sqrt(24 / n)."""
    parts, holds, n = [], None, max((len(r) for r in returns_by_horizon.values()), default=0)
    nulls = null_by_horizon or {}
    for horizon, r in sorted(returns_by_horizon.items()):
        k, null = excess_kurtosis(r), nulls.get(horizon, 0.0)
        null = 0.0 if not np.isfinite(null) else null
        parts.append(f"{horizon_label(horizon)}: {_fmt(k)} (null {_fmt(null)}, n={len(r)})")
        if holds is None and np.isfinite(k) and len(r) >= MIN_SAMPLE:
            holds, n = bool(k - null > 2 * math.sqrt(24 / len(r))), len(r)
    return Fact("heavy tails", holds, "; ".join(parts),
                "excess kurtosis of mid log returns above that of memoryless jumps of the "
                "same sizes and rate (Gaussian: 0), by > 2 s.e.", n)


def no_autocorrelation(returns: np.ndarray, interval_s: float, lags: int = 10) -> Fact:
    """Holds when every return autocorrelation at lags 1..``lags`` is inside +-3/sqrt(n)."""
    if len(returns) < MIN_SAMPLE:
        return _too_short("no linear autocorrelation", len(returns), f"n={len(returns)}", "too few returns")
    acf = autocorrelation(returns, range(1, lags + 1))
    band = noise_band(len(returns))
    worst = float(np.nanmax(np.abs(acf)))
    return Fact("no linear autocorrelation", bool(worst < band),
                f"max |ACF| lags 1-{lags} = {_fmt(worst)} vs band {_fmt(band)} "
                f"({horizon_label(interval_s)} returns, n={len(returns)}); lag 1: {_fmt(acf[0])}",
                "autocorrelation of returns within the 3-sigma band of white noise", len(returns))


def volatility_clustering(returns: np.ndarray, interval_s: float, lags: int = 10) -> Fact:
    """Holds when the mean autocorrelation of |returns| over lags 1..``lags`` exceeds
    2/sqrt(n)."""
    if len(returns) < MIN_SAMPLE:
        return _too_short("volatility clustering", len(returns), f"n={len(returns)}", "too few returns")
    mean = float(np.nanmean(autocorrelation(np.abs(returns), range(1, lags + 1))))
    band = noise_band(len(returns), 2.0)
    return Fact("volatility clustering", bool(mean > band),
                f"mean ACF(|r|) lags 1-{lags} = {_fmt(mean)} vs {_fmt(band)} "
                f"({horizon_label(interval_s)} returns, n={len(returns)})",
                "autocorrelation of absolute returns positive over lags 1-10", len(returns))


def _second_horizon(counts: dict[float, int] | None, horizons: Sequence[float]) -> int | None:
    """The returns at the scarcer of the two best-sampled ``horizons`` (the sample a
    two-horizon verdict rests on), from ``counts`` (returns per horizon), if given."""
    if counts is None:
        return None
    ranked = sorted((counts.get(h, 0) for h in horizons), reverse=True)
    return ranked[1] if len(ranked) > 1 else 0


def _sampled(points: list, counts: dict[float, int] | None) -> list:
    """The (horizon, value) points whose horizon has at least MIN_SAMPLE returns."""
    return points if counts is None else [p for p in points if counts.get(p[0], 0) >= MIN_SAMPLE]


def aggregational_gaussianity(kurtosis_by_horizon: dict[float, float],
                              null_by_horizon: dict[float, float] | None = None,
                              counts: dict[float, int] | None = None) -> Fact:
    """Holds when the excess kurtosis at the shortest horizon is above its null and the
    kurtosis is lower at the longest horizon (horizons in s; ``nan`` entries and, given
    ``counts`` (returns per horizon), horizons with fewer than MIN_SAMPLE returns are ignored).

    The null is 0 (Gaussian) or ``null_by_horizon``: what memoryless jumps of the same
    sizes and rate give (:func:`~lobsim.analysis.metrics.jump_kurtosis`). Without it a tick-by-tick price "shows"
    this fact from discreteness alone, since its jump kurtosis falls as 1/horizon."""
    points = _sampled([(h, k) for h, k in sorted(kurtosis_by_horizon.items()) if np.isfinite(k)], counts)
    test = "excess kurtosis above memoryless jumps' at the shortest horizon, falling as the horizon grows"
    n = _second_horizon(counts, list(kurtosis_by_horizon))
    if len(points) < 2:
        return Fact("aggregational gaussianity", None, "fewer than 2 horizons with enough returns", test, n)
    (h0, k0), (h1, k1) = points[0], points[-1]
    null = (null_by_horizon or {}).get(h0, 0.0)
    null = 0.0 if not np.isfinite(null) else null
    return Fact("aggregational gaussianity", bool(k0 > null and k1 < k0),
                f"excess kurtosis {_fmt(k0)} (null {_fmt(null)}) at {horizon_label(h0)} -> {_fmt(k1)} at {horizon_label(h1)}",
                test, None if counts is None else counts.get(h1))


def signature_fact(intervals_s: Sequence[float], rv: np.ndarray,
                   counts: dict[float, int] | None = None) -> Fact:
    """Holds when realized variance per second at the longest interval is within a factor
    2 of that at the shortest (a flat signature plot: diffusive prices); given ``counts``
    (returns per interval), intervals with fewer than MIN_SAMPLE returns are ignored."""
    points = _sampled([(s, v) for s, v in zip(intervals_s, rv) if np.isfinite(v) and v > 0], counts)
    if len(points) < 2:
        return Fact("volatility signature", None, "too few intervals with returns",
                    "realized variance per second roughly flat in the sampling interval",
                    _second_horizon(counts, list(intervals_s)))
    ratio = points[-1][1] / points[0][1]
    return Fact("volatility signature", bool(0.5 <= ratio <= 2.0),
                f"RV({horizon_label(points[-1][0])}) / RV({horizon_label(points[0][0])}) = {_fmt(ratio)}",
                "realized variance per second roughly flat in the sampling interval (ratio in [0.5, 2])",
                None if counts is None else counts.get(points[-1][0]))


def trade_sign_memory(signs: np.ndarray) -> Fact:
    """Holds when the sign autocorrelation at lag 1 exceeds 3/sqrt(n) and stays positive
    at lag 10 (persistent, slowly decaying order flow)."""
    if len(signs) < MIN_SAMPLE:
        return _too_short("trade-sign autocorrelation", len(signs), f"n={len(signs)}", "too few trades")
    c1, c10 = autocorrelation(signs, [1, 10])
    band = noise_band(len(signs))
    return Fact("trade-sign autocorrelation", bool(c1 > band and c10 > 0),
                f"C(1) = {_fmt(c1)}, C(10) = {_fmt(c10)}, band {_fmt(band)} (n={len(signs)})",
                "market-order signs positively autocorrelated, slowly decaying", len(signs))


def impact_fact(sizes: np.ndarray, means: np.ndarray, counts: np.ndarray, min_count: int = 5) -> Fact:
    """Holds when the mean impact is positive at every size seen ``min_count`` times and,
    with two sizes or more, grows concavely (log-log slope in (0, 1)); too short below
    MIN_SAMPLE market orders at those sizes."""
    ok = counts >= min_count
    n = int(counts[ok].sum())
    if n < MIN_SAMPLE:
        return _too_short("price impact vs size", n, f"{int(counts.sum())} market orders",
                          "too few market orders")
    s, m, c = sizes[ok], means[ok], counts[ok]
    beta = loglog_slope(s, m, c)
    positive = bool((m > 0).all())
    holds = positive and (not np.isfinite(beta) or 0 < beta < 1)
    shown = ", ".join(f"{int(a)} lots: {_fmt(b)}" for a, b in list(zip(s, m))[:4])
    return Fact("price impact vs size", holds,
                f"mean impact {shown}; log-log slope {_fmt(beta)}",
                "mid moves with the market order, concavely in its size", n)


def imbalance_fact(imbalance: np.ndarray, moves: np.ndarray) -> Fact:
    """Holds when P(next mid move up) is above 1/2 for I > 1/3 and below 1/2 for I < -1/3."""
    imbalance, moves = np.asarray(imbalance, dtype=np.float64), np.asarray(moves)
    ok = (moves != 0) & np.isfinite(imbalance)
    hi, lo = ok & (imbalance > 1 / 3), ok & (imbalance < -1 / 3)
    n = int(min(hi.sum(), lo.sum()))  # the scarcer side limits the verdict
    if n < MIN_SAMPLE:
        return _too_short("queue imbalance predicts next move", n,
                          f"{int(hi.sum())} / {int(lo.sum())} points with I > 1/3 / I < -1/3", "too few points")
    p_hi, p_lo = float(np.mean(moves[hi] > 0)), float(np.mean(moves[lo] > 0))
    return Fact("queue imbalance predicts next move", bool(p_hi > 0.5 > p_lo),
                f"P(up | I > 1/3) = {_fmt(p_hi)}, P(up | I < -1/3) = {_fmt(p_lo)}",
                "P(next mid move up) increases with the best-queue imbalance I", n)
