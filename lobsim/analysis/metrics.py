"""Measures behind the stylized facts of market microstructure, as pure numpy functions
(the verdicts on them, "does the fact hold on this run?", are :mod:`lobsim.analysis.verdicts`).

Units: times are integer nanoseconds of simulated time (``*_ns``) or seconds (``*_s``);
prices are in any consistent unit (the report passes ticks); returns are log returns
(dimensionless); sizes are lots. Functions return ``nan`` rather than raise when a series
is too short to say anything.

The facts (Cont 2001, "Empirical properties of asset returns"; Bouchaud, Bonart,
Donier & Gould 2018, "Trades, Quotes and Prices") and what the numbers mean:

* heavy tails: the *excess kurtosis* of returns is > 0 (0 for a Gaussian);
* no linear autocorrelation: the autocorrelation of returns at lags >= 1 is within the
  noise band +-3/sqrt(n) of a white series;
* volatility clustering: the autocorrelation of |returns| is positive over lags 1-10;
* aggregational gaussianity: the excess kurtosis falls as the horizon grows;
* volatility signature: realized variance per second barely depends on the sampling
  interval (a diffusive price); its ratio between the longest and shortest interval is ~1;
* trade signs: the autocorrelation of market-order signs is positive and decays slowly;
* price impact: the mean mid move in the direction of a market order grows with its size,
  concavely (log-log slope between 0 and 1);
* queue imbalance: ``I = (q_bid - q_ask) / (q_bid + q_ask)`` at the best quotes predicts
  the next mid move: P(next move is up) increases with I.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

NS_PER_SECOND = 1_000_000_000
#: Fewest returns for a moment or autocorrelation to be reported (else nan).
MIN_RETURNS = 20


def sample_last(times_ns: np.ndarray, values: np.ndarray, grid_ns: np.ndarray) -> np.ndarray:
    """The last value observed at or before each grid time (``nan`` before the first).

    ``times_ns`` must be sorted ascending; ``values`` are float (``nan`` = no value)."""
    times_ns, values = np.asarray(times_ns), np.asarray(values, dtype=np.float64)
    index = np.searchsorted(times_ns, np.asarray(grid_ns), side="right") - 1
    out = np.full(len(index), np.nan)
    ok = index >= 0
    out[ok] = values[index[ok]]
    return out


def forward_fill(values: np.ndarray) -> np.ndarray:
    """``values`` with each ``nan`` replaced by the last non-``nan`` value before it."""
    values = np.asarray(values, dtype=np.float64)
    index = np.where(np.isnan(values), 0, np.arange(len(values)))
    np.maximum.accumulate(index, out=index)
    out = values[index]
    return out


def log_returns(prices: np.ndarray) -> np.ndarray:
    """Log returns between consecutive prices (must be > 0); pairs with a ``nan`` are dropped."""
    prices = np.asarray(prices, dtype=np.float64)
    returns = np.diff(np.log(prices))
    return returns[np.isfinite(returns)]


def horizon_returns(times_ns: np.ndarray, prices: np.ndarray, horizon_s: float,
                    start_ns: int, end_ns: int) -> np.ndarray:
    """Log returns of ``prices`` sampled every ``horizon_s`` seconds from ``start_ns`` to
    ``end_ns`` (previous-tick sampling)."""
    step = max(round(horizon_s * NS_PER_SECOND), 1)
    grid = np.arange(start_ns, end_ns + 1, step, dtype=np.int64)
    return log_returns(sample_last(times_ns, prices, grid))


def excess_kurtosis(x: np.ndarray) -> float:
    """Fisher's excess kurtosis ``E[(x-m)^4] / var^2 - 3``: 0 for a Gaussian, > 0 for heavy
    tails, -1.2 for a uniform. ``nan`` with fewer than :data:`MIN_RETURNS` values or no variance."""
    x = np.asarray(x, dtype=np.float64)
    if len(x) < MIN_RETURNS:
        return math.nan
    d = x - x.mean()
    var = np.mean(d * d)
    if var <= 0:
        return math.nan
    return float(np.mean(d ** 4) / var ** 2 - 3.0)


def autocorrelation(x: np.ndarray, lags: Sequence[int]) -> np.ndarray:
    """Sample autocorrelation of ``x`` at each lag (the standard biased estimator
    ``sum (x_t - m)(x_{t+k} - m) / sum (x_t - m)^2``); ``nan`` where it is undefined."""
    x = np.asarray(x, dtype=np.float64)
    out = np.full(len(lags), np.nan)
    if len(x) < 2:
        return out
    d = x - x.mean()
    denom = float(np.dot(d, d))
    if denom <= 0:
        return out
    for i, lag in enumerate(lags):
        if 0 <= lag < len(x):
            out[i] = float(np.dot(d[: len(x) - lag], d[lag:])) / denom
    return out


def noise_band(n: int, z: float = 3.0) -> float:
    """Half-width of the ``z``-sigma band of a white series' autocorrelation: z / sqrt(n)."""
    return z / math.sqrt(n) if n > 0 else math.nan


def realized_variance_per_second(times_ns: np.ndarray, prices: np.ndarray, interval_s: float,
                                 start_ns: int, end_ns: int) -> float:
    """Sum of squared log returns sampled every ``interval_s`` s, divided by the span in
    seconds: the variance per second one would estimate at that sampling interval."""
    r = horizon_returns(times_ns, prices, interval_s, start_ns, end_ns)
    if len(r) < 2:
        return math.nan
    span_s = len(r) * interval_s
    return float(np.sum(r * r) / span_s)


def volatility_signature(times_ns: np.ndarray, prices: np.ndarray, intervals_s: Sequence[float],
                         start_ns: int, end_ns: int) -> np.ndarray:
    """:func:`realized_variance_per_second` at each sampling interval (the signature plot)."""
    return np.array([realized_variance_per_second(times_ns, prices, s, start_ns, end_ns)
                     for s in intervals_s])


def queue_imbalance(bid_qty: np.ndarray, ask_qty: np.ndarray) -> np.ndarray:
    """``(q_bid - q_ask) / (q_bid + q_ask)`` in [-1, 1] (lots at the best quotes); ``nan``
    where both are 0."""
    b, a = np.asarray(bid_qty, dtype=np.float64), np.asarray(ask_qty, dtype=np.float64)
    total = b + a
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, (b - a) / total, np.nan)


def next_move(mid: np.ndarray) -> np.ndarray:
    """For each index, the sign (+1/-1) of the next change of ``mid`` after it, 0 if none.
    ``nan`` mids are skipped (carried forward)."""
    mid = forward_fill(np.asarray(mid, dtype=np.float64))
    if len(mid) == 0:
        return np.zeros(0)
    change = np.sign(np.diff(mid, append=mid[-1]))
    change[np.isnan(change)] = 0
    moves = np.flatnonzero(change)
    if len(moves) == 0:
        return np.zeros(len(mid))
    pos = np.searchsorted(moves, np.arange(len(mid)))  # first change at or after each index
    return np.where(pos < len(moves), change[moves[np.minimum(pos, len(moves) - 1)]], 0.0)


@dataclass(frozen=True)
class Binned:
    """Values of y averaged in bins of x: centres, means, counts (``nan`` mean if empty)."""

    centres: np.ndarray
    means: np.ndarray
    counts: np.ndarray


def binned_mean(x: np.ndarray, y: np.ndarray, edges: np.ndarray) -> Binned:
    """Mean of ``y`` for ``x`` in each bin ``[edges[i], edges[i+1])`` (last bin closed)."""
    x, y, edges = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64), np.asarray(edges)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    which = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(edges) - 2)
    counts = np.bincount(which, minlength=len(edges) - 1)
    sums = np.bincount(which, weights=y, minlength=len(edges) - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    return Binned((edges[:-1] + edges[1:]) / 2, means, counts)


def imbalance_next_move(imbalance: np.ndarray, moves: np.ndarray, bins: int = 10) -> Binned:
    """P(next mid move is up), in bins of queue imbalance over [-1, 1]. Points with no next
    move (0) or no imbalance (``nan``) are left out."""
    imbalance, moves = np.asarray(imbalance, dtype=np.float64), np.asarray(moves, dtype=np.float64)
    ok = (moves != 0) & np.isfinite(imbalance)
    return binned_mean(imbalance[ok], (moves[ok] > 0).astype(np.float64), np.linspace(-1, 1, bins + 1))


def slope(x: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Least-squares slope of y on x over the finite points; ``nan`` if fewer than 2 distinct x."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    ok = np.isfinite(x) & np.isfinite(y)
    w = np.ones(ok.sum()) if weights is None else np.asarray(weights, dtype=np.float64)[ok]
    x, y = x[ok], y[ok]
    if len(np.unique(x)) < 2 or w.sum() <= 0:
        return math.nan
    mx, my = np.average(x, weights=w), np.average(y, weights=w)
    return float(np.sum(w * (x - mx) * (y - my)) / np.sum(w * (x - mx) ** 2))


def price_impact(sizes: np.ndarray, signs: np.ndarray, mid_before: np.ndarray,
                 mid_after: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean signed mid move ``sign * (mid_after - mid_before)`` (price units) per distinct
    market-order size (lots): returns (sizes, mean impact, counts), sizes ascending."""
    sizes = np.asarray(sizes, dtype=np.int64)
    impact = np.asarray(signs, dtype=np.float64) * (np.asarray(mid_after, dtype=np.float64)
                                                     - np.asarray(mid_before, dtype=np.float64))
    ok = np.isfinite(impact)
    sizes, impact = sizes[ok], impact[ok]
    values, which = np.unique(sizes, return_inverse=True)
    counts = np.bincount(which, minlength=len(values))
    means = np.bincount(which, weights=impact, minlength=len(values)) / np.maximum(counts, 1)
    return values, means, counts


def loglog_slope(x: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Slope of log y on log x over points with x, y > 0 (``nan`` if < 2 such x): the
    exponent of a power law y ~ x^slope."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    ok = (x > 0) & (y > 0)
    w = None if weights is None else np.asarray(weights, dtype=np.float64)[ok]
    return slope(np.log(x[ok]), np.log(y[ok]), w)


def r_squared(x: np.ndarray, y: np.ndarray) -> float:
    """Share of the variance of y explained by a least-squares line on x (the squared
    correlation) over the finite points; ``nan`` if either has no variance. O(n)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 2:
        return math.nan
    dx, dy = x[ok] - x[ok].mean(), y[ok] - y[ok].mean()
    sxx, syy = float(np.dot(dx, dx)), float(np.dot(dy, dy))
    if sxx <= 0 or syy <= 0:
        return math.nan
    return float(np.dot(dx, dy)) ** 2 / (sxx * syy)


def coefficient_of_variation(x: np.ndarray) -> float:
    """Standard deviation over mean (1 for exponential waiting times, > 1 for bursts);
    ``nan`` for fewer than 2 values or a mean of 0."""
    x = np.asarray(x, dtype=np.float64)
    if len(x) < 2 or x.mean() == 0:
        return math.nan
    return float(x.std() / x.mean())


def wasserstein1(x: np.ndarray, y: np.ndarray) -> float:
    """Wasserstein-1 (earth mover's) distance between the empirical distributions of two
    samples: the area between their CDFs, in the samples' unit. ``nan`` if either is
    empty. O((n + m) log(n + m))."""
    x, y = np.sort(np.asarray(x, dtype=np.float64)), np.sort(np.asarray(y, dtype=np.float64))
    if len(x) == 0 or len(y) == 0:
        return math.nan
    grid = np.concatenate([x, y])
    grid.sort(kind="mergesort")
    cdf_x = np.searchsorted(x, grid[:-1], side="right") / len(x)
    cdf_y = np.searchsorted(y, grid[:-1], side="right") / len(y)
    return float(np.sum(np.abs(cdf_x - cdf_y) * np.diff(grid)))


def order_flow_imbalance(bid: np.ndarray, bid_qty: np.ndarray, ask: np.ndarray,
                         ask_qty: np.ndarray) -> np.ndarray:
    """Order-flow imbalance of each best-quote update (Cont, Kukanov & Stoikov 2014, eq. 2),
    in lots: bid-side lots added minus removed, minus the same on the ask side, between
    quotes ``n-1`` and ``n``. Entry 0, and updates with an empty side (``nan`` price), are 0.
    Summed over an interval it explains that interval's mid change. O(n)."""
    pb, qb = np.asarray(bid, dtype=np.float64), np.asarray(bid_qty, dtype=np.float64)
    pa, qa = np.asarray(ask, dtype=np.float64), np.asarray(ask_qty, dtype=np.float64)
    e = np.zeros(len(pb))
    if len(pb) < 2:
        return e
    with np.errstate(invalid="ignore"):
        e[1:] = (np.where(pb[1:] >= pb[:-1], qb[1:], 0) - np.where(pb[1:] <= pb[:-1], qb[:-1], 0)
                 - np.where(pa[1:] <= pa[:-1], qa[1:], 0) + np.where(pa[1:] >= pa[:-1], qa[:-1], 0))
    known = np.isfinite(pb) & np.isfinite(pa)
    e[1:][~(known[1:] & known[:-1])] = 0.0
    return e


def too_short(n: int) -> str:
    """What a statistic or verdict on too few samples says instead."""
    return f"too short (n={n})"


def horizon_label(horizon_s: float) -> str:
    """A horizon in seconds as a short label: "30s", "5min"."""
    return f"{horizon_s / 60:g}min" if horizon_s >= 60 else f"{horizon_s:g}s"


def jump_kurtosis(times_ns: np.ndarray, prices: np.ndarray, horizon_s: float,
                  start_ns: int, end_ns: int) -> float:
    """Excess kurtosis that ``horizon_s`` returns would have if the mid moved by the same
    jumps at the same average rate, but as a memoryless (compound Poisson) process:
    ``E[J^4] / (lambda E[J^2]^2)`` with ``lambda`` the mean number of mid changes per
    horizon and ``J`` the log changes. A tick-by-tick price has this much "heavy tail"
    from discreteness alone (1/lambda for one-tick jumps), so it is the null to beat."""
    jumps = np.diff(np.log(np.asarray(prices, dtype=np.float64)))
    jumps = jumps[np.isfinite(jumps) & (jumps != 0)]
    duration_s = (end_ns - start_ns) / NS_PER_SECOND
    if len(jumps) == 0 or duration_s <= 0:
        return math.nan
    rate = len(jumps) * horizon_s / duration_s
    return float(np.mean(jumps ** 4) / (rate * np.mean(jumps ** 2) ** 2))


