"""Stylized facts as numbers, computed the same way on simulated and real run data.

Each fact is one function registered in :data:`FACTS` with the fewest samples it needs and
a tolerance (how close the simulated value must be to the real one to count as ``close``):
``rel`` (|sim - real| <= tol * |real|), ``abs`` (|sim - real| <= tol) or ``factor`` (same
sign and within a factor tol). The tolerances follow the targets of issue 16. A new fact is
one decorated function here plus its test.

The facts: mean spread; event inter-arrival CV (1 for Poisson arrivals); limit order size
mean, CV and round-lot share; market order size mean; lag-1 autocorrelation of mid log
returns at 1 s, 10 s and 60 s; their excess kurtosis (heavy tails by horizon); volatility
clustering (mean autocorrelation of |1 s returns| at lags 1-10), and by how much it
exceeds its noise band 2/sqrt(n); trade-sign autocorrelation
at lags 1 and 10 and its power-law exponent (C(l) ~ l^-gamma, Lillo & Farmer 2004); the R^2
of mid changes on order-flow imbalance over 1 s and 10 s (Cont, Kukanov & Stoikov 2014);
the mean immediate impact of a market order and its exponent in the order's size; cancels
at the best per market order.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from lobsim.analysis import metrics
from lobsim.analysis.metrics import too_short
from lobsim.analysis import samples
from lobsim.data.rundata import RunData

#: Lags of the trade-sign autocorrelation fitted by a power law: 1 to this (at most n/4).
SIGN_FIT_MAX_LAG = 100
#: Fewest positive autocorrelations for the power-law fit.
SIGN_FIT_MIN_POINTS = 5
ROUND_LOT = 100  #: shares in a round lot (US equities)
IMPACT_MIN_COUNT = 5  #: fewest market orders of one size for its mean impact to be fitted


@dataclass(frozen=True)
class Statistic:
    """One fact's value on one side, with the number of samples it rests on."""

    value: float
    n: int
    min_n: int

    @property
    def enough(self) -> bool:
        return self.n >= self.min_n and bool(np.isfinite(self.value))

    def text(self) -> str:
        """The value and its sample count; ``too short (n=...)`` below ``min_n``; ``n/a`` when
        undefined on enough samples (no quotes, no variance)."""
        if self.n < self.min_n:
            return too_short(self.n)
        return f"{self.value:.4g} (n={self.n})" if self.enough else f"n/a (n={self.n})"

    def as_dict(self) -> dict[str, float | int | str | None]:
        return {"value": float(self.value) if self.enough else None, "n": self.n, "min_n": self.min_n,
                "text": self.text()}


@dataclass(frozen=True)
class Fact:
    """A registered fact: its function of :class:`Series`, returning (value, samples)."""

    name: str
    compute: Callable[[Series], tuple[float, int]]
    min_n: int
    rule: str  #: "rel", "abs" or "factor"
    tolerance: float

    def tolerance_text(self) -> str:
        return {"rel": f"within {self.tolerance:.0%}", "abs": f"within +-{self.tolerance:g}",
                "factor": f"within a factor {self.tolerance:g}"}[self.rule]


def agreement(fact: Fact, real: Statistic, simulated: Statistic) -> str:
    """``close`` when the simulated value is within the fact's tolerance of the real one,
    ``far`` when not, ``too short`` when either side has too few samples, ``n/a`` when
    either value is undefined."""
    if real.n < real.min_n or simulated.n < simulated.min_n:
        return "too short"
    if not (real.enough and simulated.enough):
        return "n/a"
    r, s, tol = real.value, simulated.value, fact.tolerance
    if fact.rule == "rel":
        ok = abs(s - r) <= tol * abs(r)
    elif fact.rule == "abs":
        ok = abs(s - r) <= tol
    else:
        ok = r * s > 0 and max(s / r, r / s) <= tol
    return "close" if ok else "far"


class Series:
    """The series facts share, computed once per run data when first asked for."""

    def __init__(self, data: RunData) -> None:
        self.data = data
        self._returns: dict[float, np.ndarray] = {}

    def returns(self, horizon_s: float) -> np.ndarray:
        """Mid log returns sampled every ``horizon_s`` s over the whole span."""
        if horizon_s not in self._returns:
            d = self.data
            self._returns[horizon_s] = (metrics.horizon_returns(d.t, d.mid, horizon_s, 0, d.duration_ns)
                                        if len(d.t) else np.zeros(0))
        return self._returns[horizon_s]

    @cached_property
    def limit_sizes(self) -> np.ndarray:
        return samples.limit_sizes(self.data)

    @cached_property
    def signs(self) -> np.ndarray:
        return np.asarray(self.data.trade_sign, dtype=np.float64)

    @cached_property
    def ofi(self) -> np.ndarray:
        d = self.data
        return np.cumsum(metrics.order_flow_imbalance(d.bid, d.bid_qty, d.ask, d.ask_qty))


@dataclass
class Registry:
    """The facts, in the order they are shown."""

    facts: list[Fact] = field(default_factory=list)

    def register(self, name: str, min_n: int, rule: str, tolerance: float) -> Callable:
        def add(compute: Callable[[Series], tuple[float, int]]) -> Callable[[Series], tuple[float, int]]:
            self.facts.append(Fact(name, compute, min_n, rule, tolerance))
            return compute
        return add

    def compute(self, data: RunData) -> dict[str, Statistic]:
        """Every fact on ``data``: name -> :class:`Statistic`."""
        series = Series(data)
        out = {}
        for fact in self.facts:
            value, n = fact.compute(series)
            out[fact.name] = Statistic(float(value), int(n), fact.min_n)
        return out


FACTS = Registry()
MIN_N = metrics.MIN_RETURNS


def _mean(x: np.ndarray) -> tuple[float, int]:
    return (float(np.mean(x)) if len(x) else math.nan), len(x)


@FACTS.register("mean spread (ticks)", MIN_N, "rel", 0.3)
def mean_spread(s: Series) -> tuple[float, int]:
    return _mean(samples.spread(s.data))


@FACTS.register("event inter-arrival CV", MIN_N, "rel", 0.3)
def inter_arrival_cv(s: Series) -> tuple[float, int]:
    gaps = samples.inter_arrival(s.data)
    return metrics.coefficient_of_variation(gaps), len(gaps)


@FACTS.register("limit order size mean (lots)", MIN_N, "rel", 0.3)
def limit_size_mean(s: Series) -> tuple[float, int]:
    return _mean(s.limit_sizes)


@FACTS.register("limit order size CV", MIN_N, "rel", 0.4)
def limit_size_cv(s: Series) -> tuple[float, int]:
    return metrics.coefficient_of_variation(s.limit_sizes), len(s.limit_sizes)


@FACTS.register(f"limit orders in round lots ({ROUND_LOT})", MIN_N, "abs", 0.1)
def round_lots(s: Series) -> tuple[float, int]:
    return _mean((s.limit_sizes % ROUND_LOT == 0).astype(np.float64))


@FACTS.register("market order size mean (lots)", MIN_N, "rel", 0.3)
def market_size_mean(s: Series) -> tuple[float, int]:
    return _mean(samples.market_sizes(s.data))


def _return_acf(horizon_s: float) -> Callable[[Series], tuple[float, int]]:
    def compute(s: Series) -> tuple[float, int]:
        r = s.returns(horizon_s)
        return float(metrics.autocorrelation(r, [1])[0]), len(r)
    return compute


def _kurtosis(horizon_s: float) -> Callable[[Series], tuple[float, int]]:
    def compute(s: Series) -> tuple[float, int]:
        r = s.returns(horizon_s)
        return metrics.excess_kurtosis(r), len(r)
    return compute


for _h in (1.0, 10.0, 60.0):
    FACTS.register(f"return ACF lag 1, {metrics.horizon_label(_h)}", MIN_N, "abs", 0.1)(_return_acf(_h))
for _h in (1.0, 10.0, 60.0):
    FACTS.register(f"excess kurtosis, {metrics.horizon_label(_h)}", MIN_N, "factor", 2.0)(_kurtosis(_h))


@FACTS.register("volatility clustering (ACF |r 1s|, lags 1-10)", MIN_N, "abs", 0.02)
def volatility_clustering(s: Series) -> tuple[float, int]:
    r = np.abs(s.returns(1.0))
    acf = autocorrelations(r, range(1, 11))
    return (float(np.nanmean(acf)) if np.isfinite(acf).any() else math.nan), len(r)


@FACTS.register("volatility clustering above its band 2/sqrt(n)", MIN_N, "abs", 0.02)
def clustering_above_band(s: Series) -> tuple[float, int]:
    """The clustering fact minus its noise band 2/sqrt(n) (n: 1 s returns): positive when
    the clustering is above what n independent returns would show by chance."""
    value, n = volatility_clustering(s)
    return (value - 2 / math.sqrt(n) if n else math.nan), n


def autocorrelations(x: np.ndarray, lags: range) -> np.ndarray:
    """:func:`metrics.autocorrelation`, all ``nan`` for a series shorter than its lags."""
    return metrics.autocorrelation(x, list(lags)) if len(x) > lags[-1] else np.full(len(lags), np.nan)


@FACTS.register("trade-sign ACF lag 1", MIN_N, "abs", 0.1)
def sign_acf_1(s: Series) -> tuple[float, int]:
    return float(metrics.autocorrelation(s.signs, [1])[0]), len(s.signs)


@FACTS.register("trade-sign ACF lag 10", 5 * MIN_N, "abs", 0.05)
def sign_acf_10(s: Series) -> tuple[float, int]:
    return float(metrics.autocorrelation(s.signs, [10])[0]), len(s.signs)


@FACTS.register("trade-sign ACF power-law exponent", 10 * MIN_N, "abs", 0.3)
def sign_exponent(s: Series) -> tuple[float, int]:
    """gamma of C(l) ~ l^-gamma, fitted on log-spaced lags 1..min(100, n/4) with C > 0."""
    return sign_acf_exponent(s.signs), len(s.signs)


def sign_acf_exponent(signs: np.ndarray) -> float:
    """The power-law decay exponent of the autocorrelation of ``signs`` (``nan`` with fewer
    than :data:`SIGN_FIT_MIN_POINTS` positive lags)."""
    top = min(SIGN_FIT_MAX_LAG, len(signs) // 4)
    if top < SIGN_FIT_MIN_POINTS:
        return math.nan
    lags = np.unique(np.geomspace(1, top, 20).astype(int))
    acf = metrics.autocorrelation(signs, list(lags))
    if np.count_nonzero(acf > 0) < SIGN_FIT_MIN_POINTS:
        return math.nan
    return -metrics.loglog_slope(lags, acf)


def _ofi_r2(horizon_s: float) -> Callable[[Series], tuple[float, int]]:
    def compute(s: Series) -> tuple[float, int]:
        d = s.data
        step = round(horizon_s * metrics.NS_PER_SECOND)
        grid = np.arange(0, d.duration_ns + 1, step, dtype=np.int64)
        if len(grid) < 2 or not len(d.t):
            return math.nan, 0
        flow = np.nan_to_num(metrics.sample_last(d.t, s.ofi, grid))  # nothing yet: 0
        move = np.diff(metrics.sample_last(d.t, d.mid, grid))
        ok = np.isfinite(move)
        return metrics.r_squared(np.diff(flow)[ok], move[ok]), int(ok.sum())
    return compute


for _h in (1.0, 10.0):
    FACTS.register(f"order-flow imbalance R^2, {metrics.horizon_label(_h)}", MIN_N, "abs", 0.1)(_ofi_r2(_h))


@FACTS.register("mean impact of a market order (ticks)", MIN_N, "factor", 2.0)
def mean_impact(s: Series) -> tuple[float, int]:
    return _mean(samples.impacts(s.data))


@FACTS.register("impact exponent in order size", MIN_N, "abs", 0.2)
def impact_exponent(s: Series) -> tuple[float, int]:
    """Log-log slope of the mean impact against the order's size, over the sizes seen at
    least :data:`IMPACT_MIN_COUNT` times with a positive mean (concave impact: in (0, 1))."""
    d = s.data
    sizes, means, counts = metrics.price_impact(d.trade_size, d.trade_sign, d.impact_before, d.impact_after)
    keep = (counts >= IMPACT_MIN_COUNT) & (means > 0)
    if np.count_nonzero(keep) < 2:
        return math.nan, int(counts[keep].sum())
    return metrics.loglog_slope(sizes[keep], means[keep], counts[keep]), int(counts[keep].sum())


@FACTS.register("cancels at the best per market order", MIN_N, "factor", 2.0)
def cancels_per_market_order(s: Series) -> tuple[float, int]:
    """``nan`` when no cancel has a known best before it (no quotes)."""
    n = len(s.signs)
    at_best, known = samples.cancels_at_best(s.data)
    return (at_best / n if n and known else math.nan), n
